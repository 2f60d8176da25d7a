"""What makes the generated OpenAPI document exact enough for a generated client to be typed.

apispec's defaults describe a nullable nested object as "any object, or the real model" (so generators pick
"any object"), give ``fields.Constant`` no type, mark no response field required and give no operation an
``operationId``. Each rule is fixed here, in one place, for every schema and every view:

- response schemas derive from ``schemas.common.Output``: all their fields are always present, so all are
  ``required`` (a field that may be left out says ``metadata={"optional": True}``);
- a nullable nested object is ``allOf: [$ref], nullable: true``, OpenAPI 3.0's way to say "this model or null";
- a constant has the type and the single value of its constant;
- every operation's ``operationId`` is its endpoint, ``<blueprint>_<view function>``.
"""

from __future__ import annotations

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_instance
from marshmallow import fields

from mobile_api.schemas.common import Output

#: JSON types of the values a ``fields.Constant`` may hold.
CONSTANT_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


class ExactConverter(OpenAPIConverter):
    def init_attribute_functions(self, *args, **kwargs):
        super().init_attribute_functions(*args, **kwargs)
        self.add_attribute_function(constant2type)

    def field2nullable(self, field, ret) -> dict:
        if field.allow_none and "$ref" in ret and self.openapi_version.major == 3 and self.openapi_version.minor < 1:
            return {"allOf": [{"$ref": ret.pop("$ref")}], "nullable": True}
        return super().field2nullable(field, ret)

    def schema2jsonschema(self, schema):
        jsonschema = super().schema2jsonschema(schema)
        instance = resolve_schema_instance(schema)
        if isinstance(instance, Output):
            always = {field.data_key or name for name, field in instance.fields.items()
                      if not field.metadata.get("optional")}
            if always:
                jsonschema["required"] = sorted(always | set(jsonschema.get("required", ())))
        return jsonschema


def constant2type(self, field, ret=None, **_kwargs) -> dict:
    """``fields.Constant("Bearer")`` is ``{"type": "string", "enum": ["Bearer"]}``, not an untyped default."""
    if isinstance(field, fields.Constant) and type(field.constant) in CONSTANT_TYPES:
        return {"type": CONSTANT_TYPES[type(field.constant)], "enum": [field.constant]}
    return {}


class ExactMarshmallowPlugin(MarshmallowPlugin):
    Converter = ExactConverter


class OperationIds(BasePlugin):
    """``operationId`` from the Flask endpoint (``rewards.redeem`` → ``rewards_redeem``), which Flask keeps
    unique; an endpoint serving several methods gets the method appended."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        base = rule.endpoint.replace(".", "_")
        for method, operation in operations.items():
            operation.setdefault("operationId", base if len(operations) == 1 else f"{base}_{method}")


def spec_kwargs(**extra) -> dict:
    """flask-smorest's ``spec_kwargs`` with the plugins above."""
    return {"marshmallow_plugin": ExactMarshmallowPlugin(), "extra_plugins": [OperationIds()], **extra}


def pagination_header() -> dict:
    """The ``X-Pagination`` header: a JSON text (not an object), whose content is the pagination metadata."""
    from flask_smorest.pagination import PaginationMetadataSchema

    # OpenAPI 3.0: a header described by ``content`` (never beside ``schema``) is serialised as that media type.
    return {"description": "Pagination metadata, as a JSON text.",
            "content": {"application/json": {"schema": PaginationMetadataSchema}}}
