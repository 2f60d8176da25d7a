"""Shared schema pieces: strict inputs (unknown fields raise; no type coercion), districts."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from carbon_platform.models.base import MAX_INT32, MAX_INT64, MIN_INT32, MIN_INT64

#: Times a request may name: wide enough for any real action or report period, narrow enough that moving one
#: between time zones (UTC, Beijing, the sender's ±14 h) never leaves the years 1 to 9999 Python can hold.
MIN_YEAR, MAX_YEAR = 2000, 2100


class NoNul(validate.Validator):
    """Refuses NUL characters: PostgreSQL's text and JSON columns cannot hold them."""

    error = "NUL characters are not allowed."

    def __call__(self, value: str) -> str:
        if "\x00" in value:
            raise ValidationError(self.error)
        return value


class SaneYear(validate.Validator):
    """Refuses datetimes outside MIN_YEAR..MAX_YEAR (year 1 or 9999 with an offset overflows in conversion)."""

    error = f"Must be between the years {MIN_YEAR} and {MAX_YEAR}."

    def __call__(self, value):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValidationError(self.error)
        return value


def harden(field: fields.Field) -> None:
    """Add the bounds every input of its type needs, whatever the schema says: strings without NUL, integers
    their column can store (32-bit, or 64-bit for a field whose metadata says ``"format": "int64"``; documented
    as the OpenAPI minimum and maximum), sane years; inside lists,
    tuples and dicts too (nested schemas are ``Input`` and harden their own fields)."""
    if isinstance(field, fields.String):
        field.validators.append(NoNul())
    elif isinstance(field, fields.Integer):  # an Integer column unless documented as int64 (a BigInt one)
        wide = field.metadata.get("format") == "int64"
        field.validators.append(validate.Range(min=MIN_INT64 if wide else MIN_INT32,
                                               max=MAX_INT64 if wide else MAX_INT32))
    elif isinstance(field, (fields.DateTime, fields.Date)):  # and AwareDateTime, NaiveDateTime
        field.validators.append(SaneYear())
    elif isinstance(field, fields.List):
        harden(field.inner)
    elif isinstance(field, fields.Tuple):
        for inner in field.tuple_fields:
            harden(inner)
    elif isinstance(field, fields.Mapping):
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                harden(inner)


class Input(Schema):
    """Every request body and query: unknown fields (``balance``, ``role``, ``owner_id``…) are an error, and every
    field is bounded to what the platform can store (``harden``), so bad input is a 422, never a 500."""

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        harden(field_obj)  # a bound field is this instance's own copy: the declared one is left alone


class Output(Schema):
    """Every response body. Its fields are always present, so the OpenAPI document marks them all required
    (``mobile_api.openapi``); a field that may be left out says ``metadata={"optional": True}``."""


class Shown:
    """A model as one response shows it: the schema reads the values given here first (a replay flag, a release
    time read for a whole page), then the model's own attributes. Views return models, or ``Shown`` models, and
    their schemas say what each field is; no view builds the response's dictionary."""

    __slots__ = ("_model", "_extra")

    def __init__(self, model, **extra):
        self._model, self._extra = model, extra

    def __getattr__(self, name: str):
        try:
            return self._extra[name]
        except KeyError:
            return getattr(self._model, name)


class Grouped(fields.Nested):
    """A nested schema over the same object: some of its attributes shown together under one key."""

    def get_value(self, obj, attr, accessor=None, default=None):
        return obj


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
