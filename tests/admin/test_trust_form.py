"""The structured form for what a scenario's channel trusts (issue #19 item 4: a scenario's evidence rules): the
operator picks the scenario and channel by name, sees its rule in words, and saves a draft whose YAML differs from
its base only on that channel's line, the seed's comments kept; bad combinations are refused in both languages."""

from __future__ import annotations

import difflib

import pytest

from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, RulebookVersion
from carbon_platform.services import rulebook_edits, rulebooks
from tests import factories as f
from tests.admin.conftest import SEED
from tests.admin.helpers import log_in
from tests.admin.test_rulebook_forms import drafts
from tests.admin.test_rulebooks import hidden

PAGE = "/admin/rulebooks/trust"


def changed_lines(source: str) -> list[str]:
    return [line for line in difflib.unified_diff(SEED.splitlines(), source.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def form_data(client, rule: str, **over) -> dict:
    page = client.get(PAGE, query_string={"rule": rule}).get_data(as_text=True)
    data = {"csrf_token": hidden(page, "csrf_token"), "based_on": hidden(page, "based_on"), "rule": rule,
            "version": hidden(page, "version"), "note": ""}
    for name in ("evidence", "review"):
        if f'name="{name}"' in page:
            data[name] = selected(page, name)
    for name in ("count_per_day", "bound_distance_km", "bound_kg", "bound_minutes"):
        if f'name="{name}"' in page:
            data[name] = value_of(page, name)
    return {**data, **over}


def selected(page: str, name: str) -> str:
    block = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    (option,) = [tag for tag in block.split("<option")[1:] if " selected" in tag.split(">", 1)[0]]
    return option.split('value="', 1)[1].split('"', 1)[0]


def value_of(page: str, name: str) -> str:
    tag = page.split(f'name="{name}"', 1)[1].split(">", 1)[0]
    return tag.split('value="', 1)[1].split('"', 1)[0] if 'value="' in tag else ""


def test_every_channel_is_listed_by_name_with_its_rule_in_words(app, commented):
    page = commented.get(PAGE).get_data(as_text=True)
    assert 'data-rule="bus_ride|app"' in page and 'data-rule="bus_ride|partner:transit"' in page
    row = page.split('data-rule="bus_ride|app"', 1)[1].split("</tr>", 1)[0]
    assert "公交出行 · App 自报" in row
    assert "每天凭申报至多计入 2 次；乘车距离 凭申报至多 15 km；超出的转人工审核后计入" in row
    commented.get("/admin/lang/en")
    english = commented.get(PAGE).get_data(as_text=True)
    row = english.split('data-rule="bus_ride|app"', 1)[1].split("</tr>", 1)[0]
    assert "Bus ride · " in row and "at most 2 a day on the report alone" in row and "公交" not in row


def test_the_chosen_channel_opens_filled_with_its_current_rule(app, commented):
    page = commented.get(PAGE, query_string={"rule": "bus_ride|app"}).get_data(as_text=True)
    assert selected(page, "evidence") == "none" and selected(page, "review") == "beyond_bounds"
    assert value_of(page, "count_per_day") == "2" and value_of(page, "bound_distance_km") == "15"
    assert hidden(page, "version") == "2026.5"
    partner = commented.get(PAGE, query_string={"rule": "bus_ride|partner:transit"}).get_data(as_text=True)
    assert 'name="evidence"' not in partner  # partners send data, never photos
    assert commented.get(PAGE, query_string={"rule": "bus_ride|partner:pv"}).status_code == 404
    assert commented.get(PAGE, query_string={"rule": "no_such|app"}).status_code == 404


def test_a_tighter_bound_is_a_draft_that_changes_that_channels_line_only(app, commented):
    response = commented.post(PAGE, data=form_data(commented, "bus_ride|app", count_per_day="1",
                                                   bound_distance_km="12.5"))
    assert response.status_code == 302, response.get_data(as_text=True)
    (draft,) = drafts(app)
    assert changed_lines(draft.source) == [
        '-version: "2026.4"', '+version: "2026.5"',
        "-      app: {below: {count_per_day: 2, distance_km: 15}}",
        "+      app: {below: {count_per_day: 1, distance_km: 12.5}}"]
    assert "# An app report is for a ride the card feed misses" in draft.source  # the comment above stays
    assert "公交出行 · App 自报 改为：每天凭申报至多计入 1 次；乘车距离 凭申报至多 12.5 km" in draft.note
    with app.app_context():
        trust = rulebooks.compiled(db.session.get(RulebookVersion, draft.id)).scenarios["bus_ride"].trust["app"]
    assert trust.count_per_day == 1 and [(n, str(v)) for n, v in trust.input_bounds] == [("distance_km", "12.5")]


def test_a_partner_channel_can_be_put_under_review_and_back(app, commented):
    response = commented.post(PAGE, data=form_data(commented, "bus_ride|partner:transit", review="always"))
    assert response.status_code == 302, response.get_data(as_text=True)
    (draft,) = drafts(app)
    assert changed_lines(draft.source)[2:] == ['-      "partner:transit": as_reported',
                                               '+      "partner:transit": {review: always}']


def test_clearing_every_requirement_credits_as_reported(app, commented):
    response = commented.post(PAGE, data=form_data(commented, "bus_ride|app", count_per_day="",
                                                   bound_distance_km=""))
    assert response.status_code == 302, response.get_data(as_text=True)
    (draft,) = drafts(app)
    assert changed_lines(draft.source)[2:] == ["-      app: {below: {count_per_day: 2, distance_km: 15}}",
                                               "+      app: as_reported"]


@pytest.mark.parametrize(("rule", "over", "zh", "en"), [
    ("bus_ride|app", {"review": "always"}, "每次都人工审核时，上限没有作用", "every report goes to review"),
    ("bus_ride|app", {"bound_distance_km": "120"}, "须小于该项本身的上限 120", "below the input's own limit of 120"),
    ("bus_ride|app", {"bound_distance_km": "-1"}, "须在 0.001 到", "between 0.001 and"),
    ("bus_ride|app", {"count_per_day": "0"}, "须在 1 到 1000 之间", "between 1 and 1000"),
    ("bus_ride|app", {"count_per_day": "two"}, "不是有效的整数", "Not a valid integer"),
    ("bus_ride|partner:transit", {"evidence": "photo"}, "只有应用内自报可以附照片", "Only app reports carry photos"),
    ("bus_ride|app", {"evidence": "selfie"}, "不是有效的选择", "Not a valid choice"),
])
def test_bad_combinations_are_refused_with_a_clear_message_in_both_languages(app, commented, rule, over, zh, en):
    response = commented.post(PAGE, data=form_data(commented, rule, **over))
    assert response.status_code == 400 and zh in response.get_data(as_text=True)
    commented.get("/admin/lang/en")
    response = commented.post(PAGE, data=form_data(commented, rule, **over))
    assert response.status_code == 400 and en in response.get_data(as_text=True)
    assert drafts(app) == []


def test_a_rule_the_base_does_not_have_is_not_found(app, commented):
    response = commented.post(PAGE, data={**form_data(commented, "bus_ride|app"), "rule": "bus_ride|partner:pv"})
    assert response.status_code == 404 and drafts(app) == []


def test_only_rules_managers_change_trust_rules(app, commented):
    for role in (AdminRole.AUDITOR, AdminRole.REVIEWER, AdminRole.MERCHANT_MANAGER):
        client = app.test_client()
        with app.app_context():
            username = f.admin(role).username
            from carbon_platform.db import commit
            commit()
        log_in(client, username)
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE, data={"rule": "bus_ride|app", "review": "always"}).status_code in (400, 403)
    assert drafts(app) == []


def test_the_text_edit_handles_block_and_multi_line_rules():
    source = "\n".join([
        "scenarios:",
        "  - id: s",
        "    trust:",
        "      # the app",
        "      app:",
        "        below:",
        "          count_per_day: 3",
        "      \"partner:x\": {below:",
        "          {count_per_day: 9}}  # kept",
        "    caps: []",
        ""])
    edited = rulebook_edits.with_trust(source, "s", "app", {"evidence": "photo", "review": "always"})
    edited = rulebook_edits.with_trust(edited, "s", "partner:x", "as_reported")
    assert edited.split("\n") == ["scenarios:", "  - id: s", "    trust:", "      # the app",
                                  "      app: {evidence: photo, review: always}",
                                  '      "partner:x": as_reported  # kept', "    caps: []", ""]
    with pytest.raises(rulebook_edits.EditRefused) as refused:
        rulebook_edits.with_trust(source, "s", "partner:y", "as_reported")
    assert refused.value.code == "unknown_trust_rule"
