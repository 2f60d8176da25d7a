"""Shared schema pieces: strict inputs (unknown fields raise; no type coercion), districts."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate


class Input(Schema):
    """Every request body: unknown fields (``balance``, ``role``, ``owner_id``…) are an error."""

    class Meta:
        unknown = RAISE


class Output(Schema):
    """Every response body. Its fields are always present, so the OpenAPI document marks them all required
    (``mobile_api.openapi``); a field that may be left out says ``metadata={"optional": True}``."""


class NoBody(Input):
    """For unsafe endpoints that take no fields: any field sent is an error, an empty body is fine."""


def strict_int(**kwargs) -> fields.Integer:
    """An integer that refuses ``"1"``, ``1.5`` and ``true``."""
    return fields.Integer(strict=True, **kwargs)


def text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class DistrictSchema(Output):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
