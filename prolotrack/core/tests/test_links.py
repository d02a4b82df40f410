"""The shared patient-link machinery: token hashing, link states, and rate limits in the shared cache."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from prolotrack.core.links import TOKEN_MAX_LENGTH, LinkState, PatientLinkBase, RateLimit, new_token, token_hash

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def _link(single_use=True, **fields):
    values = {"revoked_at": None, "used_at": None, "expires_at": NOW + timedelta(hours=1), **fields}
    return SimpleNamespace(single_use=single_use, **values)


@pytest.mark.parametrize(
    ("fields", "single_use", "state"),
    [
        ({}, True, LinkState.OPEN),
        ({"expires_at": NOW}, True, LinkState.EXPIRED),  # the expiry instant itself is closed
        ({"expires_at": NOW - timedelta(seconds=1)}, True, LinkState.EXPIRED),
        ({"used_at": NOW - timedelta(minutes=5)}, True, LinkState.USED),
        ({"used_at": NOW - timedelta(minutes=5)}, False, LinkState.OPEN),  # a manage link opens again
        ({"used_at": NOW, "expires_at": NOW}, False, LinkState.EXPIRED),
        ({"revoked_at": NOW, "used_at": NOW}, True, LinkState.REVOKED),  # revoked wins over used and expired
        ({"revoked_at": NOW, "expires_at": NOW - timedelta(days=1)}, False, LinkState.REVOKED),
    ],
)
def test_link_state(fields, single_use, state):
    assert PatientLinkBase.state(_link(single_use, **fields), NOW) == state


def test_tokens_are_long_random_and_stored_only_as_their_hash():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(len(token) == 43 for token in tokens)
    token = tokens.pop()
    assert token_hash(token) != token and len(token_hash(token)) == 64
    assert token_hash(token) == token_hash(token)


def test_an_overlong_or_empty_token_is_not_looked_up():
    class Rows:
        def filter(self, **kwargs):  # the query a lookup would make
            raise AssertionError("looked up")

    assert PatientLinkBase.by_token.__func__(PatientLinkBase, "x" * (TOKEN_MAX_LENGTH + 1), Rows()) is None
    assert PatientLinkBase.by_token.__func__(PatientLinkBase, "", Rows()) is None
    with pytest.raises(AssertionError, match="looked up"):  # a token of a normal length is
        PatientLinkBase.by_token.__func__(PatientLinkBase, new_token(), Rows())


@pytest.mark.django_db
def test_rate_limit_counts_per_key_and_says_how_long_to_wait():
    limit = RateLimit("test-links", allowed=3, window_seconds=600)
    cache.delete_many([limit.cache_key("a@example.org"), limit.cache_key("b@example.org")])
    assert [limit.hit("a@example.org") for _ in range(4)] == [True, True, True, False]
    wait = limit.retry_after("A@Example.org ")  # the same contact however it is typed
    assert wait is not None and 590 <= wait <= 601
    assert limit.retry_after("b@example.org") is None and limit.hit("b@example.org")


@pytest.mark.django_db
def test_rate_limit_keys_hold_no_contact_details():
    limit = RateLimit("test-links", allowed=1, window_seconds=60)
    key = limit.cache_key("jane.doe@example.org")
    assert "jane" not in key and "example" not in key
