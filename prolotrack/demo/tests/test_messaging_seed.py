"""The demo's calendar feeds (every kind of message in the demo: full/test_demo_content.py)."""

from datetime import date

from prolotrack.demo.messaging_seed import seed_messaging

OTHER = "http://127.0.0.1:8123"


def test_the_demo_feed_addresses_use_the_site_address(clinician, frontdesk, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    settings.PROLOTRACK_SITE_URL = OTHER
    seed_messaging(clinician.memberships.get().clinic, today=date(2026, 11, 17))
    assert f"clinician: {OTHER}/calendar/feed/" in (tmp_path / "demo-calendar-feeds.txt").read_text()
