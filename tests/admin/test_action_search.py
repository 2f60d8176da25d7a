"""The action search is picked from lists and speaks in words: scenario and channel are chosen by name, and a
held or refused action says why in a word or two, not with the engine's code."""

from __future__ import annotations

from datetime import timedelta

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.models import AdminRole
from carbon_platform.services import earning
from tests import factories as f
from tests.admin.helpers import console


def test_filters_are_lists_and_reasons_are_words(app):
    client = console(app, AdminRole.OPERATOR)
    with app.app_context():
        installer = f.resident(district_code="370911")
        earning.self_report(installer, scenario="pv_installation", inputs={},
                            occurred_at=utcnow() - timedelta(hours=2), client_key="pv")
        commit()
    html = client.get("/admin/actions").get_data(as_text=True)
    assert '<select id="filter-scenario" name="scenario">' in html
    assert '<option value="bus_ride" >公交出行</option>' in html
    assert '<select id="filter-channel" name="channel">' in html and '<option value="partner:transit" >合作方：' in html
    assert "<td>待审核 · 需人工审核</td>" in html  # the receipt beside it keeps the code, for support
    client.get("/admin/lang/en")
    english = client.get("/admin/actions?channel=app").get_data(as_text=True)
    assert " · always reviewed</td>" in english and '<option value="app" selected>' in english
