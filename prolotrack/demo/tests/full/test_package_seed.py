"""The demo clinic's course package: an offer on the fee schedule, one sold and paid for an open knee course, two of
its sessions drawing uses (zero-charge procedure lines naming it), the uses left on the course's card, and the
package liability the reports read. Read from the full demo (conftest.py)."""

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from prolotrack.billing import queries, services
from prolotrack.billing.models import FeeItem, FeeKind, SoldPackage
from prolotrack.clinics.models import Clinic, Membership
from prolotrack.clinics.roles import Permission, roles_with

pytestmark = pytest.mark.xdist_group("full_demo")


def test_the_demo_package(demo: Clinic, db: Any, login: Any) -> None:
    offer = FeeItem.objects.get(clinic=demo, kind=FeeKind.PACKAGE)
    assert offer.code == "PKG-KNEE-3"
    sold = SoldPackage.objects.active().get(clinic=demo)
    assert sold.course is not None and sold.course.protocol_id == "knee_oa_rabago"
    assert sold.invoice.number is not None and queries.invoice_balance(sold.invoice) == 0  # sold and paid
    draws = queries.draws_of(sold)
    signed = sold.course.sessions.filter(signed_at__isnull=False).count()
    assert [d.number for d in draws] == list(range(1, min(2, signed) + 1)) and draws
    for draw in draws:
        lines = queries.invoice_lines(draw.invoice)
        assert draw.invoice.total == 0 and all("package use" in line.description for line in lines)
    [row] = queries.packages_of_course(sold.course)
    assert (row.drawn, row.left) == (len(draws), 3 - len(draws))
    liability = queries.package_liability(demo, services.clinic_today(demo))
    value = Decimal("660.00") * row.left / 3
    assert (liability.packages, liability.uses, liability.value) == (1, row.left, value)
    desk = Membership.objects.filter(clinic=demo, role__in=roles_with(Permission.BILLING_INVOICE)).first()
    assert desk is not None
    card = login(desk.user).get(reverse("billing:course-packages", args=[sold.course.uuid])).content.decode()
    assert f"{row.left} of 3</b> sessions left" in card and f"Use {len(draws)}: session" in card
