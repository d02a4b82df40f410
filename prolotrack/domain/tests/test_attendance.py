"""When an appointment may be marked attended or a no-show (domain/attendance.py)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from prolotrack.domain.attendance import attendance_refusal

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 10:00 CDT


@pytest.mark.parametrize(
    ("current", "wanted", "now", "for_patient", "refusal"),
    [
        ("booked", "attended", START, True, None),  # at the start: the time has come
        ("booked", "no_show", START + timedelta(minutes=20), True, None),
        ("attended", "no_show", START + timedelta(days=1), True, None),  # a correction
        ("no_show", "attended", START + timedelta(hours=2), True, None),
        ("booked", "attended", START - timedelta(minutes=1), True, "It starts at 2026-03-10 10:00: mark it attended"),
        ("booked", "no_show", START - timedelta(days=1), True, "mark it a no-show once the time has come"),
        ("attended", "attended", START, True, "It is already marked attended."),
        ("cancelled", "attended", START, True, "A cancelled appointment is not marked"),
        ("held", "no_show", START, True, "A held appointment is not marked"),
        ("booked", "attended", START, False, "Confirm or merge the person who booked online first"),
        ("booked", "booked", START, True, "Mark the appointment attended or a no-show."),
        ("booked", "", START, True, "Mark the appointment attended or a no-show."),
    ],
)
def test_attendance_table(current, wanted, now, for_patient, refusal):
    found = attendance_refusal(current, wanted, START, now, CHICAGO, for_patient=for_patient)
    if refusal is None:
        assert found is None
    else:
        assert found is not None and refusal in found
