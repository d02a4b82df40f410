"""Drag to move on the calendar's week (docs/BOOKING.md, "Drag to move"), in Chromium: the front desk drags a
follow-up to another day at 14:30 and the week reloads with it there; a drop on the lunch break is refused with the
service's sentence in the status line and nothing moves. Screenshots test-artifacts/screenshots/drag-*.png."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from prolotrack.booking import services
from prolotrack.booking.models import Appointment, AppointmentKind
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.models import Clinic, User
from prolotrack.clinics.testing import actor_of
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def _drop_at(page: Page, visit: Any, day: str, clock: str) -> None:
    """Drag the appointment's block with the mouse, taken at its top edge, onto the day's column at the wall-clock
    time (the mouse's own steps: Chromium fires dragstart, dragover and drop as for a person)."""
    week = page.locator(".week-grid[data-drop-step]")
    first = int(week.get_attribute("data-first-hour") or 0)
    hours = int(week.get_attribute("data-hours") or 1)
    column = page.locator(f'.day-col[data-day="{day}"]')
    box = column.bounding_box()
    assert box is not None
    hour, minute = (int(x) for x in clock.split(":"))
    y = (hour + minute / 60 - first) / hours * box["height"]
    block = page.locator(f"#visit-{visit.uuid}").bounding_box()
    assert block is not None
    page.mouse.move(block["x"] + 4, block["y"] + 1)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + y + 1, steps=5)
    page.mouse.up()


def test_dragging_an_appointment_on_the_week(
    new_page: Callable[..., Page], admin_user: User, clinician: User, frontdesk: User, clinic: Clinic, make_patient: Any
) -> None:
    types = set_up_week(actor_of(admin_user), [clinician])
    day = next_weekday(clinic, 1, at_least=3)  # a Tuesday
    with transaction.atomic():
        visit = services.book_appointment(
            actor_of(frontdesk), patient=make_patient(), appointment_type=types[AppointmentKind.FOLLOW_UP],
            clinician=clinician, starts_at=at(clinic, day, "10:00"),
        )  # fmt: skip
    page = log_in(new_page(), frontdesk)
    page.set_viewport_size({"width": 1280, "height": 1400})  # the whole day in view: the mouse moves in the viewport
    page.goto(f"/calendar/?view=week&date={day:%Y-%m-%d}")
    expect(page.locator(f"#visit-{visit.uuid}")).to_have_attribute("draggable", "true")
    shot(page, "drag-1-week")

    # Over lunch: refused with the reason in the status line, nothing written, the block stays.
    _drop_at(page, visit, f"{day:%Y-%m-%d}", "12:15")
    expect(page.locator("#cal-drop-status")).to_contain_text("break")
    expect(page.locator("#cal-drop-status")).to_have_class(re.compile("warn-banner"))
    shot(page, "drag-2-refused")
    assert Appointment.objects.get(pk=visit.pk).starts_at == visit.starts_at

    # To Wednesday 14:30: moved through the same service, the week reloads with it there.
    wednesday = day + timedelta(days=1)
    _drop_at(page, visit, f"{wednesday:%Y-%m-%d}", "14:30")
    expect(page.locator(f'.day-col[data-day="{wednesday:%Y-%m-%d}"] #visit-{visit.uuid}')).to_be_visible()
    shot(page, "drag-3-moved")
    assert Appointment.objects.get(pk=visit.pk).starts_at == at(clinic, wednesday, "14:30")
