"""Two app processes share the questionnaire-link rate limit and the log-in lockout (issue 17, "Many app servers").

A second Python process (a subprocess with its own Django, its own cache client and its own database connection, as a
second app server has) makes the failed attempts through the real pages; this process then finds the address limited
and the account locked. With the database cache (the default) and with Redis (CACHE_URL), when a server answers."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from prolotrack.outcomes.views.answer import FAILED_LOOKUPS, FAILED_LOOKUPS_ALLOWED

ROOT = Path(settings.BASE_DIR)
REDIS_URL = os.environ.get("PROLOTRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

SECOND_SERVER = """
import json, sys
import django
django.setup()
from django.test import Client
address, lookups, logins = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
client = Client(REMOTE_ADDR=address)
statuses = [client.get(f"/q/guess-from-b-{n}/").status_code for n in range(lookups)]
for _ in range(logins):
    statuses.append(client.post("/accounts/login/", {"username": "clinician", "password": "wrong one"}).status_code)
print(json.dumps(statuses))
"""


def _database_url() -> str:
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{conf['NAME']}"
    auth = quote(conf["USER"] or "", safe="")
    if conf["PASSWORD"]:
        auth += ":" + quote(conf["PASSWORD"], safe="")
    return f"postgresql://{auth}@{conf['HOST'] or 'localhost'}:{conf['PORT'] or 5432}/{conf['NAME']}"


def _second_server(tmp_path: Path, address: str, *, lookups: int, logins: int, cache_url: str = "") -> list[int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CACHE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="prolotrack.settings",
        DATABASE_URL=_database_url(),
        PROLOTRACK_DATA_DIR=str(tmp_path / "server-b"),
        PROLOTRACK_CACHE_LOCATION=settings.CACHES["default"].get("LOCATION", "prolotrack_cache"),
    )
    if cache_url:
        env["CACHE_URL"] = cache_url
    done = subprocess.run(  # noqa: S603 - this interpreter, our script
        [sys.executable, "-c", SECOND_SERVER, address, str(lookups), str(logins)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def _address() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.mark.django_db(transaction=True)
def test_the_database_cache_and_axes_are_shared_with_a_second_process(clinician: Any, tmp_path: Path) -> None:
    """transaction=True: the second process must see the committed user and write its own rows beside ours."""
    from prolotrack import settings as production

    address = _address()
    with override_settings(CACHES=production.CACHES):
        assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
        limit = settings.AXES_FAILURE_LIMIT
        statuses = _second_server(tmp_path, address, lookups=FAILED_LOOKUPS_ALLOWED, logins=limit)
        assert statuses[:FAILED_LOOKUPS_ALLOWED] == [404] * FAILED_LOOKUPS_ALLOWED
        assert statuses[-1] == 429  # the second process locked the pair out on its last attempt

        here, elsewhere = Client(REMOTE_ADDR=address), Client(REMOTE_ADDR=_address())
        assert here.get("/q/guess-from-a/").status_code == 429
        assert elsewhere.get("/q/guess-from-a/").status_code == 404
        right = {"username": "clinician", "password": "correct horse battery"}
        assert here.post("/accounts/login/", right).status_code == 429
        assert elsewhere.post("/accounts/login/", right).status_code == 302
        cache.delete_many([FAILED_LOOKUPS.cache_key(address), f"{FAILED_LOOKUPS.cache_key(address)}:until"])


@pytest.mark.django_db
def test_a_redis_cache_is_shared_with_a_second_process(tmp_path: Path) -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"no Redis server at {REDIS_URL} ({error.__class__.__name__})")
    address = _address()
    redis_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    with override_settings(CACHES=redis_cache):
        try:
            statuses = _second_server(tmp_path, address, lookups=FAILED_LOOKUPS_ALLOWED, logins=0, cache_url=REDIS_URL)
            assert statuses == [404] * FAILED_LOOKUPS_ALLOWED
            assert cache.get(FAILED_LOOKUPS.cache_key(address)) == FAILED_LOOKUPS_ALLOWED
            assert Client(REMOTE_ADDR=address).get("/q/guess-from-a/").status_code == 429
            assert Client(REMOTE_ADDR=_address()).get("/q/guess-from-a/").status_code == 404
        finally:
            cache.delete_many([FAILED_LOOKUPS.cache_key(address), f"{FAILED_LOOKUPS.cache_key(address)}:until"])


def test_cache_url_chooses_redis_and_refuses_other_schemes(tmp_path: Path) -> None:
    script = "import json; from prolotrack import settings as s; print(json.dumps(s.CACHES['default']))"
    env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"} | {"PROLOTRACK_DATA_DIR": str(tmp_path)}

    def load(url: str | None) -> subprocess.CompletedProcess[str]:
        extra = {"CACHE_URL": url} if url is not None else {}
        return subprocess.run(  # noqa: S603 - this interpreter, our script
            [sys.executable, "-c", script], cwd=ROOT, env={**env, **extra}, capture_output=True, text=True, timeout=120
        )

    default = json.loads(load(None).stdout)
    assert default["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    redis = json.loads(load("redis://cache.internal:6379/2").stdout)
    assert redis == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/2",
    }
    refused = load("memcached://cache.internal:11211")
    assert refused.returncode != 0 and "CACHE_URL must be a redis://" in refused.stderr
