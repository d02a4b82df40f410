"""The one pager of the lists shown a page at a time (audit trail, outbox): core/pager.html."""

from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string

CASES = [
    # page, has_next, newer link, older link
    (1, False, None, None),
    (1, True, None, "?status=sent&page=2"),
    (3, True, "?status=sent&page=2", "?status=sent&page=4"),
    (3, False, "?status=sent&page=2", None),
]


@pytest.mark.parametrize(("page", "has_next", "newer", "older"), CASES)
def test_the_pager_links_the_neighbouring_pages_keeping_the_filters(
    page: int, has_next: bool, newer: str | None, older: str | None
) -> None:
    html = render_to_string("core/pager.html", {"page_number": page, "has_next": has_next, "query": "status=sent"})
    assert f"Page {page}" in html
    assert (f'<a href="{newer}">Newer</a>' in html) if newer else ("Newer" not in html)
    assert (f'<a href="{older}">Older</a>' in html) if older else ("Older" not in html)


@pytest.mark.parametrize("template", ["audit/list.html", "messaging/outbox.html"])
def test_the_paged_lists_use_it(template: str) -> None:
    source = next(Path(d, template) for d in settings.TEMPLATES[0]["DIRS"] if Path(d, template).exists()).read_text()
    assert '{% include "core/pager.html" %}' in source
    assert 'class="pager"' not in source
