"""The one rule for free-form metadata on memories, blocks and agents: a JSON object of at most 16 KiB."""

from __future__ import annotations

import json
from typing import Any

from agentmem.domain.errors import InvalidInput

MAX_METADATA_BYTES = 16_384


def check_metadata(metadata: Any, error: type[InvalidInput] = InvalidInput) -> dict[str, Any]:
    """The metadata if it is a JSON object within MAX_METADATA_BYTES; otherwise `error` naming `metadata`."""
    if not isinstance(metadata, dict):
        raise error("metadata", "metadata must be a JSON object")
    size = len(json.dumps(metadata, separators=(",", ":"), default=str).encode())
    if size > MAX_METADATA_BYTES:
        raise error("metadata", f"metadata is {size} bytes as JSON; the limit is {MAX_METADATA_BYTES}")
    return metadata
