"""A points-history row names the action it came from, so a client can link to the action's receipt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carbon_platform.extensions import db
from carbon_platform.models import Resident
from tests import factories as f


def test_history_rows_link_to_their_action(app, client, headers):
    occurred = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    action = client.post("/api/v1/actions", json={"scenario": "walking", "occurred_at": occurred.isoformat(),
                                                  "inputs": {"steps": 12345}},
                         headers={**headers, "Idempotency-Key": "walk-link"}).json
    me = client.get("/api/v1/me", headers=headers).json
    with app.app_context():
        f.committed(f.fund, db.session.get(Resident, me["id"]).account_id, 10)
    rows = client.get("/api/v1/me/points/history", headers=headers).json
    # Newest first: the grant (no action), then the walk's credit (its action).
    assert [(r["kind"], r["action_id"]) for r in rows] == [("earn", None), ("earn", action["id"])]
