"""Course package pages: an administrator adds an offer on the fee schedule, the front desk sells one from the
patient's account, the uses show on the account, the package's page and the course page, an administrator settles a
package whose course stopped early; who may see and do what, persona by persona."""

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from prolotrack.audit.models import AuditEvent
from prolotrack.billing import queries, services
from prolotrack.billing.models import FeeItem, PackageTerms, SoldPackage
from prolotrack.billing.tests.test_packages import offer, sell, stop  # noqa: F401 (fixtures)
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment.models import Course

D = Decimal


def test_an_administrator_adds_an_offer_on_the_fee_schedule(
    login: Any, admin_user: User, fees: Any, clinic: Any
) -> None:
    client = login(admin_user)
    page = client.get(reverse("billing:fees")).content.decode()
    assert "Course packages" in page and "Add a package offer" in page and "Rabago" in page
    form = {
        "code": "PKG-KNEE-3", "description": "Knee course of 3", "price": "600.00", "uses": "3",
        "validity_days": "180", "protocol_id": "knee_oa_rabago", "effective_from": services.clinic_today(clinic),
    }  # fmt: skip
    before = FeeItem.objects.count(), PackageTerms.objects.count(), AuditEvent.objects.count()
    bad = client.post(reverse("billing:package-offer-add"), {**form, "uses": "0"})
    assert bad.status_code == 400 and "from 1 to 50, not 0" in bad.content.decode()
    assert (FeeItem.objects.count(), PackageTerms.objects.count(), AuditEvent.objects.count()) == before
    response = client.post(reverse("billing:package-offer-add"), form)
    assert response.status_code == 302
    page = client.get(reverse("billing:fees")).content.decode()
    assert "PKG-KNEE-3" in page and "180 days" in page and "sessions of" in page


def test_the_front_desk_sells_a_package_and_the_uses_show_everywhere(
    login: Any,
    frontdesk: User,
    admin_user: User,
    clinician: User,
    patient: Any,
    offer: FeeItem,  # noqa: F811
    course: Course,
    signed_session: Any,
) -> None:
    client = login(frontdesk)
    sell_url = reverse("billing:package-sell", args=[patient.uuid])
    page = client.get(sell_url).content.decode()
    assert "Knee course of 3" in page and str(course.indication) in page
    response = client.post(sell_url, {"offer": str(offer.uuid), "course": str(course.uuid)})
    assert response.status_code == 302
    sold = SoldPackage.objects.get()
    assert response["Location"] == reverse("billing:invoice", args=[sold.invoice.uuid])
    services.issue_invoice(actor_of(frontdesk), sold.invoice)
    response = client.post(reverse("billing:invoice-from-session", args=[signed_session.uuid]))
    assert response.status_code == 302
    account = client.get(reverse("billing:account", args=[patient.uuid])).content.decode()
    assert "Sell a package" in account and "2 of 3</b> sessions left" in account
    package_page = client.get(reverse("billing:package", args=[sold.uuid])).content.decode()
    assert "Sessions that drew a use" in package_page and "Session 1" in package_page
    card = client.get(reverse("billing:course-packages", args=[course.uuid])).content.decode()
    assert "2 of 3</b> sessions left" in card and "Use 1: session 1" in card
    course_page = login(clinician).get(reverse("treatment:course", args=[course.uuid])).content.decode()
    assert reverse("billing:course-packages", args=[course.uuid]) in course_page


def test_an_administrator_settles_a_package_whose_course_stopped(
    login: Any,
    admin_user: User,
    clinician: User,
    course: Course,
    sell: Any,  # noqa: F811
) -> None:
    sold = sell(course)
    client = login(admin_user)
    url = reverse("billing:package-settle", args=[sold.uuid])
    assert "stop the course first" in client.get(url).content.decode()
    stop(clinician, course)
    page = client.get(url).content.decode()
    assert "600.00 USD" in page and "Pro rata" in page
    response = client.post(url, {"version": sold.version, "confirm": "yes"})
    assert response.status_code == 302
    settled = SoldPackage.objects.get(pk=sold.pk)
    assert settled.credit_note is not None and settled.refund == D("600.00")
    assert "Settled" in client.get(reverse("billing:package", args=[sold.uuid])).content.decode()
    assert queries.invoice_credited(settled.invoice) == D("600.00")


@pytest.mark.parametrize(
    ("persona", "view", "sell_page", "settle_page"),
    [
        ("frontdesk", 200, 200, 403),
        ("admin_user", 200, 200, 200),
        ("clinician", 200, 403, 403),
        ("researcher", 403, 403, 403),
        ("outsider", 404, 403, 403),
    ],
)
def test_who_sees_and_sells_packages(
    request: Any, login: Any, patient: Any, course: Course, sell: Any, persona: str,  # noqa: F811
    view: int, sell_page: int, settle_page: int,
) -> None:  # fmt: skip
    sold = sell(course)
    client = login(request.getfixturevalue(persona))
    pages = {
        reverse("billing:package", args=[sold.uuid]): view,
        reverse("billing:course-packages", args=[course.uuid]): view,
        reverse("billing:package-sell", args=[patient.uuid]): sell_page if persona != "outsider" else 403,
        reverse("billing:package-settle", args=[sold.uuid]): settle_page,
    }
    assert {url: client.get(url).status_code for url in pages} == pages
