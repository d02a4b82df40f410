"""The demo as `make run` seeds it (seed_demo() with its defaults: 220 patients in the demo clinic, 30 in the second),
seeded once for every test in this folder and rolled back at the end.

Seeding the whole demo takes minutes, so the tests that only read it share one: the fixture opens a transaction for
the folder and each test runs in a savepoint inside it (pytest-django's `db`), so a test's own writes are undone
before the next. Each module here carries one xdist group (`pytestmark`, `full_demo`) and `make test` distributes with
`--dist loadgroup`, so one test process seeds it once instead of each process seeding its own.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from prolotrack.clinics.models import Clinic
from prolotrack.demo.seed import DEMO_CLINIC, seed_demo


@pytest.fixture(scope="package")
def demo_folder(tmp_path_factory: Any) -> Any:
    """Where the seeded demo keeps its files (the file store under files/): one folder for the whole package."""
    return tmp_path_factory.mktemp("full-demo")


@pytest.fixture(autouse=True)
def _demo_files(demo_folder: Any) -> Iterator[None]:
    # The root conftest gives every test its own empty MEDIA_ROOT; tests here read the files the demo seed stored
    # (consent and ABN PDFs in the content-addressed store), so they read from the demo's folder.
    with override_settings(MEDIA_ROOT=demo_folder / "files"):
        yield


@pytest.fixture(scope="package")
def demo(django_db_setup: Any, django_db_blocker: Any, demo_folder: Any) -> Iterator[Clinic]:
    folder = demo_folder
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        MEDIA_ROOT=folder / "files",
        DATA_DIR=folder,
        AUDIT_CHECKPOINT_DIR=str(folder / "audit-checkpoints"),
        PROLOTRACK_SMS_BACKEND="prolotrack.messaging.backends.LocmemSMSBackend",
    )
    with pytest.MonkeyPatch.context() as patch, django_db_blocker.unblock(), fast:
        patch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo-pass-123")
        with transaction.atomic():
            seed_demo()
            yield Clinic.objects.get(name=DEMO_CLINIC)
            transaction.set_rollback(True)
