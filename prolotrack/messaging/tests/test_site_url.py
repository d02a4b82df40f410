"""One site address for every link that leaves the app, defaulted from how `make run` was started (issue 19: links
in emails and feeds said port 8000 when the server ran on another port)."""

import re
import subprocess
from pathlib import Path

from django.core import mail
from django.test import override_settings
from icalendar import Calendar

from prolotrack.core.site import default_site_url, site_url
from prolotrack.messaging import run_all, services
from prolotrack.messaging.tests.conftest import at

OTHER = "http://127.0.0.1:8123"
ROOT = Path(__file__).resolve().parents[3]


def test_run_all_gives_its_children_the_address_it_serves():
    assert run_all.child_env("127.0.0.1", 8123, {})["PROLOTRACK_SITE_URL"] == OTHER
    assert run_all.child_env("0.0.0.0", 9000, {})["PROLOTRACK_SITE_URL"] == "http://127.0.0.1:9000"  # noqa: S104
    kept = run_all.child_env("127.0.0.1", 8123, {"PROLOTRACK_SITE_URL": "https://clinic.example"})
    assert kept["PROLOTRACK_SITE_URL"] == "https://clinic.example"


def test_make_run_passes_its_host_and_port_as_the_site_address():
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8123"],  # noqa: S607 - make from PATH, as a developer runs it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line for line in dry.splitlines() if "seed_demo" in line or "run_all" in line]
    assert len(lines) == 2 and all("http://127.0.0.1:8123" in line for line in lines)


def test_site_url_builds_from_the_setting():
    with override_settings(PROLOTRACK_SITE_URL=OTHER):
        assert site_url("/q/abc/") == f"{OTHER}/q/abc/"
        assert site_url("https://elsewhere.example/x") == "https://elsewhere.example/x"
    assert default_site_url("::", 8000) == "http://127.0.0.1:8000"


@override_settings(PROLOTRACK_SITE_URL=OTHER)
def test_the_feed_address_and_its_events_use_the_site_address(login, clinician, booked):
    client = login(clinician)
    page = client.post("/account/calendar-feed/", {"action": "create"}).content.decode()
    feed_url = re.search(r"http://[^\s\"<]+\.ics", page).group(0)
    assert feed_url.startswith(f"{OTHER}/calendar/feed/")
    body = client.get(feed_url.removeprefix(OTHER)).content
    event = Calendar.from_ical(body).walk("VEVENT")[0]
    assert f"{OTHER}/sessions/{booked.uuid}/" in str(event["description"])


@override_settings(PROLOTRACK_SITE_URL=OTHER)
def test_a_questionnaire_email_links_to_the_site_address(booked, fake_outcomes):
    tp = booked.course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    fake_outcomes.awaiting.append(tp)
    services.run_pass(now=at(tp.due_on, 9))
    sent = [m for m in mail.outbox if "questionnaire" in m.subject.lower()]
    assert sent and f"{OTHER}/q/token-1/" in sent[0].body
    assert "127.0.0.1:8000" not in sent[0].body
