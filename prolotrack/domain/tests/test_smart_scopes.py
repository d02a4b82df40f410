"""SMART scopes (App Launch 2.x): parsing, v1 aliases, coverage by an app's registration, one interaction's context."""

import pytest

from prolotrack.domain.smart_scopes import (
    ResourceScope,
    ScopeError,
    describe,
    grantable,
    parse_scope,
    parse_scopes,
)


@pytest.mark.parametrize(
    ("text", "context", "rtype", "perms"),
    [
        ("patient/Observation.rs", "patient", "Observation", "rs"),
        ("user/*.cruds", "user", "*", "cruds"),
        ("system/*.rs", "system", "*", "rs"),
        ("patient/Patient.r", "patient", "Patient", "r"),
        ("user/Condition.cud", "user", "Condition", "cud"),
        ("patient/*.read", "patient", "*", "rs"),  # v1 alias
        ("user/Observation.write", "user", "Observation", "cud"),  # v1 alias
        ("system/*.*", "system", "*", "cruds"),  # v1 alias
    ],
)
def test_resource_scopes_parse(text: str, context: str, rtype: str, perms: str) -> None:
    assert parse_scope(text) == ResourceScope(context, rtype, frozenset(perms))


@pytest.mark.parametrize(
    "text", ["launch", "launch/patient", "openid", "fhirUser", "profile", "offline_access", "online_access"]
)
def test_other_known_scopes_parse_as_their_name(text: str) -> None:
    assert parse_scope(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "patient/Observation.sr",  # letters out of order
        "patient/Observation.rr",  # twice
        "patient/Observation.x",
        "patient/Observation.",
        "patient/observation.rs",  # a type starts upper-case
        "group/Observation.rs",  # no such context
        "patient/Observation.rs?category=vital-signs",  # v2 query parameters: not supported
        "launch/encounter",  # no encounters in ProloTrack
        "admin",
        "patient/*",
        "",
    ],
)
def test_invalid_scopes_are_refused(text: str) -> None:
    with pytest.raises(ScopeError):
        parse_scope(text)


def test_a_scope_string_keeps_each_scope_once_and_normalises_v1() -> None:
    parsed = parse_scopes("launch/patient openid patient/Observation.read patient/Observation.rs  fhirUser")
    assert parsed.resources == (ResourceScope("patient", "Observation", frozenset("rs")),)
    assert parsed.others == {"launch/patient", "openid", "fhirUser"}
    assert parsed.text() == "patient/Observation.rs fhirUser launch/patient openid"


@pytest.mark.parametrize(
    ("scopes", "rtype", "interaction", "allowed", "context"),
    [
        ("patient/Observation.rs", "Observation", "r", True, "patient"),
        ("patient/Observation.rs", "Observation", "s", True, "patient"),
        ("patient/Observation.rs", "Procedure", "r", False, None),
        ("patient/Observation.rs", "Observation", "c", False, None),
        ("user/*.rs", "Procedure", "s", True, "user"),
        ("user/*.rs", "Procedure", "u", False, None),
        ("user/*.cruds", "Condition", "d", True, "user"),
        ("patient/*.rs user/Procedure.r", "Procedure", "r", True, "user"),  # the wider context wins
        ("patient/*.rs user/Procedure.r", "Observation", "r", True, "patient"),
        ("system/*.rs patient/*.rs", "Patient", "r", True, "system"),
        ("openid fhirUser", "Patient", "r", False, None),
    ],
)
def test_one_interaction_is_allowed_in_the_widest_context(
    scopes: str, rtype: str, interaction: str, allowed: bool, context: str | None
) -> None:
    parsed = parse_scopes(scopes)
    assert parsed.allows(rtype, interaction) is allowed
    assert parsed.context_for(rtype, interaction) == context


@pytest.mark.parametrize(
    ("requested", "registered", "grant"),
    [
        ("patient/Observation.rs launch/patient", "patient/*.rs launch/patient openid", "authorization_code"),
        ("patient/Observation.r", "patient/Observation.cruds", "authorization_code"),
        ("user/Procedure.s", "user/*.rs", "authorization_code"),
        ("system/*.rs", "system/*.rs", "client_credentials"),
        ("system/Patient.r", "system/*.rs", "client_credentials"),
    ],
)
def test_requests_within_the_registration_are_granted(requested: str, registered: str, grant: str) -> None:
    assert grantable(requested, registered, grant=grant) == parse_scopes(requested)


@pytest.mark.parametrize(
    ("requested", "registered", "grant", "message"),
    [
        ("patient/Observation.rs", "patient/Condition.rs", "authorization_code", "not among"),
        ("patient/*.cruds", "patient/*.rs", "authorization_code", "not among"),  # asks to write, may only read
        ("user/Observation.rs", "patient/*.rs", "authorization_code", "not among"),  # wider context than registered
        ("offline_access", "patient/*.rs", "authorization_code", "not among"),
        ("system/*.rs", "system/*.rs", "authorization_code", "backend services"),
        ("patient/*.rs", "patient/*.rs", "client_credentials", "system/ scopes only"),
        ("openid", "openid system/*.rs", "client_credentials", "system/ scopes only"),
        ("", "system/*.rs", "client_credentials", "at least one"),
        ("system/*.cruds", "system/*.rs", "client_credentials", "not among"),
        ("patient/Observation.sr", "patient/*.rs", "authorization_code", "order"),
    ],
)
def test_requests_beyond_the_registration_are_refused(
    requested: str, registered: str, grant: str, message: str
) -> None:
    with pytest.raises(ScopeError, match=message):
        grantable(requested, registered, grant=grant)


def test_descriptions_read_as_sentences() -> None:
    assert describe("patient/Observation.rs") == (
        "Read and search: observations (weights, pain and questionnaire scores), of the selected patient only"
    )
    assert describe("user/*.cruds") == (
        "Create, read, update, delete and search: all records, as far as your role lets you see them"
    )
    assert describe("system/Procedure.r") == "Read: procedures (injection sessions), of the whole clinic"
    assert describe("patient/Basic.rs") == "Read and search: Basic, of the selected patient only"  # unknown: its name
    assert describe("launch/patient") == "Work with one patient you choose here"
    assert describe("nonsense") == "nonsense"
