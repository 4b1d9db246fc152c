"""Framework-free core shared by the legacy Flask app, the v2 FastAPI app and the gateway.

Nothing in this package may import flask or fastapi (ruff's TID251 enforces it).
"""
