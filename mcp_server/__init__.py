"""The MCP server: tools and resources over the same use cases and permissions as the HTTP API."""

NAME = "agentmem"
INSTRUCTIONS = (
    "AgentMem stores what agents and their users said and learned. Use search_memories before answering "
    "questions about the user, add_memory for facts worth keeping, and the core_memory tools for an agent's blocks."
)
