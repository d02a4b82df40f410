"""Booking fixtures: Alpha Clinic's week (Monday-Friday 09:00-17:00, lunch 12:00-13:00) for the clinician."""

from typing import Any

import pytest

from prolotrack.booking.testing import set_up_week
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of


@pytest.fixture
def types(admin_user: User, clinician: User) -> dict[str, Any]:
    return set_up_week(actor_of(admin_user), [clinician])
