"""AgentMem's Python client: `AgentMem` (sync), `AsyncAgentMem`, and the mem0-style `Memory` facade."""

from agentmem_client._async.client import AsyncAgentMem
from agentmem_client._async.facade import AsyncMemory
from agentmem_client._params import NOT_GIVEN
from agentmem_client._sync.client import AgentMem
from agentmem_client._sync.facade import Memory
from agentmem_client.errors import (
    AgentMemError,
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnavailableError,
    ValidationError,
)

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "AgentMem",
    "AgentMemError",
    "AsyncAgentMem",
    "AsyncMemory",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "FieldError",
    "Memory",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnavailableError",
    "ValidationError",
]
