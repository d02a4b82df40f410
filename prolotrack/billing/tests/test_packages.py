"""Course packages (docs/BILLING.md, "Course packages"): offers on the fee schedule, selling on a draft, drawing a
use for each charged session of the linked course, refusals (charged normally, said why), giving uses back, the
stop-early refund by the clinic's rule, and the liability for the reports. Each refusal writes nothing."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import AccessDenied, ServiceError
from prolotrack.billing import queries, services
from prolotrack.billing.models import (
    CreditNote,
    FeeItem,
    FeeVersion,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PackageDraw,
    PackageTerms,
    SoldPackage,
)
from prolotrack.billing.testing import set_clinic_settings
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services as treatment
from prolotrack.treatment.models import Course, TreatmentSession
from prolotrack.treatment.testing import knee_course

from .conftest import START

D = Decimal
MODELS = (FeeItem, FeeVersion, PackageTerms, Invoice, InvoiceLine, SoldPackage, PackageDraw, CreditNote)


@contextmanager
def writes_nothing() -> Iterator[None]:
    before = [m.objects.count() for m in MODELS], AuditEvent.objects.count()
    yield
    assert ([m.objects.count() for m in MODELS], AuditEvent.objects.count()) == before


def today(clinic: Any) -> date:
    return services.clinic_today(clinic)


@pytest.fixture
def offer(admin_user: User, fees: dict[str, Any]) -> FeeItem:
    """Three sessions of the Rabago knee protocol for 600.00, valid 180 days."""
    return services.create_package_offer(
        actor_of(admin_user),
        code="PKG-KNEE-3",
        description="Knee course of 3",
        price="600.00",
        uses=3,
        validity_days=180,
        protocol_id="knee_oa_rabago",
        active_from=START - timedelta(days=30),
    )


@pytest.fixture
def sell(frontdesk: User, patient: Any, offer: FeeItem) -> Callable[..., SoldPackage]:
    """Sell the offer (or another) on a new draft, for a course or not, and issue the invoice unless told not to."""

    def make(course: Course | None = None, *, item: FeeItem | None = None, issue: bool = True) -> SoldPackage:
        actor = actor_of(frontdesk)
        draft = services.draft_invoice(actor, patient)
        sold = services.sell_package(actor, draft, item or offer, course=course)
        if issue:
            services.issue_invoice(actor, Invoice.objects.get(pk=draft.pk))
        return SoldPackage.objects.get(pk=sold.pk)

    return make


def sign(clinician: User, course: Course, number: int) -> TreatmentSession:
    """Record and sign session `number` of the course: two sites on the right knee."""
    actor = actor_of(clinician)
    session = course.sessions.get(number=number)
    solution = treatment.add_solution(
        actor,
        session,
        label="A",
        final_volume_ml=D(10),
        components=[
            {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "D50-1", "expiry": date(2030, 6, 30)},
            {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "L-1", "expiry": date(2030, 1, 31)},
        ],
        diluent_lot="NS-5",
    )
    for item, answer in (("meal", "yes"), ("consent", "yes"), ("skin_prep", "yes"), ("numbing", "na")):
        treatment.tick(actor, session, item, answer)
    treatment.tick(actor, session, "time_out", "yes")
    treatment.rescreen_for_the_day(actor, session)
    for _ in range(2):
        treatment.add_site(
            actor,
            TreatmentSession.objects.get(pk=session.pk),
            solution=solution,
            body_map="knee_front",
            x=D(100),
            y=D(100),
            side="right",
            volume_ml=D("0.5"),
            label="Tender point",
        )
    return treatment.sign_session(actor, TreatmentSession.objects.get(pk=session.pk))


# --- Offers --------------------------------------------------------------------------------------------------------


def test_an_offer_is_a_fee_item_whose_versions_carry_their_terms(admin_user: User, offer: FeeItem, clinic: Any) -> None:
    version = FeeVersion.objects.get(item=offer)
    terms = PackageTerms.objects.get(fee_version=version)
    assert (offer.kind, version.price, terms.uses, terms.validity_days) == ("package", D("600.00"), 3, 180)
    assert terms.protocol_name and terms.covers().startswith("sessions of ")
    new = services.add_package_version(
        actor_of(admin_user), offer, description="Knee course of 4", price="760.00", uses=4, validity_days=240,
        protocol_id="knee_oa_rabago", effective_from=today(clinic) + timedelta(days=1),
    )  # fmt: skip
    assert PackageTerms.objects.get(fee_version=new).uses == 4
    assert PackageTerms.objects.get(fee_version=version).uses == 3  # the old terms stay as they were
    assert [o.code for o in queries.package_offers(clinic)] == ["PKG-KNEE-3"]
    assert [item.code for item, _v, _t in queries.sellable_offers(clinic, today(clinic))] == ["PKG-KNEE-3"]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"billing.fee.created", "billing.fee.version_added", "billing.package.terms_added"} <= actions


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"price": "-600.00"}, None, "cannot be negative"),
        ({"uses": 0}, "uses", "from 1 to 50, not 0"),
        ({"uses": "many"}, "uses", "whole number"),
        ({"validity_days": 0}, "validity_days", "from 1 to 1096"),
        ({"protocol_id": ""}, "protocol_id", "Name the protocol"),
        ({"protocol_id": "no_such_protocol"}, "protocol_id", "No protocol template"),
        ({"item_codes": ["M0076"]}, "item_codes", "not both"),
        ({"protocol_id": "", "item_codes": ["NOPE"]}, "item_codes", "NOPE is not a fee item"),
        ({"code": "pkg knee!"}, "code", "1-20 letters"),
        ({"code": "M0076"}, "code", "already on the fee schedule"),
    ],
)
def test_bad_offers_are_refused_and_write_nothing(
    admin_user: User, fees: dict[str, Any], clinic: Any, changes: dict[str, Any], field: str | None, message: str
) -> None:
    values: dict[str, Any] = {
        "code": "PKG-X", "description": "Package", "price": "600.00", "uses": 3, "validity_days": 180,
        "protocol_id": "knee_oa_rabago", "active_from": today(clinic),
    }  # fmt: skip
    values.update(changes)
    with writes_nothing(), pytest.raises(Exception, match=message) as caught:
        services.create_package_offer(actor_of(admin_user), **values)
    if field is not None:
        assert isinstance(caught.value, ValidationError) and field in caught.value.message_dict


def test_an_offer_of_chosen_items_is_allowed(admin_user: User, fees: dict[str, Any], clinic: Any) -> None:
    item = services.create_package_offer(
        actor_of(admin_user), code="PKG-ANY-6", description="Any 6 sessions", price="1200.00", uses=6,
        validity_days=365, item_codes=["m0076"], active_from=today(clinic),
    )  # fmt: skip
    assert PackageTerms.objects.get(fee_version__item=item).item_codes == ["M0076"]


def test_only_administrators_manage_offers_and_packages_are_not_plain_lines(
    frontdesk: User, admin_user: User, patient: Any, offer: FeeItem, clinic: Any
) -> None:
    with writes_nothing(), pytest.raises(AccessDenied):
        services.create_package_offer(
            actor_of(frontdesk), code="PKG-Y", description="Y", price="1.00", uses=1, validity_days=1,
            protocol_id="knee_oa_rabago", active_from=today(clinic),
        )  # fmt: skip
    with writes_nothing(), pytest.raises(ValidationError, match="add it as a package offer"):
        services.create_fee_item(
            actor_of(admin_user), code="PKG-Z", kind="package", description="Z", price="1.00", active_from=today(clinic)
        )
    draft = services.draft_invoice(actor_of(frontdesk), patient)
    with writes_nothing(), pytest.raises(ServiceError, match="Sell a package"):
        services.add_line(actor_of(frontdesk), draft, offer)


# --- Selling -------------------------------------------------------------------------------------------------------


def test_selling_adds_a_line_and_a_package_valid_from_the_courses_start(
    frontdesk: User, patient: Any, offer: FeeItem, course: Course, clinic: Any
) -> None:
    actor = actor_of(frontdesk)
    draft = services.draft_invoice(actor, patient)
    sold = services.sell_package(actor, draft, offer, course=course)
    draft = Invoice.objects.get(pk=draft.pk)
    [line] = queries.invoice_lines(draft)
    assert (line.code, line.unit_price, draft.total) == ("PKG-KNEE-3", D("600.00"), D("600.00"))
    assert sold.line == line and sold.course == course and sold.uses == 3
    assert sold.valid_from == min(today(clinic), course.started_on)
    assert sold.valid_to == today(clinic) + timedelta(days=179)
    assert "3 uses, valid to" in line.description
    assert AuditEvent.objects.filter(action="billing.package.sold", record_uuid=sold.uuid).exists()
    [row] = queries.packages_of(patient)
    assert (row.drawn, row.left) == (0, 3)


def test_selling_on_an_issued_invoice_is_refused(
    frontdesk: User, patient: Any, offer: FeeItem, fees: dict[str, Any]
) -> None:
    actor = actor_of(frontdesk)
    draft = services.draft_invoice(actor, patient)
    services.add_line(actor, draft, fees["FOLLOW-UP"])
    issued = services.issue_invoice(actor, Invoice.objects.get(pk=draft.pk))
    with writes_nothing(), pytest.raises(ServiceError, match="sold on a draft invoice"):
        services.sell_package(actor, issued, offer)


def test_a_course_of_another_patient_or_clinic_or_protocol_is_refused(
    frontdesk: User,
    clinician: User,
    patient: Any,
    offer: FeeItem,
    course: Course,
    make_patient: Any,
    make_member: Any,
    other_clinic: Any,
) -> None:
    actor = actor_of(frontdesk)
    draft = services.draft_invoice(actor, patient)
    other_patient = make_patient(given_name="Grace", family_name="Hopper")
    theirs = knee_course(clinician, other_patient, START)
    with writes_nothing(), pytest.raises(ServiceError, match="another patient's"):
        services.sell_package(actor, draft, offer, course=theirs)
    doctor = make_member("doc2", "clinician", other_clinic)
    stranger = make_patient(by=doctor, given_name="Alan", family_name="Turing")
    elsewhere = knee_course(doctor, stranger, START)
    with writes_nothing(), pytest.raises((AccessDenied, ServiceError)):
        services.sell_package(actor, draft, offer, course=elsewhere)
    other_protocol = knee_course(clinician, patient, START, protocol_id="knee_oa_intra_articular")
    with writes_nothing(), pytest.raises(ServiceError, match="covers sessions of"):
        services.sell_package(actor, draft, offer, course=other_protocol)


def test_another_clinics_invoice_is_refused(
    make_member: Any, other_clinic: Any, make_patient: Any, offer: FeeItem
) -> None:
    desk = make_member("desk2", "frontdesk", other_clinic)
    doctor = make_member("doc2", "clinician", other_clinic)
    stranger = make_patient(by=doctor, given_name="Alan", family_name="Turing")
    draft = services.draft_invoice(actor_of(desk), stranger)
    with writes_nothing(), pytest.raises((AccessDenied, ServiceError)):
        services.sell_package(actor_of(desk), draft, offer)


def test_clinicians_and_researchers_cannot_sell(
    clinician: User, researcher: User, frontdesk: User, patient: Any, offer: FeeItem
) -> None:
    draft = services.draft_invoice(actor_of(frontdesk), patient)
    for user in (clinician, researcher):
        with writes_nothing(), pytest.raises(AccessDenied):
            services.sell_package(actor_of(user), draft, offer)


# --- Drawing uses --------------------------------------------------------------------------------------------------


def test_a_signed_session_of_the_linked_course_draws_a_use_instead_of_a_charge(
    frontdesk: User, patient: Any, course: Course, signed_session: Any, sell: Any
) -> None:
    sold = sell(course)
    invoice = services.draft_from_session(actor_of(frontdesk), signed_session)
    lines = queries.invoice_lines(invoice)
    assert lines and all(line.net == 0 and line.unit_price == 0 for line in lines)
    assert all("package use 1 of 3, Knee course of 3" in line.description for line in lines)
    assert invoice.total == 0 and invoice.note == ""
    [draw] = queries.draws_of(sold)
    assert (draw.session, draw.invoice, draw.number) == (signed_session, invoice, 1)
    assert draw.service_date == queries.session_day(signed_session)
    [row] = queries.packages_of_course(course)
    assert (row.drawn, row.left) == (1, 2)
    assert AuditEvent.objects.filter(action="billing.package.drawn").count() == 1
    issued = services.issue_invoice(actor_of(frontdesk), Invoice.objects.get(pk=invoice.pk))
    assert issued.number is not None and queries.invoice_balance(issued) == 0


def test_a_session_beyond_the_uses_is_charged_normally_and_says_why(
    admin_user: User, frontdesk: User, clinician: User, course: Course, signed_session: Any, sell: Any, clinic: Any
) -> None:
    single = services.create_package_offer(
        actor_of(admin_user), code="PKG-ONE", description="One session", price="230.00", uses=1, validity_days=90,
        protocol_id="knee_oa_rabago", active_from=START - timedelta(days=30),
    )  # fmt: skip
    sell(course, item=single)
    first = services.draft_from_session(actor_of(frontdesk), signed_session)
    assert first.total == 0
    second = sign(clinician, course, 2)
    invoice = services.draft_from_session(actor_of(frontdesk), second)
    assert invoice.total == D("250.00")  # one region, M0076 at its price
    assert "has no use left (1 of 1 used). This session is charged at the normal price." in invoice.note
    assert PackageDraw.objects.count() == 1


def test_a_package_on_a_draft_sale_draws_nothing_and_says_so(
    frontdesk: User, course: Course, signed_session: Any, sell: Any
) -> None:
    sell(course, issue=False)
    invoice = services.draft_from_session(actor_of(frontdesk), signed_session)
    assert invoice.total > 0 and "not issued" in invoice.note
    assert PackageDraw.objects.count() == 0


def test_a_course_without_a_package_is_charged_without_a_note(
    frontdesk: User, signed_session: Any, fees: dict[str, Any]
) -> None:
    invoice = services.draft_from_session(actor_of(frontdesk), signed_session)
    assert invoice.total > 0 and invoice.note == ""


def test_a_discarded_draft_or_a_voided_invoice_gives_the_use_back(
    frontdesk: User, admin_user: User, course: Course, signed_session: Any, sell: Any, fees: dict[str, Any]
) -> None:
    sold = sell(course)
    desk = actor_of(frontdesk)
    draft = services.draft_from_session(desk, signed_session)
    services.discard_draft(desk, draft, reason="Drafted by mistake")
    assert queries.drawn(sold) == 0
    assert PackageDraw.objects.filter(package=sold).count() == 1  # kept, entered in error
    again = services.draft_from_session(desk, signed_session)
    assert queries.drawn(sold) == 1 and again.total == 0
    assert [d.number for d in queries.draws_of(sold)] == [1]  # the use given back is taken again
    services.add_line(desk, Invoice.objects.get(pk=again.pk), fees["US-GUIDE"])  # an add-on, charged
    issued = services.issue_invoice(desk, Invoice.objects.get(pk=again.pk))
    assert issued.status == InvoiceStatus.ISSUED and issued.total == D("60.00") and queries.drawn(sold) == 1
    services.void_invoice(actor_of(admin_user), issued, reason="Charged to the wrong session")
    assert queries.drawn(sold) == 0 and not SoldPackage.objects.get(pk=sold.pk).is_entered_in_error
    assert queries.sessions_to_charge(signed_session.patient) == [signed_session]


def test_an_issued_invoice_that_charged_nothing_can_be_voided_and_gives_the_use_back(
    frontdesk: User, admin_user: User, course: Course, signed_session: Any, sell: Any
) -> None:
    sold = sell(course)
    desk = actor_of(frontdesk)
    issued = services.issue_invoice(desk, services.draft_from_session(desk, signed_session))
    assert issued.total == 0 and queries.drawn(sold) == 1
    note = services.void_invoice(actor_of(admin_user), issued, reason="Session entered against the wrong course")
    assert note.amount == D("0.00") and note.is_void and note.number
    assert Invoice.objects.get(pk=issued.pk).status == InvoiceStatus.VOID
    assert queries.drawn(sold) == 0
    # A plain credit note of nothing is still refused: only a void may be 0.00.
    again = services.issue_invoice(desk, services.draft_from_session(desk, signed_session))
    with pytest.raises(Exception, match="more than zero"):
        services.credit_invoice(actor_of(admin_user), again, amount="0", reason="Nothing to credit")


def test_removing_the_package_line_or_discarding_the_sale_removes_the_package(
    frontdesk: User, patient: Any, offer: FeeItem, course: Course
) -> None:
    desk = actor_of(frontdesk)
    draft = services.draft_invoice(desk, patient)
    sold = services.sell_package(desk, draft, offer, course=course)
    [line] = queries.invoice_lines(draft)
    services.remove_line(desk, line)
    assert SoldPackage.objects.get(pk=sold.pk).is_entered_in_error
    assert queries.packages_of(patient) == []
    other = services.sell_package(desk, Invoice.objects.get(pk=draft.pk), offer, course=course)
    services.discard_draft(desk, Invoice.objects.get(pk=draft.pk), reason="Patient changed their mind")
    assert SoldPackage.objects.get(pk=other.pk).is_entered_in_error


def test_linking_a_package_later(frontdesk: User, course: Course, sell: Any, clinic: Any) -> None:
    sold = sell()
    assert sold.course is None and sold.valid_from == today(clinic)
    linked = services.link_package(actor_of(frontdesk), sold, course)
    assert linked.course == course and linked.valid_from == min(today(clinic), course.started_on)


# --- Stopped early -------------------------------------------------------------------------------------------------


def stop(clinician: User, course: Course) -> Course:
    return treatment.close_course(
        actor_of(clinician), Course.objects.get(pk=course.pk), reason="patient_choice", details="Moved away"
    )


@pytest.mark.parametrize(("rule", "refund"), [("pro_rata", D("400.00")), ("none", D("0"))])
def test_a_course_stopped_early_gives_back_by_the_clinics_rule(
    frontdesk: User,
    admin_user: User,
    clinician: User,
    course: Course,
    signed_session: Any,
    sell: Any,
    clinic: Any,
    rule: str,
    refund: Decimal,
) -> None:
    set_clinic_settings(clinic, package_refund_rule=rule)
    clinic.refresh_from_db()
    sold = sell(course)
    services.issue_invoice(actor_of(frontdesk), services.draft_from_session(actor_of(frontdesk), signed_session))
    sale = Invoice.objects.get(pk=sold.invoice_id)
    before = sale.total, list(queries.invoice_lines(sale))
    stop(clinician, course)
    settled = services.settle_stopped_package(actor_of(admin_user), SoldPackage.objects.get(pk=sold.pk))
    assert (settled.settle_rule, settled.refund, settled.settled_on) == (rule, refund, today(clinic))
    sale = Invoice.objects.get(pk=sold.invoice_id)
    assert (sale.total, list(queries.invoice_lines(sale))) == before  # the sale itself never changes
    if refund:
        note = settled.credit_note
        assert note is not None and note.invoice == sale and note.amount == refund
        assert "1 of 3 uses" not in note.reason and "2 of 3 uses" in note.reason
        assert queries.invoice_credited(sale) == refund
    else:
        assert settled.credit_note is None and CreditNote.objects.count() == 0
    with writes_nothing(), pytest.raises(ServiceError, match="was settled"):
        services.settle_stopped_package(actor_of(admin_user), SoldPackage.objects.get(pk=sold.pk))


def test_settling_is_refused_for_an_open_course_or_a_front_desk(
    frontdesk: User, admin_user: User, clinician: User, course: Course, sell: Any
) -> None:
    sold = sell(course)
    with writes_nothing(), pytest.raises(ServiceError, match="stop the course first"):
        services.settle_stopped_package(actor_of(admin_user), sold)
    stop(clinician, course)
    with writes_nothing(), pytest.raises(AccessDenied):
        services.settle_stopped_package(actor_of(frontdesk), SoldPackage.objects.get(pk=sold.pk))


def test_the_refund_rule_setting_is_validated() -> None:
    from prolotrack.clinics.config import ClinicConfig, ClinicConfigError

    assert ClinicConfig().package_refund_rule == "pro_rata"
    assert ClinicConfig.validated({"package_refund_rule": "none"}).package_refund_rule == "none"
    with pytest.raises(ClinicConfigError, match="pro_rata, none"):
        ClinicConfig.validated({"package_refund_rule": "half"})


# --- Liability -----------------------------------------------------------------------------------------------------


def test_package_liability_counts_uses_sold_not_yet_delivered(
    frontdesk: User, admin_user: User, clinician: User, course: Course, signed_session: Any, sell: Any, clinic: Any
) -> None:
    day = today(clinic)
    assert queries.package_liability(clinic, day).value == 0
    sell(course)  # 600.00 for 3 uses, issued today
    draft_only = sell(issue=False)  # a draft sells nothing yet
    liability = queries.package_liability(clinic, day)
    assert (liability.packages, liability.uses, liability.value, liability.currency) == (1, 3, D("600.00"), "USD")
    assert queries.package_liability(clinic, day - timedelta(days=1)).value == 0  # not sold yet then
    services.draft_from_session(actor_of(frontdesk), signed_session)
    liability = queries.package_liability(clinic, day)
    assert (liability.uses, liability.value) == (2, D("400.00"))
    [row] = liability.rows
    assert row.uses_left == 2 and row.package.course == course and row.package != draft_only
    assert queries.package_liability(clinic, day + timedelta(days=180)).value == 0  # expired
    stop(clinician, course)
    services.settle_stopped_package(actor_of(admin_user), queries.packages_of_course(course)[0])
    assert queries.package_liability(clinic, day).value == 0  # settled


def test_the_automatic_draft_on_signing_draws_a_use_too(
    clinician: User, course: Course, signed_session: Any, sell: Any
) -> None:
    sold = sell(course)
    invoice = services.draft_invoice_for_session(actor_of(clinician), signed_session.pk)
    assert invoice is not None and invoice.total == 0
    assert [d.session for d in queries.draws_of(sold)] == [signed_session]


def test_a_use_given_back_is_the_next_one_taken(
    frontdesk: User, clinician: User, course: Course, signed_session: Any, sell: Any
) -> None:
    sold = sell(course)
    desk = actor_of(frontdesk)
    first = services.draft_from_session(desk, signed_session)
    services.draft_from_session(desk, sign(clinician, course, 2))
    services.discard_draft(desk, first, reason="Drafted by mistake")
    assert [d.number for d in queries.draws_of(sold)] == [2]
    services.draft_from_session(desk, signed_session)
    assert [(d.number, d.session.number) for d in queries.draws_of(sold)] == [(1, 1), (2, 2)]
    assert PackageDraw.objects.filter(package=sold).count() == 3  # the one given back is kept
