"""Every time of day a page shows carries its zone (docs/ARCHITECTURE.md; core/clinictime.py): a template formats a
moment with the `local_time` filters, never with Django's `date` filter and an hour in the format unless the zone
letter (T) is in it too. Found on the sessions page in session 4: "6 Dec 2026 19:33" with no zone."""

import re
from pathlib import Path

PRODUCT = Path(__file__).resolve().parent.parent / "prolotrack"
DATE_FILTER = re.compile(r"""\|date:\s*["']([^"']*)["']""")


def test_no_template_shows_an_hour_without_its_zone() -> None:
    templates = list(PRODUCT.rglob("*.html"))
    assert len(templates) > 50
    offenders = [
        f"{path.relative_to(PRODUCT)}: |date:'{fmt}'"
        for path in templates
        for fmt in DATE_FILTER.findall(path.read_text())
        if re.search(r"[GHgh]", fmt) and "T" not in fmt
    ]
    assert offenders == [], "use |local_time (or |local_time_long) for a time of day:\n" + "\n".join(offenders)
