"""One JSON error shape for every /api/ response; other paths keep their HTML errors.

    {"error": {"status": 422, "code": "validation_error", "message": "…", "details": {…}}}
"""

from __future__ import annotations

from flask import jsonify, request
from flask_smorest import Api as SmorestApi
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from carbon_platform.errors import DomainError
from carbon_platform.throttle import retry_after_seconds

API_PREFIX = "/api/"

#: Stable codes for the HTTP errors the framework raises by itself.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorBodySchema(Schema):
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "Stable machine-readable error code."})
    message = fields.String(required=True)
    details = fields.Dict(metadata={"description": "Field errors or other context."})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, code: str, message: str, details: dict | None = None, headers=None):
    body = {"error": {"status": status, "code": code, "message": message, "details": details or {}}}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Api(SmorestApi):
    """flask-smorest's Api, answering in our error shape and only for /api/ paths."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        if not is_api_request():
            return error  # the admin console and other pages keep Flask's HTML errors
        data = getattr(error, "data", None) or {}
        details = data.get("errors") or data.get("messages") or {}
        if error.code == 400 and "json" in details:
            code, message = "malformed_json", "The request body is not valid JSON."
        else:
            code = HTTP_CODES.get(error.code, "http_error")
            message = data.get("message") or error.description or error.name
        if error.code >= 500:
            message = "Internal error."  # never leak internals
        headers = dict(data.get("headers") or {})
        if error.code == 429:
            headers.update(retry_after_header(error))
        response = error_response(error.code, code, message, details, headers)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response


def retry_after_header(error: Exception) -> dict:
    """``Retry-After`` for a 429 (Flask-Limiter's, or a DomainError with a ``retry_after`` in seconds)."""
    seconds = retry_after_seconds(error)
    return {"Retry-After": str(seconds)} if seconds is not None else {}


def handle_domain_error(error: DomainError):
    if is_api_request():
        headers = retry_after_header(error) if error.status == 429 else None
        return error_response(error.status, error.code, error.message, error.details, headers)
    # Pages handle their domain errors themselves; one that escapes becomes a plain HTML error.
    return default_exceptions.get(error.status, InternalServerError)(description=error.message)


def register(app) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
