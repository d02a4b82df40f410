"""The CapabilityStatement, built from the same resource table that serves read, search and export."""

from typing import Any

from django.utils import timezone

from prolotrack.fhir.resources import TYPES
from prolotrack.fhir.search import DEFAULT_COUNT, MAX_COUNT

# Types the write side (write_views.py, importer.py) creates and updates: transaction entries and PUT with If-Match.
WRITABLE = ("Patient", "Condition", "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Observation")
BULK_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
BULK_PATIENT_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
BULK_GROUP_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"


def _resource(name: str) -> dict[str, Any]:
    rtype = TYPES[name]
    interactions = [{"code": "read"}, {"code": "search-type"}]
    if rtype.sources[0].versioned:
        interactions += [{"code": "vread"}, {"code": "history-instance"}]
    if name in WRITABLE:
        # create: POST [type] (a one-entry transaction); update: PUT with If-Match; delete: marks entered in error.
        # patch: JSON Patch or merge patch applied to the served resource, then written as that update.
        interactions += [{"code": "create"}, {"code": "update"}, {"code": "patch"}, {"code": "delete"}]
    doc = []
    if rtype.gone_when_eie:
        doc.append("A record entered in error answers 410 Gone and is left out of search and export.")
    else:
        doc.append("A record entered in error is served with status entered-in-error.")
    if name == "Observation":
        doc.append(
            "Sources: body weights (LOINC 29463-7), questionnaire scores (e.g. LOINC 72514-3), then Observations "
            "received from other systems, served as they were sent."
        )
    if name == "Appointment":
        doc.append(
            "Sources: course sessions (serviceType prolotherapy), then the booking app's appointments (serviceType "
            "an appointment kind). A person who booked online and is not confirmed yet is a participant with a "
            "display only, never a Patient reference; online holds not yet verified are not served."
        )
    out: dict[str, Any] = {
        "type": name,
        "documentation": " ".join(doc),
        "interaction": interactions,
        "versioning": "versioned-update" if name in WRITABLE else "versioned",
        "conditionalRead": "not-match" if rtype.sources[0].versioned else "not-supported",
        "readHistory": rtype.sources[0].versioned,
        "updateCreate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [{"name": p, "type": t} for p, t in rtype.search_params()],
    }
    if rtype.includes:
        out["searchInclude"] = sorted(rtype.includes)
    revincludes = sorted(n for t in TYPES.values() for n, inc in t.includes.items() if inc.target == name)
    if revincludes:
        out["searchRevInclude"] = revincludes
    if name == "Patient":
        # Transaction entries may be conditional on identifier (ifNoneExist, PUT Patient?identifier=...).
        out["conditionalCreate"] = True
        out["conditionalUpdate"] = True
        out["operation"] = [{"name": "export", "definition": BULK_PATIENT_EXPORT}]
    if name == "Group":
        out["operation"] = [{"name": "export", "definition": BULK_GROUP_EXPORT}]
    return out


def capability_statement(base_url: str) -> dict[str, Any]:
    resources = [_resource(name) for name in sorted(TYPES)]
    resources.append(
        {
            "type": "Questionnaire",
            "documentation": "The outcome instruments (domain.instruments); licensed item texts are not included.",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "no-version",
            "searchParam": [{"name": "_id", "type": "token"}, {"name": "url", "type": "uri"}],
        }
    )
    resources.append(
        {
            "type": "Slot",
            "documentation": "The free slots of a Schedule, computed from the clinicians' hours under the staff "
            "booking rules (not stored): a Slot exists while it is free. Search a window of at most 31 days of "
            "start (default the next 7); only status free matches. Not in Bulk export.",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "no-version",
            "searchParam": [
                {"name": "_id", "type": "token"},
                {"name": "schedule", "type": "reference"},
                {"name": "start", "type": "date"},
                {"name": "status", "type": "token"},
                {"name": "service-type", "type": "token"},
            ],
        }
    )
    resources.append(
        {
            "type": "Binary",
            "documentation": "The PDF of a DocumentReference (same id), served as application/pdf.",
            "interaction": [{"code": "read"}],
        }
    )
    resources.sort(key=lambda r: r["type"])
    return {
        "resourceType": "CapabilityStatement",
        "id": "prolotrack",
        "name": "ProloTrackFHIRServer",
        "title": "ProloTrack FHIR R4 server",
        "status": "active",
        "date": timezone.now().date(),
        "publisher": "ProloTrack",
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "software": {"name": "ProloTrack"},
        "implementation": {"description": "ProloTrack prolotherapy clinic records", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"Search pages hold {DEFAULT_COUNT} entries by default (_count up to {MAX_COUNT}); paging is "
                    "by opaque cursor links (next/previous); the Bundle has a total only with _total=accurate, "
                    "_summary=count or _count=0. Searches may also be POSTed to [type]/_search. DELETE marks a "
                    "record entered in error (never erased); PATCH takes a JSON Patch (application/json-patch+json) "
                    "or a JSON merge patch, with If-Match, and writes the result as an update. Unsupported search "
                    "parameters are ignored and reported in an OperationOutcome entry, or refused with 400 when the "
                    "request says 'Prefer: handling=strict'. Another clinic's record answers 404."
                ),
                "security": _security(base_url),
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "operation": [{"name": "export", "definition": BULK_EXPORT}],
            }
        ],
    }


OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def _security(base_url: str) -> dict[str, Any]:
    """SMART on FHIR (docs/SMART.md): the OAuth endpoints as the oauth-uris extension, beside the clinic API tokens."""
    from django.urls import reverse

    root = base_url.removesuffix("/fhir")
    uris = [
        ("authorize", reverse("oauth2_provider:authorize")),
        ("token", reverse("oauth2_provider:token")),
        ("introspect", reverse("oauth2_provider:introspect")),
        ("revoke", reverse("oauth2_provider:revoke-token")),
        ("manage", reverse("smart:apps")),
    ]
    return {
        "extension": [
            {"url": OAUTH_URIS, "extension": [{"url": name, "valueUri": f"{root}{path}"} for name, path in uris]}
        ],
        "cors": False,
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }
                ],
                "text": "OAuth 2.0 with SMART App Launch 2.x and Backend Services",
            }
        ],
        "description": "SMART on FHIR access tokens (authorization code with PKCE S256, standalone and EHR launch; "
        "client_credentials with private_key_jwt for backend services; discovery at "
        f"{base_url}/.well-known/smart-configuration), scoped by SMART v2 scopes on every interaction; or a clinic "
        "API token (Authorization: Bearer <token>, `manage.py create_api_token`), which acts as one clinic "
        "membership and its role. Either way the role bounds what is served.",
    }
