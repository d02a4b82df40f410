"""A backend service's JWKS registered by URL is cached (prolotrack/smart/oauth.py, docs/SMART.md): fetched once per
JWKS_CACHE_SECONDS, fetched again once when an assertion names a `kid` the cached set lacks (key rotation, at most
every JWKS_REFETCH_SECONDS), a failed or malformed fetch is not kept; the fetch itself is bounded (5 s, no redirects,
64 KB). A fake fetcher stands in for the service's site: no network."""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends import base as cache_base
from django.core.cache.backends import locmem
from jwcrypto import jwk, jwt

from prolotrack.clinics.testing import actor_of
from prolotrack.smart import oauth, services
from prolotrack.smart.models import SmartApp

JWKS_URI = "https://analytics.example.org/.well-known/jwks.json"


class Site:
    """The service's site: the key set it publishes now, and every fetch the server made."""

    def __init__(self, *keys: jwk.JWK) -> None:
        self.publish(*keys)
        self.fetches: list[str] = []
        self.down = False

    def publish(self, *keys: jwk.JWK) -> None:
        self.body = orjson.dumps({"keys": [k.export_public(as_dict=True) for k in keys]})

    def fetch(self, url: str) -> bytes:
        self.fetches.append(url)
        if self.down:
            raise requests.ConnectionError("the service's site is down")
        return self.body


class Clock:
    """time.time() for the cache, moved forward by the test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


def new_key(kid: str) -> jwk.JWK:
    return jwk.JWK.generate(kty="EC", crv="P-384", kid=kid)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    shim = Clock()
    monkeypatch.setattr(locmem, "time", shim)
    monkeypatch.setattr(cache_base, "time", shim)
    return shim


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    cache.clear()  # the tests' in-memory cache is shared by the process
    fake = Site(new_key("k1"))
    monkeypatch.setattr(oauth, "fetch_jwks", fake.fetch)
    yield fake
    cache.clear()


@pytest.fixture
def service(admin_user: Any, site: Site) -> SmartApp:
    return services.register_app(
        actor_of(admin_user), name="Analytics", kind=SmartApp.KIND_BACKEND, allowed_scopes="system/*.rs",
        jwks_uri=JWKS_URI,
    ).app  # fmt: skip


def ask(client: Any, app: SmartApp, key: jwk.JWK, kid: str | None = None) -> int:
    """A client_credentials token request with a fresh assertion signed by `key` (header kid: `kid` or the key's)."""
    header = {"alg": "ES384", "kid": kid or key.get("kid")}
    claims = {
        "iss": app.client_id, "sub": app.client_id, "jti": uuid.uuid4().hex, "exp": int(time.time()) + 240,
        "aud": ["http://testserver/oauth/token/", f"{settings.PROLOTRACK_SITE_URL}/oauth/token/"],
    }  # fmt: skip
    token = jwt.JWT(header=header, claims=claims)
    token.make_signed_token(key)
    response = client.post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": "system/*.rs", "client_assertion_type": oauth.JWT_BEARER,
         "client_assertion": token.serialize()},
    )  # fmt: skip
    return int(response.status_code)


def test_the_key_set_is_fetched_once_per_five_minutes(client: Any, service: SmartApp, site: Site, clock: Clock) -> None:
    key = new_key("k1")
    site.publish(key)
    assert [ask(client, service, key) for _ in range(3)] == [200, 200, 200]
    assert site.fetches == [JWKS_URI]
    clock.offset = oauth.JWKS_CACHE_SECONDS - 5
    assert ask(client, service, key) == 200 and len(site.fetches) == 1
    clock.offset = oauth.JWKS_CACHE_SECONDS + 1
    assert ask(client, service, key) == 200 and len(site.fetches) == 2


def test_a_rotated_key_is_fetched_once_and_made_up_kids_do_not_refetch(
    client: Any, service: SmartApp, site: Site, clock: Clock
) -> None:
    old, new = new_key("k1"), new_key("k2")
    site.publish(old)
    assert ask(client, service, old) == 200 and len(site.fetches) == 1
    site.publish(old, new)  # the service rotates: the cached set lacks k2
    assert ask(client, service, new) == 200 and len(site.fetches) == 2
    assert ask(client, service, new) == 200 and len(site.fetches) == 2  # the new set is cached
    # Unknown kids right after: refused, without fetching again (at most once per JWKS_REFETCH_SECONDS).
    stranger = new_key("k9")
    assert [ask(client, service, stranger) for _ in range(3)] == [401, 401, 401]
    assert len(site.fetches) == 2
    clock.offset = oauth.JWKS_REFETCH_SECONDS + 1
    assert ask(client, service, stranger) == 401 and len(site.fetches) == 3  # one refetch, still not published
    assert ask(client, service, old) == 200 and len(site.fetches) == 3


def test_a_key_set_that_did_not_arrive_or_does_not_parse_is_not_kept(
    client: Any, service: SmartApp, site: Site, clock: Clock
) -> None:
    key = new_key("k1")
    site.publish(key)
    site.down = True
    assert ask(client, service, key) == 401 and len(site.fetches) == 1
    site.down = False
    good = site.body
    site.body = b"<html>maintenance</html>"
    assert ask(client, service, key) == 401 and len(site.fetches) == 2
    site.body = good
    assert ask(client, service, key) == 200 and len(site.fetches) == 3
    assert ask(client, service, key) == 200 and len(site.fetches) == 3


def test_keys_registered_by_value_are_never_fetched(client: Any, admin_user: Any, site: Site) -> None:
    key = new_key("k1")
    app = services.register_app(
        actor_of(admin_user), name="Analytics", kind=SmartApp.KIND_BACKEND, allowed_scopes="system/*.rs",
        jwks=orjson.dumps({"keys": [key.export_public(as_dict=True)]}).decode(),
    ).app  # fmt: skip
    assert ask(client, app, key) == 200 and ask(client, app, key, kid="k2") == 401
    assert site.fetches == []


class FakeRaw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def read(self, amount: int, decode_content: bool = False) -> bytes:
        assert decode_content
        return self.body[:amount]


class FakeResponse:
    def __init__(self, body: bytes, status: int = 200) -> None:
        self.raw, self.status_code = FakeRaw(body), status

    def __enter__(self) -> "FakeResponse":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


@pytest.mark.parametrize(
    ("body", "status", "outcome"),
    [
        (b'{"keys": []}', 200, b'{"keys": []}'),
        (b"x" * oauth.JWKS_MAX_BYTES, 200, b"x" * oauth.JWKS_MAX_BYTES),  # exactly the limit: kept
        (b"x" * (oauth.JWKS_MAX_BYTES + 1), 200, oauth.ScopeError),  # one byte more: refused
        (b'{"keys": []}', 302, oauth.ScopeError),  # a redirect is not followed
        (b'{"keys": []}', 404, oauth.ScopeError),
        (b"", 500, oauth.ScopeError),
    ],
)
def test_the_fetch_is_bounded(monkeypatch: pytest.MonkeyPatch, body: bytes, status: int, outcome: Any) -> None:
    calls: list[dict[str, Any]] = []

    def get(url: str, **kwargs: Any) -> FakeResponse:
        calls.append({"url": url, **kwargs})
        return FakeResponse(body, status)

    monkeypatch.setattr(oauth.requests, "get", get)
    if isinstance(outcome, bytes):
        assert oauth.fetch_jwks(JWKS_URI) == outcome
    else:
        with pytest.raises(outcome):
            oauth.fetch_jwks(JWKS_URI)
    assert calls == [{"url": JWKS_URI, "timeout": 5, "stream": True, "allow_redirects": False}]
