"""Merchant low-carbon scenes: the code staff show at the counter, a resident's check-in, the merchant's list."""

from __future__ import annotations

from flask import g

from carbon_platform import clock
from carbon_platform.db import commit
from carbon_platform.errors import NotFound
from carbon_platform.services import checkins, ledger, rulebooks
from mobile_api import idempotency
from mobile_api.auth import BEARER, resident_required, staff_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.checkins import (
    CheckinCodeSchema,
    CheckinDayQuerySchema,
    CheckinResultSchema,
    CheckinScanSchema,
    MerchantCheckinDaySchema,
    SceneSchema,
)
from mobile_api.schemas.common import Shown

blp = Blueprint("checkins", __name__, url_prefix="/api/v1", description="Checking in at a merchant's low-carbon scene.")
counter = Blueprint("counter", __name__, url_prefix="/api/v1/merchant",
                    description="The low-carbon scenes a merchant offers: their codes and check-ins.")


def _names(scenario_id: str, rulebook) -> dict:
    scenario = rulebook.scenarios.get(scenario_id)
    return {"name_zh": scenario.name_zh if scenario else scenario_id,
            "name_en": scenario.name_en if scenario else scenario_id}


@blp.post("/checkins")
@blp.arguments(CheckinScanSchema)
@blp.response(201, CheckinResultSchema)
@blp.doc(security=[BEARER], parameters=[idempotency.PARAMETER])
@resident_required
def check_in(body):
    """Check in with the code scanned at a merchant's counter. The rules decide at once, within the scene's caps:
    credited (``action.points``), held for review, or not credited (``action.reason_zh``/``reason_en``).

    Refused (nothing written): a code that is not a check-in code or not genuine (422 ``checkin_code_invalid``),
    one past its minutes (422 ``checkin_code_expired``), a scene the merchant no longer offers (422
    ``scene_not_offered``), an inactive merchant (422 ``merchant_inactive``), a second check-in for the scene at
    this merchant on the same Beijing day (409 ``already_checked_in``). A retry with the same ``Idempotency-Key``
    returns the same check-in (``replayed``); the same key with another code is a 409."""
    key = idempotency.idempotency_key()
    now = clock.utcnow()
    done = checkins.check_in(g.resident, body["code"], client_key=key, now=now)
    rulebook = rulebooks.compiled_by_id(done.action.rulebook_version_id)
    released = ledger.release_times([done.action.journal_id])
    commit()
    action = Shown(done.action, release_at=released.get(done.action.journal_id) if done.action.points else None,
                   duplicate=False, rulebook=rulebook)
    return Shown(done, action=action, **_names(done.checkin.scenario, rulebook))


@counter.get("/checkin-scenes")
@counter.response(200, SceneSchema(many=True))
@counter.doc(security=[BEARER])
@staff_required
def scenes():
    """The low-carbon scenes this merchant offers (set in the console), with the rulebook's names."""
    rulebook = rulebooks.rules_in_force(clock.utcnow()).rulebook
    offerable = checkins.checkin_scenarios(rulebook)
    return [{"scenario": s, **_names(s, rulebook)} for s in g.staff.merchant.checkin_scenarios or [] if s in offerable]


@counter.get("/checkin-scenes/<string:scenario>/code")
@counter.response(200, CheckinCodeSchema)
@counter.doc(security=[BEARER])
@staff_required
def current_code(scenario: str):
    """The code to show for a scene now (404 ``scene_not_offered`` if this merchant does not offer it). It
    changes every minute (``refresh_at``) and a scan of it counts until ``expires_at``."""
    if len(scenario) > 64:
        raise NotFound("this merchant does not offer this scene", code="scene_not_offered")
    return checkins.current_code(g.staff, scenario, now=clock.utcnow())


@counter.get("/checkins")
@counter.arguments(CheckinDayQuerySchema, location="query")
@counter.response(200, MerchantCheckinDaySchema)
@counter.doc(security=[BEARER])
@staff_required
def day_checkins(query):
    """This merchant's check-ins on a Beijing day (today by default): counts per scene, and each check-in with the
    resident's phone masked."""
    now = clock.utcnow()
    day = checkins.within_listing(query["day"], now=now) if "day" in query else None
    return checkins.merchant_day(g.staff.merchant_id, day, now=now)
