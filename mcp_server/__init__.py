"""The MCP server: tools and resources over the same use cases and permissions as the HTTP API."""
