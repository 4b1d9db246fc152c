"""The server's edge: the guarded uvicorn protocol, size limits, singleton headers and the
gateway's own error bodies."""
