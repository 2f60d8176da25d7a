"""Fixtures shared by the API tests."""

import pytest

from carbon_platform import seeding
from carbon_platform.db import commit
from tests.mobile_api.helpers import resident_headers


@pytest.fixture
def headers(app, client):
    """A logged-in resident, with districts and the Tai'an rulebook in force."""
    with app.app_context():
        seeding.load_reference()
        commit()
    return resident_headers(client, app)
