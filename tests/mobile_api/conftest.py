"""Fixtures shared by the API tests."""

import pytest

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.models import PartnerKind
from carbon_platform.services import organisations
from tests import factories as f
from tests.mobile_api.helpers import resident_headers


@pytest.fixture
def headers(app, client):
    """A logged-in resident, with districts and the Tai'an rulebook in force."""
    with app.app_context():
        seeding.load_reference()
        commit()
    return resident_headers(client, app)


@pytest.fixture
def partner(app):
    """A registered transit partner: its id, key id and (shown once) secret."""
    with app.app_context():
        record, secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                        actor=f.TEST_ACTOR)
        commit()
        return {"id": record.id, "key_id": record.key_id, "secret": secret}
