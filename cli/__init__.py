"""The `agentmem` command."""

from agentmem.cli.main import main

__all__ = ["main"]
