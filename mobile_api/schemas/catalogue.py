"""The public catalogue: the scenarios of the rulebook in force, the districts, the mall's merchants."""

from marshmallow import fields

from mobile_api.schemas.common import DistrictSchema, Output


class ScenarioInputSchema(Output):
    name = fields.String()
    type = fields.String(metadata={"description": "Always `number` (decimals allowed) in this rulebook format."})
    unit = fields.String()
    min = fields.Float(allow_none=True, metadata={"description": "Inclusive; null: no lower bound."})
    max = fields.Float(allow_none=True, metadata={"description": "Inclusive; null: no upper bound."})
    required = fields.Boolean()
    label_zh = fields.String(metadata={"description": "The input's name when the rulebook gives no label."})
    label_en = fields.String()


class EvidenceNeededSchema(Output):
    kind = fields.String(metadata={"description": "none, photo or photo_and_certificate"})
    photos = fields.Integer(metadata={"description": "Photos to upload to /evidence before reporting."})
    review = fields.Boolean(metadata={"description": "Every report is held for a reviewer before it is credited."})


class ScenarioLimitSchema(Output):
    per = fields.String(metadata={"description": "day, week, month, year or ever (Beijing calendar)"})
    scope = fields.String(metadata={"description": "account, or household (all its members together)"})
    unit = fields.String(metadata={"description": "count (actions), grams or points"})
    limit = fields.Integer()


class ScenarioSchema(Output):
    id = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    programme = fields.String(metadata={"description": "The plan's programme (十大工程) it serves: 一 … 十."})
    kind = fields.String(metadata={"description": "reduction (certifies grams) or incentive (points only)"})
    description_zh = fields.String(metadata={"description": "What counts; the name when the rulebook gives none."})
    description_en = fields.String()
    account_types = fields.List(fields.String())
    channels = fields.List(fields.String(), metadata={"description": "app, merchant_checkin, partner:<kind>"})
    self_report = fields.Boolean(metadata={"description": "A resident can report it in the client (POST /actions)."})
    inputs = fields.List(fields.Nested(ScenarioInputSchema))
    evidence = fields.Nested(EvidenceNeededSchema)
    limits = fields.List(fields.Nested(ScenarioLimitSchema))


class CatalogueSchema(Output):
    rulebook_version = fields.String()
    scenarios = fields.List(fields.Nested(ScenarioSchema))


class DistrictListSchema(Output):
    districts = fields.List(fields.Nested(DistrictSchema))


class MerchantSchema(Output):
    id = fields.Integer()
    name = fields.String()
    district = fields.Nested(DistrictSchema)
    address = fields.String()


class MerchantListSchema(Output):
    merchants = fields.List(fields.Nested(MerchantSchema))
