"""Rulebook 2026.3's trust per channel in the console: each channel's rule in words on /admin/scenarios (Chinese and
English), and the review queue saying why an action over a bound waits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from importlib import resources

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.models import AdminRole
from carbon_platform.services import earning, rulebooks
from tests import factories as f
from tests.admin.helpers import console
from tests.admin.test_scenarios import PAGE, channel, row, text

BEIJING = timezone(timedelta(hours=8))


def publish_2026_3(app):
    with app.app_context():
        source = resources.files("seeds").joinpath("rulebook-2026.3.yaml").read_text("utf-8")
        document, _ = rulebooks.parse_source(source)
        rulebooks.publish(document, effective_from=utcnow() - timedelta(seconds=1), actor=f.TEST_ACTOR)
        commit()


def test_each_channel_says_what_it_trusts_in_both_languages(app):
    client = console(app)
    publish_2026_3(app)
    page = client.get(PAGE).get_data(as_text=True)
    assert "可信规则：每天凭申报至多计入 2 次；乘车距离 凭申报至多 15 km；超出的转人工审核后计入" in \
        text(channel(page, "bus_ride", "app"))
    assert "可信规则：按上报的数据计入：不需照片，不逐条审核" in text(channel(page, "bus_ride", "partner:transit"))
    tree = text(channel(page, "tree_planting", "app"))
    assert "需上传现场照片和证明材料照片各一张，缺少照片的申报不予计入" in tree and "每次都经人工审核后计入" in tree
    assert "证据与审核按渠道规定" in text(row(page, "tree_planting"))
    client.get("/admin/lang/en")
    english = client.get(PAGE).get_data(as_text=True)
    assert ("Trusts: at most 2 a day on the report alone; Ride distance at most 15 km on the report alone; beyond "
            "that, credited once a reviewer has checked it") in text(channel(english, "bus_ride", "app"))
    assert "Trusts: Credited as reported" in text(channel(english, "waste_sorting", "partner:waste"))


def test_the_review_queue_says_which_bound_an_action_went_beyond(app):
    client = console(app, AdminRole.REVIEWER)
    publish_2026_3(app)
    with app.app_context():
        resident = f.resident()
        at = datetime.now(BEIJING) - timedelta(hours=2)
        held = earning.self_report(resident, scenario="waste_sorting", inputs={"weight_kg": 4}, occurred_at=at,
                                   client_key="heavy").action
        commit()
        held_id, reason = held.id, held.reason
    assert reason == "over_bound"
    page = client.get("/admin/review").get_data(as_text=True)
    assert f'data-action="{held_id}"' in page
    assert "待审核原因：超出了凭申报即可计入的范围（投放重量 4 kg，凭申报最多 3 kg），审核员核实后计入。" in text(page)
    client.get("/admin/lang/en")
    english = text(client.get("/admin/review").get_data(as_text=True))
    assert "Why it waits: Beyond what is credited on your report alone (weight 4 kg, at most 3 kg on the report " \
           "alone)" in english
