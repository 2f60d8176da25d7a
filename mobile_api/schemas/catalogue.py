"""The public catalogue: the scenarios of the rulebook in force, the districts, the mall's merchants."""

from marshmallow import fields

from carbon_platform.services import reach
from carbon_platform.services.evidence import PHOTOS_NEEDED
from mobile_api.schemas.common import DistrictSchema, Grouped, Output

STRINGS = {"type": "array", "items": {"type": "string"}}


class ScenarioInputSchema(Output):
    """A ``points_rules.rulebook.Input``; older rulebooks without labels fall back to the input's name."""

    name = fields.String()
    type = fields.Constant("number", metadata={
        "description": "Always `number` (decimals allowed) in this rulebook format."})
    unit = fields.String()
    min = fields.Float(allow_none=True, metadata={"description": "Inclusive; null: no lower bound."})
    max = fields.Float(allow_none=True, metadata={"description": "Inclusive; null: no upper bound."})
    required = fields.Boolean()
    label_zh = fields.Function(lambda i: i.label_zh or i.name, metadata={
        "type": "string", "description": "The input's name when the rulebook gives no label."})
    label_en = fields.Function(lambda i: i.label_en or i.name, metadata={"type": "string"})


class EvidenceNeededSchema(Output):
    """A ``Scenario``'s evidence and review for a report in the app (its app channel's trust rule)."""

    kind = fields.Function(lambda s: s.trust_for("app").evidence, metadata={
        "type": "string", "description": "none, photo or photo_and_certificate"})
    photos = fields.Function(lambda s: PHOTOS_NEEDED[s.trust_for("app").evidence], metadata={
        "type": "integer", "description": "Photos to upload to /evidence before reporting."})
    review = fields.Function(lambda s: s.trust_for("app").review_always, metadata={
        "type": "boolean", "description": "Every report is held for a reviewer before it is credited."})


class TrustRuleSchema(Output):
    """A ``points_rules.trust.Trust``: what one channel of a scenario trusts (docs/rules.md, What each channel
    trusts)."""

    channel = fields.String()
    declared = fields.Boolean(metadata={
        "description": "false: the rulebook predates per-channel trust and says evidence and review scenario-wide."})
    evidence = fields.String(metadata={
        "description": "none, photo or photo_and_certificate: what every report must carry; without it, refused."})
    photos = fields.Integer(metadata={"description": "Photos every report must carry (upload to /evidence first)."})
    review = fields.String(metadata={
        "enum": ["never", "beyond_bounds", "always"],
        "description": "When a report waits for a reviewer: never, beyond_bounds (beyond count_per_day or an input's "
                       "max), or always."})
    count_per_day = fields.Integer(allow_none=True, metadata={
        "description": "Reports a Beijing day credited on the report alone; the next waits for a reviewer."})
    bounds = fields.Function(lambda t: [{"input": n, "max": float(limit)} for n, limit in t.input_bounds], metadata={
        "type": "array", "items": {"type": "object", "properties": {"input": {"type": "string"},
                                                                     "max": {"type": "number"}}},
        "description": "Each input bound: a report saying more than `max` waits for a reviewer."})


class ScenarioLimitSchema(Output):
    """A ``points_rules.rulebook.Cap``."""

    per = fields.String(metadata={"description": "day, week, month, year or ever (Beijing calendar)"})
    scope = fields.String(metadata={"description": "account, or household (all its members together)"})
    unit = fields.String(metadata={"description": "count (actions), grams or points"})
    limit = fields.Integer()


class ChannelReachSchema(Output):
    """A ``services.reach.ChannelReach``: whether the platform can credit one channel of a scenario now."""

    channel = fields.String(metadata={"description": "One of the scenario's `channels`."})
    creditable = fields.Boolean(metadata={
        "description": "An action on this channel can be credited now: `app` for the account types that report in "
                       "the app (residents, enterprises); `partner:<kind>` while an active partner of that kind may "
                       "report the scenario; `merchant_checkin` while an active merchant offers the scene "
                       "(residents scan its code: `POST /checkins`)."})
    reason = fields.String(metadata={
        "enum": list(reach.REASONS),
        "description": "Why: `self_report`, `no_self_reporting_account` (only for households, which do not report "
                       "in the app), `active_partner`, `no_active_partner`, `partners_not_allowed` (the active "
                       "partners of that kind may not report this scenario), `unknown_partner_kind` (no partner "
                       "can be of that kind), `active_merchant`, `no_merchant_offers` (no active merchant "
                       "offers this check-in scene), `unknown_channel`."})


class ScenarioSchema(Output):
    """A ``points_rules.rulebook.Scenario`` as the rulebook declares it, ``Shown`` with its ``reach`` (one
    ``ChannelReach`` per channel, from the partners active now); older rulebooks without descriptions fall back to
    the scenario's name."""

    id = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    programme = fields.String(metadata={"description": "The plan's programme (十大工程) it serves: 一 … 十."})
    kind = fields.String(metadata={"description": "reduction (certifies grams) or incentive (points only)"})
    description_zh = fields.Function(lambda s: s.description_zh or s.name_zh, metadata={
        "type": "string", "description": "What counts; the name when the rulebook gives none."})
    description_en = fields.Function(lambda s: s.description_en or s.name_en, metadata={"type": "string"})
    account_types = fields.Function(lambda s: sorted(s.account_types), metadata=STRINGS)
    channels = fields.Function(lambda s: sorted(s.channels), metadata={
        **STRINGS, "description": "app, merchant_checkin, partner:<kind>"})
    self_report = fields.Function(lambda s: "app" in s.channels, metadata={
        "type": "boolean", "description": "A resident can report it in the client (POST /actions)."})
    reach = fields.List(fields.Nested(ChannelReachSchema), metadata={
        "description": "Each of `channels`, in that order: whether the platform can credit it now, and why."})
    creditable = fields.Function(lambda s: any(r.creditable for r in s.reach), metadata={
        "type": "boolean", "description": "At least one channel can be credited now (`reach`)."})
    inputs = fields.List(fields.Nested(ScenarioInputSchema))
    evidence = Grouped(EvidenceNeededSchema)
    trust = fields.Function(lambda s: TrustRuleSchema(many=True).dump([r.trust for r in s.reach]), metadata={
        "type": "array", "items": {"$ref": "#/components/schemas/TrustRule"},
        "description": "What each of `channels` trusts, in that order."})
    app_trust = fields.Nested(TrustRuleSchema, allow_none=True, metadata={"description": (
        "What a report in the app needs, before the resident submits it (null when the scenario cannot be reported "
        "in the app): the photos it must carry, and when it waits for a reviewer. The same as the app's entry in "
        "`reach`.")})
    limits = fields.List(fields.Nested(ScenarioLimitSchema), attribute="caps")


class CatalogueSchema(Output):
    """A ``points_rules.Rulebook`` ``Shown`` with its ``scenarios`` in its order."""

    rulebook_version = fields.String(attribute="version")
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
