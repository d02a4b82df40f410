"""The demo's messaging: reminders planned on their days, those due by today sent, opt-outs skipped, feeds made."""

from datetime import date, datetime

from prolotrack.clinics.testing import actor_of
from prolotrack.demo.messaging_seed import seed_messaging
from prolotrack.messaging.models import CalendarFeedToken, MessageOptOut, MessageStatus, OutboxMessage
from prolotrack.messaging.tests.conftest import *  # noqa: F403 - the messaging fixtures (book)
from prolotrack.messaging.tests.conftest import CHICAGO
from prolotrack.treatment import services as treatment_services


def test_seed_messaging_plans_sends_skips_and_makes_feeds(clinician, frontdesk, make_patient, book, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    for index in range(7):
        patient = make_patient(given_name=f"P{index}", email=f"p{index}@example.org", phone=f"(312) 555-01{index:02d}")
        course = treatment_services.create_course(
            actor_of(clinician), patient, protocol_id="knee_oa_rabago", indication="Knee osteoarthritis",
            region="knee", side="left", start_on=date(2026, 11, 2), clinician=clinician,
        )  # fmt: skip
        book(course.sessions.get(number=1), datetime(2026, 11, 18 + index, 9, 0, tzinfo=CHICAGO))
    report = seed_messaging(clinician.memberships.get().clinic, today=date(2026, 11, 17))
    assert report["feeds"] == 1 and report["opted_out_patients"] == 2
    statuses = set(OutboxMessage.objects.values_list("status", flat=True))
    assert {MessageStatus.SENT, MessageStatus.QUEUED, MessageStatus.SKIPPED_OPTED_OUT} <= statuses
    # Queued ones wait for their own day; everything sent was due by the 17th.
    assert not OutboxMessage.objects.filter(status=MessageStatus.QUEUED, scheduled_for__lte=date(2026, 11, 17)).exists()
    assert max(OutboxMessage.objects.filter(status=MessageStatus.SENT).values_list("scheduled_for", flat=True)) <= date(
        2026, 11, 17
    )
    assert MessageOptOut.objects.filter(opted_out=True).exists()
    assert CalendarFeedToken.objects.filter(user=clinician, revoked_at__isnull=True).count() == 1
    text = (tmp_path / "demo-calendar-feeds.txt").read_text()
    assert "clinician: http://127.0.0.1:8000/calendar/feed/" in text
    assert oct((tmp_path / "demo-calendar-feeds.txt").stat().st_mode & 0o777) == "0o600"
