"""Invoice numbers are gapless and unique per clinic when several people issue at the same moment (docs/BILLING.md,
"Numbers"). Threads need committed rows and their own connections, so this is the app's one transactional test;
it runs on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (SELECT ... FOR UPDATE on the counter row)."""

import threading
from typing import Any

import pytest
from django.db import connection, connections

from prolotrack.billing import services
from prolotrack.billing.models import Invoice
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_numbers_one_to_n(frontdesk: User, patient: Any, fees: dict[str, Any]) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("threads need a file database: set PROLOTRACK_TEST_SQLITE")
    actor = actor_of(frontdesk)
    drafts = []
    for _ in range(THREADS):
        draft = services.draft_invoice(actor, patient)
        services.add_line(actor, draft, fees["FOLLOW-UP"])
        drafts.append(draft)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def issue(draft: Invoice) -> None:
        try:
            start.wait()
            services.issue_invoice(actor, Invoice.objects.get(pk=draft.pk))
        except BaseException as error:  # reported below, with every thread's outcome
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = sorted(Invoice.objects.filter(clinic=patient.clinic).values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 1))
