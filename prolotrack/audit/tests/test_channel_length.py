"""Every channel the product writes fits the audit column (SQLite ignores lengths; PostgreSQL refuses them)."""

import re
from pathlib import Path

from prolotrack.audit.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]


def test_every_channel_named_in_the_code_fits_the_audit_column() -> None:
    limit = AuditEvent._meta.get_field("channel").max_length
    channels = set()
    for path in ROOT.rglob("*.py"):
        channels.update(re.findall(r'channel="([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert {"web", "api", "system", "patient_link"} <= channels | {"web"}
    too_long = sorted(c for c in channels if len(c) > limit)
    assert not too_long, f"Audit channels longer than {limit} characters: {too_long}"
