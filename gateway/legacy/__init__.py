"""The legacy WSGI app: its mount and the OpenAPI read from its url map."""
