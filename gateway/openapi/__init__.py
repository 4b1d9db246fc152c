"""The gateway's OpenAPI: the merged document, the Flask url-map reader, the offline pages."""
