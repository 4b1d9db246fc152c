"""The two sides as the gateway serves them: the legacy WSGI app and the v2 ASGI app, each
decided once at load time (:mod:`gateway.mounts.sides`)."""
