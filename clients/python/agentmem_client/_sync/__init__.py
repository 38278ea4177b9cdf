# Generated from agentmem_client/_async by generate_sync.py: edit the async source, then regenerate.
"""The async client: the one hand-written source of both clients (the sync one is generated from it)."""
