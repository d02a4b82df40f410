"""Lot recall (issue 15): everyone who received a product's lot, or a lot expiring in a window, as a page and CSV,
for clinicians and clinic administrators, audited as a disclosure of every patient named."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from prolotrack.audit.models import AuditEvent
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.testing import actor_of
from prolotrack.core.errors import AccessDenied
from prolotrack.domain.stock import RecallQuestion
from prolotrack.patients import services as patient_services
from prolotrack.treatment import present, queries, services
from prolotrack.treatment.testing import knee_course

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")


def _solution(user, session, label, *, dextrose_lot, expiry, diluent_lot="NS-1"):
    return services.add_solution(
        actor_of(user),
        session,
        label=label,
        final_volume_ml=Decimal("10"),
        components=[
            {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": dextrose_lot, "expiry": expiry},
            {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "LID-1", "expiry": expiry},
        ],
        diluent_lot=diluent_lot,
    )


def _weighed(user, patient, today):
    with transaction.atomic():
        patient_services.add_child(
            actor_of(user), patient, "weight", {"measured_on": today - timedelta(days=40), "weight_kg": Decimal("70")}
        )
    return patient


def _site(user, session, solution, volume="0.5", label="Pes anserinus"):
    site, _ = services.add_site(
        actor_of(user), session.__class__.objects.get(pk=session.pk), solution=solution, body_map="knee_front",
        x=Decimal("100"), y=Decimal("100"), side="right", volume_ml=Decimal(volume), label=label,
    )  # fmt: skip
    return site


@pytest.fixture
def today(clinic):
    return clinic_today(clinic)


@pytest.fixture
def stocks(clinician, make_patient, make_member, other_clinic, today):
    """Two patients given lot D50-RECALL (three sites and one entered in error; one solution never injected), a third
    given another lot, and another clinic's patient given the same lot number."""
    expiry = today + timedelta(days=200)
    ada = make_patient(phone="+1 555 0100", email="ada@example.org", address_line="1 Main St", city="Austin")
    bob = make_patient(given_name="Bob", family_name="Babbage", phone="=cmd|' /C calc'!A0")
    cy = make_patient(given_name="Cy", family_name="Clark")
    recalled = {}
    for person, start in ((ada, today - timedelta(days=30)), (bob, today - timedelta(days=10)), (cy, today)):
        _weighed(clinician, person, today)
        session = knee_course(clinician, person, start).sessions.get(number=1)
        lot = "D50-OTHER" if person is cy else "D50-RECALL"
        solution = _solution(clinician, session, "A", dextrose_lot=lot, expiry=expiry)
        recalled[person.given_name] = (session, solution)
    ada_session, ada_solution = recalled["Ada"]
    _site(clinician, ada_session, ada_solution, "0.5", "Pes anserinus")
    _site(clinician, ada_session, ada_solution, "6", "Intra-articular")
    wrong = _site(clinician, ada_session, ada_solution, "1", "Charted by mistake")
    services.retire_session_item(actor_of(clinician), wrong, reason="Charted twice by mistake")
    _site(clinician, recalled["Cy"][0], recalled["Cy"][1])
    # Bob's solution A was drawn up; no injection of it is recorded.
    far = make_member("far", "clinician", other_clinic)
    with transaction.atomic():
        eve = patient_services.create_patient(
            actor_of(far), {"given_name": "Eve", "family_name": "Elsewhere", "date_of_birth": today - timedelta(days=9000),
                            "sex": "female"},
        )  # fmt: skip
    eve_session = knee_course(far, _weighed(far, eve, today), today).sessions.get(number=1)
    _site(far, eve_session, _solution(far, eve_session, "A", dextrose_lot="D50-RECALL", expiry=expiry))
    return {"ada": ada, "bob": bob, "cy": cy, "eve": eve, "expiry": expiry}


def test_the_recall_names_every_injection_of_the_lot_in_this_clinic_only(clinic, stocks):
    rows = queries.recall(clinic, RecallQuestion("dextrose", lot=" d50-recall "))
    got = [(r.patient.given_name, r.site.label if r.site else None, r.site.volume_ml if r.site else None) for r in rows]
    assert got == [
        ("Ada", "Pes anserinus", Decimal("0.50")),
        ("Ada", "Intra-articular", Decimal("6.00")),
        ("Bob", None, None),  # drawn up, nothing injected: still named, so the pharmacist can check
    ]
    assert {r.stock.lot for r in rows} == {"D50-RECALL"}
    assert queries.recall(clinic, RecallQuestion("lidocaine", lot="D50-RECALL")) == []
    assert [r.patient.given_name for r in queries.recall(clinic, RecallQuestion("dextrose", lot="D50-OTHER"))] == ["Cy"]


def test_the_recall_by_expiry_window_and_by_diluent(clinic, stocks):
    expiry = stocks["expiry"]
    window = RecallQuestion("lidocaine", expires_from=expiry, expires_to=expiry)
    assert {r.patient.given_name for r in queries.recall(clinic, window)} == {"Ada", "Bob", "Cy"}
    before = RecallQuestion("lidocaine", expires_to=expiry - timedelta(days=1))
    assert queries.recall(clinic, before) == []
    saline = queries.recall(clinic, RecallQuestion("0.9% sodium chloride", lot="ns-1"))
    assert {r.patient.given_name for r in saline} == {"Ada", "Bob", "Cy"}


@pytest.mark.parametrize("lot", ["D50-RECALL", "D50 RECALL (box)"])
def test_the_recall_reads_in_two_queries_whatever_it_finds(clinic, stocks, django_assert_num_queries, lot):
    with django_assert_num_queries(2 if lot == "D50-RECALL" else 1):
        rows = queries.recall(clinic, RecallQuestion("dextrose", lot=lot))
        cells = [present.recall_cells(r) for r in rows]  # everything the page and the CSV show, no further read
    assert len(cells) == (3 if lot == "D50-RECALL" else 0)


def test_the_recall_query_count_does_not_grow_with_the_rows(
    clinic, clinician, stocks, today, django_assert_num_queries
):
    for n in range(3):
        session = knee_course(clinician, stocks["ada"], today + timedelta(days=n + 1)).sessions.get(number=1)
        _site(
            clinician, session, _solution(clinician, session, "A", dextrose_lot="D50-RECALL", expiry=stocks["expiry"])
        )
    with django_assert_num_queries(2):
        rows = queries.recall(clinic, RecallQuestion("dextrose", lot="D50-RECALL"))
        [present.recall_cells(r) for r in rows]
    assert len(rows) == 6


@pytest.mark.parametrize(("persona", "allowed"), [("clinician", True), ("admin", True), ("colleague", False),
                                                  ("frontdesk", False), ("researcher", False)])  # fmt: skip
def test_only_clinicians_and_administrators_may_recall(personas, stocks, persona, allowed):
    question = RecallQuestion("dextrose", lot="D50-RECALL")
    if allowed:
        assert len(services.recall_lot(actor_of(personas[persona]), question)) == 3
    else:
        with pytest.raises(AccessDenied):
            services.recall_lot(actor_of(personas[persona]), question)


def test_a_recall_is_audited_as_a_disclosure_of_each_patient_named(client, login, admin_user, stocks):
    services.recall_lot(actor_of(admin_user), RecallQuestion("dextrose", lot="D50-RECALL"), output="csv")
    events = AuditEvent.objects.filter(action="treatment.recall.exported")
    assert sorted(str(e.patient_uuid) for e in events) == sorted(str(stocks[p].uuid) for p in ("ada", "bob"))
    assert all(e.detail["lot"] == "D50-RECALL" and e.detail["output"] == "csv" for e in events)
    # The patient's accounting of disclosures lists it.
    text = login(admin_user).get(f"/audit/patients/{stocks['ada'].uuid}/disclosures.csv").content.decode()
    assert (
        "treatment.recall.exported" in text
        and "treatment.recall.exported"
        not in login(admin_user).get(f"/audit/patients/{stocks['cy'].uuid}/disclosures.csv").content.decode()
    )


def test_a_recall_that_names_nobody_is_still_on_the_trail(clinician, stocks):
    assert services.recall_lot(actor_of(clinician), RecallQuestion("dextrose", lot="NOPE")) == []
    event = AuditEvent.objects.get(action="treatment.recall.viewed")
    assert event.patient_uuid is None and event.detail["rows"] == 0


def test_a_question_that_cannot_be_asked_is_refused_and_writes_nothing(clinician, stocks):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as raised:
        services.recall_lot(actor_of(clinician), RecallQuestion("dextrose"))
    assert "lot" in raised.value.message_dict
    assert AuditEvent.objects.count() == before


# --- The page ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("clinician", 200), ("admin", 200), ("outsider", 200), ("colleague", 403), ("frontdesk", 403),
     ("researcher", 403)],
)  # fmt: skip
def test_the_page_by_persona(login, personas, stocks, persona, status):
    client = login(personas[persona])
    empty = client.get("/recall/")
    assert empty.status_code == status
    response = client.get("/recall/", {"product": "dextrose", "lot": "D50-RECALL"})
    assert response.status_code == status
    text = response.content.decode()
    if persona in ("clinician", "admin"):
        assert "Lovelace, Ada" in text and "+1 555 0100" in text and "Intra-articular" in text and "6.00 mL" in text
        assert "Babbage, Bob" in text and "no injection recorded" in text and "Clark" not in text
        assert "2 patients, 2 injections" in text
        # The session note is linked only for those who may open it (administrators may not: course.view).
        assert ('href="/sessions/' in text) is (persona == "clinician")
    if persona == "outsider":  # a clinician of Beta Clinic sees Beta's patient given that lot number, nobody else
        assert "Elsewhere, Eve" in text and "Lovelace" not in text and "Babbage" not in text
        assert "1 patient, 1 injection" in text
    else:
        assert "Elsewhere" not in text


@pytest.mark.parametrize(("persona", "shown"), [("clinician", True), ("admin", True), ("colleague", False)])
def test_the_library_menu_links_the_recall_for_those_who_may_use_it(login, personas, persona, shown):
    page = login(personas[persona]).get("/patients/").content.decode()
    assert ('href="/recall/"' in page) is shown


def test_the_csv_has_every_row_with_contact_details_and_no_formula(login, clinician, stocks):
    response = login(clinician).get("/recall/", {"product": "dextrose", "lot": "D50-RECALL", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert (
        "attachment" in response["Content-Disposition"]
        and "recall-dextrose-D50-RECALL" in response["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["patient"], r["site"], r["volume_ml"]) for r in rows] == [
        ("Lovelace, Ada", "Pes anserinus", "0.50"),
        ("Lovelace, Ada", "Intra-articular", "6.00"),
        ("Babbage, Bob", "no injection recorded", ""),
    ]
    assert rows[0]["email"] == "ada@example.org" and rows[0]["address"] == "1 Main St, Austin"
    assert rows[0]["lot"] == "D50-RECALL" and rows[0]["expiry"] == stocks["expiry"].isoformat()
    assert rows[2]["phone"].startswith("'=")  # a spreadsheet would run it: quoted
    # Nothing here shows money (issue 15, roles): no price, charge or fee column.
    assert not {"price", "charge", "fee", "amount", "balance"} & {
        w for c in present.RECALL_COLUMNS for w in c.split("_")
    }
    assert AuditEvent.objects.filter(action="treatment.recall.exported").count() == 2


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"product": "dextrose"}, "lot", "Give the lot number"),
        ({"product": "dextrose", "expires_from": "2027-02-01", "expires_to": "2027-01-01"}, "expires_to", "before"),
        ({"product": "aspirin", "lot": "X"}, "product", "Select a valid choice"),
        ({"product": "dextrose", "expires_to": "soon"}, "expires_to", "valid date"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_writes_nothing(login, clinician, query, field, message):
    client = login(clinician)
    before = AuditEvent.objects.count()
    response = client.get("/recall/", query)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert AuditEvent.objects.count() == before
