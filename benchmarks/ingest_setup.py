"""Prepare a checkout's database for ``ingest.py``: run inside the checkout measured, print its cards and tokens.

    PYTHONPATH=CHECKOUT .venv/bin/python benchmarks/ingest_setup.py DATABASE_URL     # the schema is reset

``ingest.py`` runs this script once per round for each checkout it measures (this one and ``--baseline``), with
``PYTHONPATH`` set to that checkout, so that its own migrations and services build its own database. It uses only
services that both sides of #20 have: registering residents, proving their cards, consent, tokens.
"""

from __future__ import annotations

import json
import sys

#: Shared with ingest.py, which signs the partner's batches with the same key.
KEY_ID, SECRET = "pk_bench", "ps_benchmark_" + "x" * 24
CONFIG = {"SECRET_KEY": "benchmark-secret-key-0123456789-abcdef", "SMS_SENDER": "memory"}
RESIDENTS = 1000
#: Residents live in the city's districts, as real ones do (awarding reads each holder's district).
DISTRICTS = ("370902", "370911", "370921", "370923", "370982", "370983")


def prepare(url: str) -> dict:
    """A fresh database with a partner and residents bound and consenting; access tokens for reports."""
    from flask_migrate import upgrade

    from carbon_platform import create_app, seeding
    from carbon_platform.db import commit
    from carbon_platform.extensions import db
    from carbon_platform.models import Audience, BindingKind, Partner, PartnerKind, PartnerSecret
    from carbon_platform.services import accounts, auth, consent

    app = create_app({**CONFIG, "DATABASE_URL": url})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        seeding.load_reference()
        partner = Partner(name="bench bus", kind=PartnerKind.TRANSIT, key_id=KEY_ID, rate_limit="10000000 per minute")
        db.session.add(partner)
        db.session.add(PartnerSecret(partner=partner, secret=SECRET))
        db.session.flush()
        cards, tokens = [], []
        for n in range(RESIDENTS):
            resident = accounts.register_resident(f"1370{n:07d}", district_code=DISTRICTS[n % len(DISTRICTS)])
            # Proven as a resident proves a card: entered in the app, confirmed by the partner shown a code.
            consent.add_binding(resident.account_id, BindingKind.TRANSIT_CARD, f"CARD{n:08d}")
            _record, code = consent.issue_binding_code(resident.account_id)
            consent.confirm_by_partner(partner, code, BindingKind.TRANSIT_CARD, f"CARD{n:08d}")
            consent.grant(resident.account_id, partner, "bus_ride", frozenset({"partner:transit"}))
            cards.append(f"CARD{n:08d}")
            tokens.append(auth.issue_tokens(Audience.RESIDENT, resident.id).access_token)
        commit()
        db.engine.dispose()
    return {"cards": cards, "tokens": tokens}


if __name__ == "__main__":
    import carbon_platform

    print(f"preparing {sys.argv[1]} with {carbon_platform.__file__}", file=sys.stderr)
    print(json.dumps(prepare(sys.argv[1])))
