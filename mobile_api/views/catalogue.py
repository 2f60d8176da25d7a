"""The public catalogue a client shows before (and without) signing in: the scenarios of the rulebook in force
and the city's districts, both revalidated by ETag."""

from __future__ import annotations

import sqlalchemy as sa
from marshmallow import RAISE

from carbon_platform.clock import utcnow
from carbon_platform.extensions import db
from carbon_platform.models import District
from carbon_platform.services import rulebooks
from mobile_api.blueprint import Blueprint
from mobile_api.caching import CACHE_HEADERS, IF_NONE_MATCH, NOT_MODIFIED, revalidated
from mobile_api.schemas.catalogue import CatalogueSchema, DistrictListSchema
from mobile_api.schemas.common import NoBody as NoQuery
from mobile_api.views.actions import PHOTOS_NEEDED
from points_rules import Rulebook
from points_rules.rulebook import Scenario

blp = Blueprint("catalogue", __name__, url_prefix="/api/v1",
                description="Public: the scenarios that earn points and the districts.")
_catalogue_schema, _districts_schema = CatalogueSchema(), DistrictListSchema()


def _number(value):
    return None if value is None else float(value)


def scenario_body(scenario: Scenario) -> dict:
    """One scenario as the rulebook declares it; older rulebooks without descriptions or labels fall back to
    the scenario's and the input's names."""
    return {
        "id": scenario.id, "name_zh": scenario.name_zh, "name_en": scenario.name_en,
        "programme": scenario.programme, "kind": scenario.kind,
        "description_zh": scenario.description_zh or scenario.name_zh,
        "description_en": scenario.description_en or scenario.name_en,
        "account_types": sorted(scenario.account_types), "channels": sorted(scenario.channels),
        "self_report": "app" in scenario.channels,
        "inputs": [{"name": i.name, "type": "number", "unit": i.unit, "min": _number(i.min), "max": _number(i.max),
                    "required": i.required, "label_zh": i.label_zh or i.name, "label_en": i.label_en or i.name}
                   for i in scenario.inputs],
        "evidence": {"kind": scenario.evidence, "photos": PHOTOS_NEEDED[scenario.evidence],
                     "review": scenario.review},
        "limits": [{"per": c.per.value, "scope": c.scope, "unit": c.unit, "limit": c.limit} for c in scenario.caps],
    }


def catalogue_body(rulebook: Rulebook) -> dict:
    return {"rulebook_version": rulebook.version,
            "scenarios": [scenario_body(s) for s in rulebook.scenarios.values()]}


@blp.get("/scenarios")
@blp.response(200, CatalogueSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, **NOT_MODIFIED)
@blp.arguments(NoQuery, location="query", unknown=RAISE)  # webargs excludes by default
@blp.doc(security=[], parameters=[IF_NONE_MATCH])
def list_scenarios(_query):
    """The scenarios of the rulebook in force, in its order: what counts, the inputs to report, the evidence
    needed and the limits. Public; revalidate with If-None-Match."""
    return revalidated(_catalogue_schema, catalogue_body(rulebooks.rules_in_force(utcnow()).rulebook))


@blp.get("/districts")
@blp.response(200, DistrictListSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, **NOT_MODIFIED)
@blp.arguments(NoQuery, location="query", unknown=RAISE)  # webargs excludes by default
@blp.doc(security=[], parameters=[IF_NONE_MATCH])
def list_districts(_query):
    """The city's districts and functional zones by code (what ``district`` fields take). Public; revalidate
    with If-None-Match."""
    rows = db.session.execute(sa.select(District).order_by(District.code)).scalars()
    return revalidated(_districts_schema, {"districts": [
        {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en} for d in rows]})
