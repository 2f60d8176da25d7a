"""Banks by consent (issue #18 item 7): the institutions an enterprise can let in, its grants, and its access log."""

from marshmallow import fields, validate

from mobile_api.schemas.common import Input, Output, strict_int


class InstitutionSchema(Output):
    id = fields.Integer()
    name = fields.String()


class GrantCreateSchema(Input):
    institution_id = strict_int(required=True, validate=validate.Range(min=1), metadata={
        "description": "One of GET /api/v1/enterprise/banks"})
    until = fields.Date(required=True, metadata={
        "description": "The last day of access (Beijing time, inclusive): from today to 3 years ahead"})


class GrantSchema(Output):
    id = fields.Integer()
    institution = fields.Nested(InstitutionSchema)
    until = fields.Date(metadata={"description": "the last day of access, Beijing time, inclusive"})
    expires_at = fields.DateTime(metadata={"description": "the moment access ends (the start of the next Beijing day)"})
    granted_at = fields.DateTime(attribute="created_at")
    revoked_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the enterprise revoked it, or granted the same bank again (which ends the earlier grant)"})
    live = fields.Boolean(metadata={"description": "whether the bank can see the enterprise now"})


class AccessLogQuerySchema(Input):
    # A query string: "12" is the only way to say 12 (a strict integer would refuse every id given).
    before_id = fields.Integer(load_default=None, validate=validate.Range(min=1), metadata={
        "description": "The page after: the smallest id of the page before"})


class AccessLogEntrySchema(Output):
    id = fields.Integer()
    at = fields.DateTime(attribute="occurred_at")
    what = fields.String(metadata={"description": "grant, revoke, or view (a bank's staff opened something)"})
    institution = fields.String(allow_none=True, metadata={"description": "the bank's name"})
    institution_id = fields.Integer(allow_none=True)
    staff = fields.String(allow_none=True, metadata={
        "description": "the bank staff member's console login, for a view"})
    view = fields.String(allow_none=True, metadata={
        "description": "for a view: enterprise (its page: grades and statements), statement_pdf or statement_json"})
    serial = fields.String(allow_none=True, metadata={"description": "the statement a download was of"})
