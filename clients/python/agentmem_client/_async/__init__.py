"""The async client: the one hand-written source of both clients (the sync one is generated from it)."""
