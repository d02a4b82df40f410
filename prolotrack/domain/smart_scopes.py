"""SMART on FHIR scopes (App Launch 2.x, "Scopes and launch context"): parse, compare, and decide one interaction.

A resource scope is `<context>/<type>.<permissions>`: context `patient` (one patient's compartment), `user` (what
the signed-in user may see) or `system` (a backend service, no person); type a FHIR resource type or `*`;
permissions a subset of `cruds` in that order (create, read, update, delete, search). SMART v1's `.read` (= `rs`),
`.write` (= `cud`) and `.*` (= `cruds`) are accepted as aliases. Other scopes the server knows: `launch`,
`launch/patient`, `openid`, `fhirUser`, `profile`, `offline_access`, `online_access`.

Not supported (refused as unknown): v2 fine-grained query parameters (`patient/Observation.rs?category=...`), and
`launch/encounter` (ProloTrack has no encounters). Pure: no Django.
"""

import re
from dataclasses import dataclass

CONTEXTS = ("patient", "user", "system")
INTERACTIONS = "cruds"  # create, read, update, delete, search: SMART v2's order
V1_ALIASES = {"read": "rs", "write": "cud", "*": "cruds"}
OTHER_SCOPES = frozenset(
    {"launch", "launch/patient", "openid", "fhirUser", "profile", "offline_access", "online_access"}
)

_RESOURCE = re.compile(r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]{1,63})\.(?P<perms>[a-z*]+)$")


class ScopeError(ValueError):
    """A scope string that is not SMART syntax (or not supported here)."""


@dataclass(frozen=True)
class ResourceScope:
    context: str  # patient | user | system
    resource_type: str  # a FHIR type or "*"
    permissions: frozenset[str]  # letters of "cruds"

    def covers(self, other: "ResourceScope") -> bool:
        """Whether this scope grants everything `other` asks for (same context, same or wildcard type, superset)."""
        return (
            self.context == other.context
            and self.resource_type in ("*", other.resource_type)
            and other.permissions <= self.permissions
        )

    def text(self) -> str:
        return f"{self.context}/{self.resource_type}.{''.join(c for c in INTERACTIONS if c in self.permissions)}"


def parse_scope(text: str) -> ResourceScope | str:
    """One scope: a ResourceScope, or the name of another known scope; ScopeError for anything else."""
    if text in OTHER_SCOPES:
        return text
    match = _RESOURCE.match(text)
    if match is None:
        if "?" in text:
            raise ScopeError(f"{text!r}: query parameters in scopes are not supported.")
        raise ScopeError(f"{text!r} is not a SMART scope (e.g. patient/Observation.rs, user/*.cruds, launch/patient).")
    perms = match["perms"]
    if perms in V1_ALIASES:
        perms = V1_ALIASES[perms]
    if (
        not perms
        or any(c not in INTERACTIONS for c in perms)
        or perms != "".join(c for c in INTERACTIONS if c in perms)
    ):
        raise ScopeError(f"{text!r}: permissions are letters of 'cruds' in that order, each once (v1: read, write).")
    return ResourceScope(match["context"], match["type"], frozenset(perms))


@dataclass(frozen=True)
class ScopeSet:
    """A parsed, valid set of scopes."""

    resources: tuple[ResourceScope, ...]
    others: frozenset[str]

    @property
    def contexts(self) -> frozenset[str]:
        return frozenset(s.context for s in self.resources)

    def allows(self, resource_type: str, interaction: str) -> bool:
        """Whether any resource scope grants `interaction` (one of c r u d s) on `resource_type`."""
        return any(s.resource_type in ("*", resource_type) and interaction in s.permissions for s in self.resources)

    def context_for(self, resource_type: str, interaction: str) -> str | None:
        """The widest context that grants the interaction (system > user > patient), or None."""
        granted = {
            s.context
            for s in self.resources
            if s.resource_type in ("*", resource_type) and interaction in s.permissions
        }
        for context in ("system", "user", "patient"):
            if context in granted:
                return context
        return None

    def text(self) -> str:
        return " ".join([s.text() for s in self.resources] + sorted(self.others))


def parse_scopes(text: str) -> ScopeSet:
    """A space-separated scope string; ScopeError naming the first scope that is not valid."""
    resources: list[ResourceScope] = []
    others: set[str] = set()
    for part in text.split():
        parsed = parse_scope(part)
        if isinstance(parsed, ResourceScope):
            if parsed not in resources:
                resources.append(parsed)
        else:
            others.add(parsed)
    return ScopeSet(tuple(resources), frozenset(others))


def grantable(requested: str, allowed: str, *, grant: str) -> ScopeSet:
    """The requested scopes if every one is within the app's allowed scopes and fits the grant; else ScopeError.

    `grant` is `authorization_code` (patient/user scopes and the launch/OpenID scopes) or `client_credentials`
    (system scopes only). A requested resource scope is within the allowed ones when one allowed scope covers it
    (e.g. allowed `patient/*.rs` covers requested `patient/Observation.rs`)."""
    wanted = parse_scopes(requested)
    permitted = parse_scopes(allowed)
    for scope in wanted.resources:
        if grant == "client_credentials" and scope.context != "system":
            raise ScopeError(f"{scope.text()}: a backend service (client_credentials) asks for system/ scopes only.")
        if grant != "client_credentials" and scope.context == "system":
            raise ScopeError(f"{scope.text()}: system/ scopes are for backend services (client_credentials).")
        if not any(p.covers(scope) for p in permitted.resources):
            raise ScopeError(f"{scope.text()} is not among the scopes this app is registered for.")
    for name in wanted.others:
        if grant == "client_credentials":
            raise ScopeError(f"{name}: a backend service asks for system/ scopes only.")
        if name not in permitted.others:
            raise ScopeError(f"{name} is not among the scopes this app is registered for.")
    if not wanted.resources and grant == "client_credentials":
        raise ScopeError("Ask for at least one system/ scope, e.g. system/*.rs.")
    return wanted


VERBS = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}
WHOSE = {
    "patient": "of the selected patient only",
    "user": "as far as your role lets you see them",
    "system": "of the whole clinic",
}
# The consent page names records as staff know them, not by FHIR type (docs/FHIR.md maps each type to its records).
RECORDS = {
    "*": "all records",
    "Patient": "patient details (name, birth date, contact)",
    "Organization": "the clinic's details",
    "Practitioner": "the staff directory",
    "Condition": "conditions and diagnoses",
    "AllergyIntolerance": "allergies",
    "MedicationStatement": "medication lists",
    "MedicationRequest": "prescriptions",
    "Observation": "observations (weights, pain and questionnaire scores)",
    "QuestionnaireResponse": "questionnaire answers",
    "CarePlan": "treatment plans",
    "Appointment": "appointments",
    "Schedule": "the clinicians' booking schedules (and their free times)",
    "Procedure": "procedures (injection sessions)",
    "BodyStructure": "injection sites",
    "Medication": "medicines",
    "MedicationAdministration": "injectates given",
    "AdverseEvent": "adverse events",
    "Consent": "consents",
    "DocumentReference": "documents",
    "Group": "patient groups",
}


def describe(text: str) -> str:
    """A sentence for the consent page."""
    try:
        parsed = parse_scope(text)
    except ScopeError:
        return text
    if isinstance(parsed, str):
        return {
            "launch": "Open with the patient of the chart you launched it from",
            "launch/patient": "Work with one patient you choose here",
            "openid": "Know who you are (OpenID Connect)",
            "fhirUser": "Know who you are in this clinic (your Practitioner record)",
            "profile": "Know your name",
            "offline_access": "Keep access after you sign out (refresh token, until revoked)",
            "online_access": "Keep access while you are signed in (refresh token)",
        }[parsed]
    verbs = [VERBS[c] for c in INTERACTIONS if c in parsed.permissions]
    done = verbs[0] if len(verbs) == 1 else f"{', '.join(verbs[:-1])} and {verbs[-1]}"
    what = RECORDS.get(parsed.resource_type, parsed.resource_type)
    return f"{done.capitalize()}: {what}, {WHOSE[parsed.context]}"
