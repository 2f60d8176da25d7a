"""Schemathesis over the OpenAPI document, in process through the WSGI app: for every operation its boundary
cases (the coverage phase) and a few generated valid and invalid requests, as a resident and as a merchant's
cashier, on each backend, and never a 5xx.

Small and deterministic (derandomized, no example database, a handful of generated examples), so it fits CI's
budget; schema conformance of the answers is checked by the OpenAPI tests, not here. One app, database and pair
of logins serve every operation of a backend: a fresh database per operation would cost more than the run.
"""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.services import invariants
from tests import factories as f
from tests.conftest import dispose, make_app
from tests.mobile_api.helpers import bearer, tokens

#: Logging out would end the session the rest of the run uses (and it has nothing else to get wrong).
LOG_OUT = ["/api/v1/auth/session", "/api/v1/auth/sessions", "/api/v1/merchant/auth/session",
           "/api/v1/enterprise/auth/session"]
#: Deleting the account would end the resident's session the same way (tests/mobile_api/test_privacy.py covers it).
DELETE_ME = {"path": "/api/v1/me", "method": "DELETE"}
#: Valid and invalid requests, NUL characters included.
CONFIG = schemathesis.Config.from_dict({"generation": {"mode": "all", "allow-x00": True}})


def _document() -> dict:
    """The OpenAPI document, read from an app that never touches its database (collection time, no fixtures)."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(f"sqlite:///{folder}/unused.db")
        document = app.test_client().get("/api/v1/openapi.json").json
        dispose(app)
    return document


schema = schemathesis.openapi.from_dict(_document(), config=CONFIG).exclude(path=LOG_OUT).exclude(**DELETE_ME)


@pytest.fixture(scope="module")
def served(database, tmp_path_factory):
    """One app per backend for the whole run, with reference data, and a resident's and a cashier's tokens;
    the ledger's invariants are checked once the run is over."""
    app = make_app(database.fresh_url(tmp_path_factory.mktemp("schemathesis")),
                   UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads")))
    with app.app_context():
        seeding.load_reference()
        cashier = f.staff(f.merchant()).phone.removeprefix("+86")
        commit()
    client = app.test_client()
    callers = {"resident": bearer(tokens(client, app)),
               "staff": bearer(tokens(client, app, cashier, prefix="/api/v1/merchant/auth"))}
    yield app, callers
    with app.app_context():
        drifts = invariants.verify()
    dispose(app)
    assert not drifts, "ledger invariants broken:\n" + "\n".join(map(str, drifts))


@schema.parametrize()
@settings(max_examples=5, derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case, served):
    app, callers = served
    headers = callers["staff"] if case.path.startswith("/api/v1/merchant/") else callers["resident"]
    # buffered: Werkzeug reads and closes the answer (schemathesis reads a sent file and leaves it open).
    case.call_and_validate(app=app, headers=headers, checks=[not_a_server_error], buffered=True)
