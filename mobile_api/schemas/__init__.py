"""Marshmallow schemas of the /api/v1 requests and responses (they are also the OpenAPI document)."""
