"""A clinician's own NPI on their membership (docs/BILLING.md, "Superbill"): set by administrators on the staff page,
refused with the check-digit message when it is not a valid NPI, audited, never another clinic's member."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import AccessDenied
from prolotrack.clinics.models import Membership, User
from prolotrack.clinics.services import set_member_npi
from prolotrack.clinics.testing import actor_of

VALID = "1234567893"  # CMS's worked example: base 123456789, check digit 3


def member(user: User) -> Membership:
    return Membership.objects.get(user=user)


@pytest.mark.parametrize(
    ("text", "stored"), [("1234567893", "1234567893"), ("123-456-7893", "1234567893"), (" 1245319599 ", "1245319599")]
)
def test_an_administrator_records_a_clinicians_npi(admin_user: User, clinician: User, text: str, stored: str) -> None:
    saved = set_member_npi(actor_of(admin_user), member(clinician), text)
    assert saved.npi == stored == member(clinician).npi
    event = AuditEvent.objects.get(action="clinic.member.npi_set")
    assert event.detail["changes"] == {"npi": ["", stored]} and event.detail["member"] == clinician.username


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1234567890", "does not match the check digit"),  # one digit off: Luhn catches it
        ("1234567839", "does not match the check digit"),  # two digits swapped
        ("123456789", "is 10 digits"),
        ("12345678AB", "is 10 digits"),
    ],
)
def test_a_bad_npi_is_refused_with_its_reason_and_nothing_written(
    admin_user: User, clinician: User, text: str, message: str
) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        set_member_npi(actor_of(admin_user), member(clinician), text)
    assert message in " ".join(caught.value.message_dict["npi"])
    assert member(clinician).npi == "" and AuditEvent.objects.count() == before


def test_only_administrators_of_the_same_clinic_set_it(
    frontdesk: User, clinician: User, make_member: Any, other_clinic: Any
) -> None:
    with pytest.raises(AccessDenied):
        set_member_npi(actor_of(frontdesk), member(clinician), VALID)
    other_admin = make_member("admin2", "admin", other_clinic)
    with pytest.raises(AccessDenied):
        set_member_npi(actor_of(other_admin), member(clinician), VALID)
    assert member(clinician).npi == ""


def test_the_staff_page(login: Any, admin_user: User, clinician: User, frontdesk: User) -> None:
    client = login(admin_user)
    url = reverse("accounts:staff")
    page = client.get(url).content.decode()
    assert clinician.username in page and "Own NPI" in page
    target = reverse("accounts:staff-npi", args=[member(clinician).pk])
    bad = client.post(target, {"npi": "1234567890"})
    assert bad.status_code == 400 and "does not match the check digit" in bad.content.decode()
    assert member(clinician).npi == ""
    good = client.post(target, {"npi": VALID})
    assert good.status_code == 302 and member(clinician).npi == VALID
    assert VALID in client.get(url).content.decode()
    desk = login(frontdesk)
    assert desk.get(url).status_code == 403 and desk.post(target, {"npi": VALID}).status_code == 403


def test_another_clinics_member_is_not_found(login: Any, make_member: Any, other_clinic: Any, clinician: User) -> None:
    client = login(make_member("admin2", "admin", other_clinic))
    response = client.post(reverse("accounts:staff-npi", args=[member(clinician).pk]), {"npi": VALID})
    assert response.status_code == 404 and member(clinician).npi == ""
