"""The legacy WSGI app: its bridge, environ fixes, admission and CPU share."""
