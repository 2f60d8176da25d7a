"""An enterprise's industry, sites and energy reports with the emissions computed from them (issue #18)."""

from decimal import Decimal

from marshmallow import ValidationError, fields, validate, validates_schema

from carbon_platform.services.energy_reports import MAX_KWH, MAX_NOTE, MAX_QUANTITY
from mobile_api.schemas.common import Input, Output, strict_int, text

INT64 = {"format": "int64"}


def kwh(description: str) -> fields.Integer:
    return strict_int(load_default=0, validate=validate.Range(min=0, max=MAX_KWH),
                      metadata={**INT64, "description": description})


def _within_bounds(value: Decimal) -> None:
    if not 0 <= value <= MAX_QUANTITY:
        raise ValidationError(f"Must be from 0 to {MAX_QUANTITY}.")


def quantity(description: str, **kwargs) -> fields.Decimal:
    """A non-negative decimal (a JSON number or a decimal string), never NaN or Infinity. The bounds are checked by
    a plain function and documented as numbers (apispec would write a Decimal Range's bounds as strings)."""
    return fields.Decimal(allow_nan=False, validate=_within_bounds, metadata={
        "description": description, "minimum": 0, "maximum": int(MAX_QUANTITY)}, **kwargs)


class IndustrySchema(Output):
    code = fields.String(metadata={"description": "GB/T 4754-2017 大类 (division), e.g. 30"})
    name_zh = fields.String()
    name_en = fields.String()


class FuelSchema(Output):
    kind = fields.String(metadata={"description": "the key to report it under in fuels"})
    name_zh = fields.String()
    name_en = fields.String()
    unit = fields.String(metadata={"description": "the unit its quantity is reported in (t or Nm3)"})


class ReportingSchema(Output):
    """What a report may contain: the fuels of the factor registry in force and their units."""

    registry_version = fields.String()
    method = fields.String()
    fuels = fields.List(fields.Nested(FuelSchema))


class SiteCreateSchema(Input):
    name = text(64, required=True, metadata={"description": "e.g. 一号熟料线, 总部办公楼"})


class SiteSchema(Output):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()


class ActivitySchema(Input):
    electricity_kwh = kwh("Purchased electricity, whole kWh.")
    green_kwh = kwh("Of electricity_kwh, bought with green certificates (绿证); counts zero.")
    heat_gj = quantity("Purchased heat or steam, GJ.", load_default=0)
    fuels = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=32)),
                        values=quantity("in the fuel's unit (GET /api/v1/enterprise/reporting)"),
                        load_default=dict, validate=validate.Length(max=30),
                        metadata={"description": "Fuel kind → quantity, e.g. {\"raw_coal\": \"1000\"}."})


class ReportCreateSchema(ActivitySchema):
    site_id = strict_int(required=True)
    year = strict_int(required=True)
    month = strict_int(load_default=None, allow_none=True, metadata={
        "description": "1–12 for a month; absent or null for the whole year."})


class CorrectionSchema(ActivitySchema):
    note = text(MAX_NOTE, required=True, metadata={"description": "Why the report is corrected."})


class ReportQuerySchema(Input):
    # A query string: "2025" is the only way to say 2025 (a strict integer refused every year given).
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))


class InputsSchema(Output):
    electricity_kwh = fields.Integer(metadata=INT64)
    green_kwh = fields.Integer(metadata=INT64)
    heat_gj = fields.String(metadata={"description": "decimal text"})
    fuels = fields.Dict(keys=fields.String(), values=fields.String())


class VersionSchema(Output):
    """An ``EnergyReportVersion``: what the report said then, and the emissions computed from it."""

    number = fields.Integer(metadata={"description": "1 for the report as first submitted; each correction adds one"})
    submitted_at = fields.DateTime()
    note = fields.String(metadata={"description": "why it was corrected (empty for the first)"})
    inputs = fields.Nested(InputsSchema)
    registry_version = fields.String()
    computed_on = fields.Date(metadata={"description": "the Beijing day the factors in force were chosen for"})
    scope1_kg = fields.Integer(metadata={**INT64, "description": "fuel combustion, kg CO2"})
    scope2_kg = fields.Integer(metadata={**INT64, "description": "purchased electricity and heat, kg CO2"})
    total_kg = fields.Integer(metadata=INT64)


class VersionDetailSchema(VersionSchema):
    receipt = fields.Dict(metadata={"description": "inputs, each factor with its source, table and year, the "
                                                   "steps and the rounding (emissions.calculate)"})


class ReportSchema(Output):
    """An ``EnergyReport`` with its current version (and its receipt) and every version's figures."""

    id = fields.Integer(metadata=INT64)
    site = fields.Nested(SiteSchema)
    year = fields.Integer()
    month = fields.Integer(allow_none=True)
    period = fields.String(metadata={"description": "2025-03, or 2025 for a whole year"})
    current = fields.Nested(VersionDetailSchema)
    versions = fields.List(fields.Nested(VersionSchema))


class ReportSummarySchema(Output):
    id = fields.Integer(metadata=INT64)
    site = fields.Nested(SiteSchema)
    period = fields.String()
    version = fields.Integer(attribute="current.number")
    total_kg = fields.Integer(attribute="current.total_kg", metadata=INT64)
    scope1_kg = fields.Integer(attribute="current.scope1_kg", metadata=INT64)
    scope2_kg = fields.Integer(attribute="current.scope2_kg", metadata=INT64)


class OutputCreateSchema(Input):
    year = strict_int(required=True)
    output_wan = fields.Decimal(allow_nan=False, required=True, metadata={
        "description": "Output value (工业总产值) of the year in ¥10,000 (万元), at most four decimal places."})
    note = fields.String(load_default="", validate=validate.Length(max=MAX_NOTE), metadata={
        "description": "Why, when it corrects an earlier declaration (then required)."})


class OutputSchema(Output):
    year = fields.Integer()
    number = fields.Integer(metadata={"description": "1 for the first declaration; each correction adds one"})
    output_yuan = fields.Integer(metadata={**INT64, "description": "whole yuan"})
    submitted_at = fields.DateTime()
    note = fields.String()


class GradeSchema(Output):
    grade = fields.Integer(metadata={"description": "1 (best) to 5"})
    name_zh = fields.String()
    name_en = fields.String()


class YearSchema(Output):
    """``energy_reports.YearFigures``: the year's emissions, intensity against the industry, and the grade."""

    year = fields.Integer()
    emissions_kg = fields.Integer(attribute="total.kg", metadata={
        **INT64, "description": "the current versions of the year's reports, kg CO2"})
    complete = fields.Boolean(attribute="total.complete", metadata={
        "description": "every site reported every month (or the whole year)"})
    output_yuan = fields.Integer(attribute="total.output_yuan", allow_none=True, metadata=INT64)
    intensity = fields.String(allow_none=True, metadata={
        "description": "kg CO2 per ¥10,000 of output, three decimals rounded up"})
    benchmark = fields.String(allow_none=True, metadata={
        "description": "the industry's intensity in Tai'an; null with fewer comparable accounts than the minimum"})
    peers = fields.Integer(metadata={"description": "comparable accounts of the industry, this one among them"})
    value = fields.String(allow_none=True, metadata={
        "description": "carbon-efficiency value: benchmark / intensity (1 = the industry's average; higher is "
                       "better), three decimals rounded down"})
    grade = fields.Nested(GradeSchema, allow_none=True)
    change = fields.String(allow_none=True, metadata={
        "description": "intensity against the year before, percent (negative: lower, better)"})
    receipt = fields.Dict()


# -- statements (issue #18 item 6) --------------------------------------------------------------------------------

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="A month written YYYY-MM.")


class StatementCreateSchema(Input):
    """A calendar year (``year``), or any months from ``period_from`` to ``period_to``: one or the other."""

    year = strict_int(load_default=None, validate=validate.Range(min=2000, max=2100), metadata={
        "description": "A whole calendar year: the statement then carries the intensity and the grade."})
    period_from = fields.String(load_default=None, validate=MONTH, metadata={"description": "First month, YYYY-MM"})
    period_to = fields.String(load_default=None, validate=MONTH, metadata={"description": "Last month, YYYY-MM"})

    @validates_schema
    def _one_kind(self, data, **_kwargs):
        months = data["period_from"] is not None or data["period_to"] is not None
        if (data["year"] is None) == (not months) or (months and None in (data["period_from"], data["period_to"])):
            raise ValidationError("Give either year, or both period_from and period_to.", field_name="year")


class StatementStatusSchema(Output):
    current = fields.Boolean(metadata={"description": "still what the account says"})
    reason = fields.String(allow_none=True, metadata={
        "description": "why not: later_statement (a later one covers the period) or corrected (a report or output "
                       "value it was made from was corrected since)"})
    superseded_by = fields.String(allow_none=True, metadata={"description": "the later statement's serial"})


class StatementSummarySchema(Output):
    serial = fields.String()
    period_from = fields.String()
    period_to = fields.String()
    issued_at = fields.DateTime()
    digest = fields.String(metadata={"description": "SHA-256 of the signed document, hex"})
    total_kg = fields.Integer(attribute="document.emissions.total_kg", metadata=INT64)
    status = fields.Nested(StatementStatusSchema)


class SignatureSchema(Output):
    algorithm = fields.String()
    key_id = fields.String()
    value = fields.String(metadata={"description": "Ed25519 signature, base64"})
    digest_sha256 = fields.String()
    signed_bytes = fields.String()


class StatementDownloadSchema(Input):
    """The JSON download as the enterprise received it."""

    statement = fields.Dict(required=True, metadata={"description": "the document as signed"})
    signature = fields.Dict(required=True)


class StatementSchema(Output):
    statement = fields.Dict(metadata={"description": "the document as signed: every figure and what it was made "
                                                     "from (report versions with their inputs)"})
    signature = fields.Nested(SignatureSchema)
    status = fields.Nested(StatementStatusSchema)


class StatementCheckSchema(Output):
    """What the public check gives: enough to compare a statement in hand, nothing more."""

    genuine = fields.Boolean(metadata={"description": "issued by this platform with exactly this content"})
    why_not = fields.String(allow_none=True, metadata={
        "description": "malformed | unknown_key | signature_invalid | not_issued (when not genuine)"})
    serial = fields.String(allow_none=True)
    enterprise = fields.String(allow_none=True)
    uscc = fields.String(allow_none=True)
    period_from = fields.String(allow_none=True)
    period_to = fields.String(allow_none=True)
    issued_at = fields.DateTime(allow_none=True)
    total_kg = fields.Integer(allow_none=True, metadata=INT64)
    grade = fields.Integer(allow_none=True)
    digest = fields.String(allow_none=True)
    status = fields.Nested(StatementStatusSchema, allow_none=True)


class PublicKeySchema(Output):
    key_id = fields.String()
    algorithm = fields.String()
    public_key = fields.String(metadata={"description": "the raw 32-byte Ed25519 public key, base64"})
    current = fields.Boolean(metadata={"description": "the key new statements are signed with"})
