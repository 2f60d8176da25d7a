"""The public catalogue a client shows before (and without) signing in: the scenarios of the rulebook in force
and the city's districts, both revalidated by ETag."""

from __future__ import annotations

import sqlalchemy as sa
from marshmallow import RAISE

from carbon_platform.clock import utcnow
from carbon_platform.extensions import db
from carbon_platform.models import District
from carbon_platform.services import reach, rulebooks
from mobile_api.blueprint import Blueprint
from mobile_api.caching import CACHE_HEADERS, IF_NONE_MATCH, NOT_MODIFIED, revalidated
from mobile_api.schemas.catalogue import CatalogueSchema, DistrictListSchema
from mobile_api.schemas.common import NoBody as NoQuery
from mobile_api.schemas.common import Shown

blp = Blueprint("catalogue", __name__, url_prefix="/api/v1",
                description="Public: the scenarios that earn points and the districts.")
_catalogue_schema, _districts_schema = CatalogueSchema(), DistrictListSchema()


@blp.get("/scenarios")
@blp.response(200, CatalogueSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, **NOT_MODIFIED)
@blp.arguments(NoQuery, location="query", unknown=RAISE)  # webargs excludes by default
@blp.doc(security=[], parameters=[IF_NONE_MATCH])
def list_scenarios(_query):
    """The scenarios of the rulebook in force, in its order: what counts, the inputs to report, the evidence
    needed (``app_trust``: the photos a report in the app must carry and when it waits for a reviewer), the limits,
    and which of its channels the platform can credit now (registering or deactivating a
    partner changes that, and the ETag with it). Public; revalidate with If-None-Match."""
    rulebook = rulebooks.rules_in_force(utcnow()).rulebook
    channels = reach.Reach(rulebook)
    scenarios = [Shown(s, reach=channels.of(s), app_trust=s.trust_for("app") if "app" in s.channels else None)
                 for s in rulebook.scenarios.values()]
    return revalidated(_catalogue_schema, Shown(rulebook, scenarios=scenarios))


@blp.get("/districts")
@blp.response(200, DistrictListSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, **NOT_MODIFIED)
@blp.arguments(NoQuery, location="query", unknown=RAISE)  # webargs excludes by default
@blp.doc(security=[], parameters=[IF_NONE_MATCH])
def list_districts(_query):
    """The city's districts and functional zones by code (what ``district`` fields take). Public; revalidate
    with If-None-Match."""
    rows = db.session.execute(sa.select(District).order_by(District.code)).scalars()
    return revalidated(_districts_schema, {"districts": rows.all()})
