"""Amending a signed session note: the confirmation step shows each field that will change (before and after, with
display names) and the reason from the list; nothing is saved before the clinician confirms. Plain HTML, no script."""

import re
from decimal import Decimal

import pytest

from prolotrack.audit.models import RecordVersion
from prolotrack.domain.reasons import AMENDMENT_REASONS


def fresh(record):
    return record.__class__.objects.get(pk=record.pk)


def amended_versions(session):
    return RecordVersion.objects.filter(record_uuid=session.uuid, action="treatment.session.amended").count()


OBSERVATIONS = {
    "vasovagal": "on",
    "observation_note": "Pale and sweaty for two minutes.\r\nRecovered lying down.",
    "instructions_given": "on",
    "note": "",
}


@pytest.fixture
def amending(login, clinician, signed_session):
    """A signed session and the signing clinician's client, with the observations form as the amend page posts it."""
    client = login(clinician)
    url = f"/sessions/{signed_session.uuid}/observations/"
    data = {**OBSERVATIONS, "version": fresh(signed_session).version, "amendment_code": "late_entry"}
    return client, url, data, fresh(signed_session)


def test_the_confirmation_lists_each_changed_field_before_and_after_and_saves_nothing(amending):
    client, url, data, session = amending
    response = client.post(url, data)
    assert response.status_code == 200
    assert next(t.name for t in response.templates) == "core/confirm.html"
    rows = response.context["change_rows"]
    assert rows == [
        ("Vasovagal reaction", "No", "Yes"),
        ("Observations", "—", "Pale and sweaty for two minutes.\r\nRecovered lying down."),
        ("Post-procedure instructions given", "No", "Yes"),
    ]
    text = response.content.decode()
    assert "What will change" in text and "Vasovagal reaction" in text and "Save the amendment" in text
    # The reason's whole list, the chosen one ticked; nothing written yet.
    for reason in AMENDMENT_REASONS:
        assert reason.label in text
    assert re.search(r'<input type="radio" name="amendment_code" value="late_entry"[^>]* checked>', text)
    assert fresh(session).vasovagal is False and fresh(session).version == session.version
    assert amended_versions(session) == 0
    # The typed values travel as hidden inputs, so the page works without JavaScript.
    assert 'type="hidden" name="observation_note"' in text and 'type="hidden" name="vasovagal"' in text
    assert "<script" not in text.split("<main", 1)[1]


def test_confirming_saves_exactly_what_was_shown_with_the_reason(amending):
    client, url, data, session = amending
    page = client.post(url, data)
    # Post back what the confirmation form carries, as a browser would.
    form = page.context["form"]
    posted = {name: form[name].value() for name in form.fields}
    posted = {k: ("" if v is None else v) for k, v in posted.items() if v not in (False,)}
    posted["confirm"] = "yes"
    response = client.post(url, posted)
    assert response.status_code == 302
    saved = fresh(session)
    assert saved.vasovagal is True and saved.instructions_given is True
    assert saved.observation_note.replace("\r\n", "\n") == "Pale and sweaty for two minutes.\nRecovered lying down."
    assert amended_versions(session) == 1
    version = RecordVersion.objects.get(record_uuid=session.uuid, action="treatment.session.amended")
    assert version.reason == "Late entry of what was done"


def test_a_header_amendment_shows_display_names_not_codes(login, clinician, signed_session):
    session = fresh(signed_session)
    data = {"weight_kg": "81,5", "sedation": "oral", "version": session.version, "amendment_code": "wrong_value"}
    response = login(clinician).post(f"/sessions/{session.uuid}/details/", data)
    assert response.status_code == 200
    rows = {label: (before, after) for label, before, after in response.context["change_rows"]}
    assert rows["Sedation"] == ("None", "Oral (anxiolytic)")
    assert rows["Weight used for limits (kg)"][1] == "81.5"
    assert fresh(session).sedation == "none" and fresh(session).weight_kg != Decimal("81.5")


def test_an_amendment_that_changes_nothing_is_refused_on_the_session_page(login, clinician, signed_session):
    session = fresh(signed_session)
    data = {"sedation": session.sedation, "weight_kg": str(session.weight_kg), "version": session.version,
            "amendment_code": "wrong_value"}  # fmt: skip
    response = login(clinician).post(f"/sessions/{session.uuid}/details/", data)
    assert response.status_code == 400 and "Nothing to amend" in response.content.decode()
    assert fresh(session).version == session.version


def test_the_confirmation_step_still_needs_a_reason_from_the_list(amending):
    client, url, data, session = amending
    response = client.post(url, {**data, "amendment_code": "other", "amendment_reason": "", "confirm": "yes"})
    assert response.status_code == 400 and "at least 5 characters" in response.content.decode()
    assert amended_versions(session) == 0 and fresh(session).vasovagal is False
    # Without a reason at all, the session page asks for it before any confirmation.
    response = client.post(url, {k: v for k, v in data.items() if k != "amendment_code"})
    assert response.status_code == 400 and next(t.name for t in response.templates) == "treatment/session.html"


def test_a_stale_confirmation_is_refused_and_writes_nothing(amending, clinician):
    client, url, data, session = amending
    client.post(url, {**data, "note": "Someone else first.", "confirm": "yes"})
    assert fresh(session).note == "Someone else first."
    response = client.post(url, {**data, "confirm": "yes"})
    assert response.status_code == 400 and next(t.name for t in response.templates) == "core/confirm.html"
    assert fresh(session).vasovagal is True  # the first amendment's, not overwritten by the stale one
    assert amended_versions(session) == 1


def test_a_nurse_cannot_reach_the_confirmation_of_an_amendment(login, colleague, amending):
    _, url, data, session = amending
    response = login(colleague).post(url, data)
    assert response.status_code == 400 and next(t.name for t in response.templates) == "treatment/session.html"
    assert amended_versions(session) == 0
