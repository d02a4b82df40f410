"""Shared test fixtures: two clinics and personas in each role.

clinician, colleague (a nurse in the same clinic), frontdesk, admin and researcher
work at "Alpha Clinic"; outsider is a clinician at "Beta Clinic". Every access test
checks that the outsider gets a 404 for Alpha's records.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from prolotrack.accounts.testing import mark_verified
from prolotrack.clinics.models import Clinic, Membership, User
from prolotrack.clinics.roles import Role
from prolotrack.clinics.services import create_api_token
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# What makes a test touch the database: pytest-django refuses a connection to any test that neither asks for one of
# these fixtures nor carries the django_db mark nor uses a fixture of ours that unblocks the database itself (a
# module-wide seeded demo). A test without any of them gives the same answer on every database (docs/OPERATIONS.md,
# "Tests on PostgreSQL").
DATABASE_FIXTURES = frozenset({"db", "transactional_db", "live_server", "django_db_setup", "django_db_reset_sequences"})
UNBLOCKERS = frozenset({"django_db_blocker", "django_db_setup"})


def pytest_addoption(parser: Any) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="Run only the tests that open a database connection (the PostgreSQL run: the rest ran on SQLite).",
    )


def touches_the_database(item: Any) -> bool:
    if item.get_closest_marker("django_db") is not None or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info and UNBLOCKERS & set(info.argnames):
        return True
    for definitions in info.name2fixturedefs.values() if info else ():
        for definition in definitions:
            ours = not (definition.func.__module__ or "").startswith("pytest_django")
            if ours and UNBLOCKERS & set(definition.argnames):
                return True
    return False


def _keep_xdist_groups(config: Any, items: list[Any]) -> None:
    """`--dist loadgroup` sends the tests of one `xdist_group` to one worker by a `@group` suffix on their node ids.
    pytest-xdist 3.8 writes that suffix where pytest 9.2 no longer reads it (Node._nodeid; pytest now keeps Node._id),
    so the groups were split across workers; this writes it where pytest reads it. Without it, each worker would seed
    its own full demo (prolotrack/demo/tests/full/conftest.py): slower, never wrong."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        if groups and "@" not in item.nodeid.rsplit("::", 1)[-1]:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    _keep_xdist_groups(config, items)
    if not config.getoption("--database-tests-only"):
        return
    kept = [item for item in items if touches_the_database(item)]
    left = [item for item in items if not touches_the_database(item)]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """pytest-django's test database, released before it is dropped: on PostgreSQL, a session still connected at the
    end of the run (a child process, a thread's connection) made the drop fail and left `test_<name>_gw0` behind
    (core/testing.release_test_database ends them, and the warning names them, to be fixed where they come from)."""
    yield
    from prolotrack.core.testing import release_test_database

    with django_db_blocker.unblock():
        held = release_test_database()
    if held:
        import warnings

        warnings.warn(
            "Sessions still held the test database at the end of the run (ended): " + "; ".join(held), stacklevel=1
        )


@pytest.fixture(autouse=True)
def _fast_tests(tmp_path: Any) -> Any:
    # Cheap hashing for speed (the production hasher is asserted in test_sign_in.py); files in a temp folder.
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        DATA_DIR=tmp_path,
        MEDIA_ROOT=tmp_path / "files",
        # Audit checkpoints live outside the database by design, so a test's database roll-back leaves them: each test
        # gets its own folder, or one test's checkpoint (31 events) reads as another test's truncated chain.
        AUDIT_CHECKPOINT_DIR=str(tmp_path / "audit-checkpoints"),
        # Background tasks run inline in tests; a test that needs a queued task overrides TASKS itself.
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        # Tests without the database still use the cache: an in-memory one here; the production database cache is
        # exercised where it matters (prolotrack/outcomes/tests/test_rate_limit.py).
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    ):
        yield


@pytest.fixture(scope="session")
def s3_bucket() -> Any:
    """One S3 bucket on moto's in-process server for the run (core/testing.S3Bucket)."""
    from prolotrack.core.testing import S3Bucket

    served = S3Bucket()
    yield served
    served.stop()


@pytest.fixture
def on_s3(s3_bucket: Any, request: Any) -> Any:
    """The file store on the S3 bucket for this test, under a prefix of its own (settings.py's PROLOTRACK_S3_*)."""
    import hashlib

    prefix = "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    with override_settings(STORAGES=s3_bucket.storages_setting(prefix=prefix)):
        yield s3_bucket


@pytest.fixture
def clinic(db: Any) -> Clinic:
    return Clinic.objects.create(name="Alpha Clinic", timezone="America/Chicago")


@pytest.fixture
def other_clinic(db: Any) -> Clinic:
    return Clinic.objects.create(name="Beta Clinic", timezone="Europe/London")


@pytest.fixture
def make_member(db: Any) -> Callable[..., User]:
    def make(username: str, role: str, clinic: Clinic) -> User:
        user = User.objects.create_user(
            username=username, password="correct horse battery", first_name=username.title()
        )
        Membership.objects.create(user=user, clinic=clinic, role=role)
        return user

    return make


@pytest.fixture
def clinician(make_member: Callable[..., User], clinic: Clinic) -> User:
    return make_member("clinician", Role.CLINICIAN, clinic)


@pytest.fixture
def colleague(make_member: Callable[..., User], clinic: Clinic) -> User:
    return make_member("colleague", Role.NURSE, clinic)


@pytest.fixture
def frontdesk(make_member: Callable[..., User], clinic: Clinic) -> User:
    return make_member("frontdesk", Role.FRONT_DESK, clinic)


@pytest.fixture
def admin_user(make_member: Callable[..., User], clinic: Clinic) -> User:
    return make_member("admin", Role.ADMIN, clinic)


@pytest.fixture
def researcher(make_member: Callable[..., User], clinic: Clinic) -> User:
    return make_member("researcher", Role.RESEARCHER, clinic)


@pytest.fixture
def outsider(make_member: Callable[..., User], other_clinic: Clinic) -> User:
    return make_member("outsider", Role.CLINICIAN, other_clinic)


@pytest.fixture
def personas(
    clinician: User, colleague: User, frontdesk: User, admin_user: User, researcher: User, outsider: User
) -> dict[str, User]:
    return {
        "clinician": clinician,
        "colleague": colleague,
        "frontdesk": frontdesk,
        "admin": admin_user,
        "researcher": researcher,
        "outsider": outsider,
    }


@pytest.fixture
def make_patient(clinician: User) -> Callable[..., Patient]:
    """Register a patient in Alpha Clinic (or as `by`), through the service."""

    def make(by: User | None = None, **fields: Any) -> Patient:
        values = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": date(1960, 5, 17), "sex": "female"}
        values.update(fields)
        with transaction.atomic():
            return patient_services.create_patient(actor_of(by or clinician), values)

    return make


@pytest.fixture
def patient(make_patient: Callable[..., Patient]) -> Patient:
    return make_patient()


@pytest.fixture
def login(client: Any) -> Callable[..., Any]:
    """Log a user in on the test client, past the second factor (the user gets an authenticator, and the session is
    marked as verified by it, as a good code on the log-in page does). `verified=False` stops after the password."""

    def do(user: User, *, verified: bool = True) -> Any:
        client.force_login(user, backend=MODEL_BACKEND)
        if verified:
            mark_verified(client, user)
        return client

    return do


@pytest.fixture
def api_token() -> Callable[[User], dict[str, str]]:
    """Bearer headers acting as a user."""

    def make(user: User) -> dict[str, str]:
        membership = Membership.objects.get(user=user)
        return {"Authorization": f"Bearer {create_api_token(membership)}"}

    return make


@pytest.fixture
def signed_consent(clinician: User, course: Any) -> Any:
    """The course's treatment consent, signed on screen (synthetic signatures; PDF rendered on first download).

    Here, not in treatment's conftest: the signing gate of the treatment tests needs a consent, and consent is a layer
    above treatment (docs/ARCHITECTURE.md, "Layers"), so the treatment tests get it as a fixture, not an import."""
    from prolotrack.consent.testing import sign_for_course

    return sign_for_course(actor_of(clinician), course, render=False)
