"""The day picker writes its day in the patient's language: "martes, 22 de diciembre de 2026", not Django's date
filter's "martes 22 diciembre 2026" (core/clinictime.py; docs/LANGUAGES.md, "Dates")."""

from datetime import date

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from prolotrack.booking.picker import DayPicker


@pytest.mark.parametrize(("lang", "legend", "jump"), [
    ("en", "Tuesday 22 December 2026", "Next day with free times: Tuesday 29 December"),
    ("es", "martes, 22 de diciembre de 2026", "martes, 29 de diciembre"),
])  # fmt: skip
def test_the_day_picker_writes_its_day_in_the_patients_language(lang: str, legend: str, jump: str) -> None:
    shown = DayPicker(
        day=date(2026, 12, 22), slots=[], previous_url="", next_url="/b/?day=2026-12-23",
        next_free_day=date(2026, 12, 29), next_free_url="/b/?day=2026-12-29", field="slot", show_who=False,
        zone="Pacific/Auckland", anchor="slot-picker",
    )  # fmt: skip
    with translation.override(lang):
        html = render_to_string("booking/public/_slots.html", {"picker": shown})
    assert f'<legend id="slot-picker-day">{legend}</legend>' in html
    assert jump in html
    assert "martes 22 diciembre" not in html
