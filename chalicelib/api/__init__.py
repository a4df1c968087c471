"""The synchronous edge: HTTP helpers, error mapping and the OpenAPI document (routes live in app.py)."""
