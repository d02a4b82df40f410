"""The financial reports page, its charts, the accountant's CSV files and the API: who sees what (front desk the
takings, administrators everything, researchers no money), bad dates refused with nothing audited, CSV cells safe
from spreadsheet formulas, every view audited."""

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from prolotrack.audit.models import AuditEvent
from prolotrack.billing import services
from prolotrack.billing.models import CreditNote, Invoice, Payment
from prolotrack.billing.tests.test_reports import books_fixture  # noqa: F401 (the set of invoices and payments)
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of

URL = reverse("billing:reports")


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode())))


def test_the_administrator_sees_every_report_and_each_patient_named_is_audited(
    login: Any, admin_user: User, books: dict, clinician: User
) -> None:
    today = books["today"]
    client = login(admin_user)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    for expected in (
        "Takings by day and payment method", "780.00 USD", "800.00 USD received", "20.00 USD refunded",
        "Takings by clinician", str(clinician), ">450.00<", "Account credit (pays no invoice yet)", "150.00 USD",
        "Invoices issued", "818.71 USD", "Credit notes", "140.00 USD", "Charged by mistake",
        "What patients owe", "48.71 USD", "Hopper, Grace", 'href="/billing/reports/takings.csv?',
        'src="/billing/reports/chart/takings.svg?', 'src="/billing/reports/chart/ageing.svg?',
        f'value="{today.replace(day=1).isoformat()}"',  # this month by default
    ):  # fmt: skip
        assert expected in page, expected
    events = AuditEvent.objects.filter(action="billing.reports.viewed")
    assert {e.patient_uuid for e in events} == {books["patient"].uuid, books["other"].uuid}
    assert 'aria-current="page">Financial reports</a>' in page  # in the navigation
    for chart in ("takings", "ageing"):
        svg = client.get(reverse("billing:report-chart", args=[chart, "svg"]), {"start": today.isoformat()})
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    png = client.get(reverse("billing:report-chart", args=["takings", "png"]))
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


def test_the_front_desk_sees_the_takings_only(login: Any, frontdesk: User, books: dict) -> None:
    client = login(frontdesk)
    page = client.get(URL).content.decode()
    assert "Takings by day and payment method" in page and "780.00 USD" in page
    assert 'aria-current="page">Takings</a>' in page
    for hidden in ("Takings by clinician", "Hopper", "Lovelace", "What patients owe", "Invoices issued"):
        assert hidden not in page, hidden
    event = AuditEvent.objects.get(action="billing.reports.viewed")
    assert event.patient_uuid is None
    assert client.get(reverse("billing:report-csv", args=["takings"])).status_code == 200
    for name in ("takings-by-clinician", "invoices", "credit-notes", "ageing"):
        assert client.get(reverse("billing:report-csv", args=[name])).status_code == 403, name
    assert client.get(reverse("billing:report-chart", args=["ageing", "svg"])).status_code == 403


@pytest.mark.parametrize("persona", ["clinician", "researcher", "nurse"])
def test_who_sees_no_report(request: Any, login: Any, make_member: Any, clinic: Any, persona: str) -> None:
    user = make_member("nurse1", "nurse", clinic) if persona == "nurse" else request.getfixturevalue(persona)
    client = login(user)
    assert client.get(URL).status_code == 403
    assert client.get(reverse("billing:report-csv", args=["takings"])).status_code == 403
    assert client.get(reverse("billing:report-chart", args=["takings", "svg"])).status_code == 403
    assert "/billing/reports/" not in client.get("/").content.decode()


def test_another_clinics_administrator_sees_none_of_this_clinics_money(
    login: Any, make_member: Any, other_clinic: Any, books: dict
) -> None:
    client = login(make_member("admin2", "admin", other_clinic))
    page = client.get(URL).content.decode()
    assert "0.00 USD" in page
    for absent in ("780.00", "Lovelace", "Hopper", "48.71"):
        assert absent not in page, absent
    body = client.get(reverse("billing:report-csv", args=["invoices"])).content
    assert _rows(body) == [["number", "issued_on", "patient", "status", "net", "tax", "total", "currency"]]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-12-05", "end": "2026-12-01"}, "To (2026-12-01) is before From (2026-12-05)"),
        ({"start": "2025-01-01", "end": "2026-06-30"}, "a report covers at most 366 days (a year)"),
        ({"start": "last week"}, "From: &#x27;last week&#x27; is not a date. Write it as YYYY-MM-DD"),
        ({"as_of": "2999-01-01"}, "As of: 2999-01-01 is after today"),
    ],
)
def test_bad_dates_are_refused_with_what_to_fix_and_nothing_is_written(
    login: Any, admin_user: User, patient: Any, params: dict, message: str
) -> None:
    client = login(admin_user)
    before = (AuditEvent.objects.count(), Invoice.objects.count(), Payment.objects.count(), CreditNote.objects.count())
    response = client.get(URL, params)
    assert response.status_code == 400 and message in response.content.decode()
    assert "Takings by day" not in response.content.decode()
    csv_response = client.get(reverse("billing:report-csv", args=["ageing"]), params)
    assert csv_response.status_code == 400
    assert client.get(reverse("billing:report-chart", args=["takings", "svg"]), params).status_code == 404
    after = (AuditEvent.objects.count(), Invoice.objects.count(), Payment.objects.count(), CreditNote.objects.count())
    assert after == before


def test_the_accountants_csv_files(login: Any, admin_user: User, books: dict, clinician: User) -> None:
    today = books["today"]
    # A reason that a spreadsheet would run as a formula.
    services.credit_invoice(
        actor_of(admin_user), books["assessment"], amount="10.00", reason='=HYPERLINK("http://x","refund")'
    )
    client = login(admin_user)
    query = {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()}

    def get(name: str) -> list[list[str]]:
        response = client.get(reverse("billing:report-csv", args=[name]), query)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith('attachment; filename="')
        return _rows(response.content)

    yesterday = (today - timedelta(days=1)).isoformat()
    assert get("takings") == [
        ["date", "method", "received", "refunded", "net", "currency"],
        [yesterday, "Card", "300.00", "0.00", "300.00", "USD"],
        [today.isoformat(), "Cash", "500.00", "20.00", "480.00", "USD"],
    ]
    by_clinician = get("takings-by-clinician")
    assert [str(clinician), "450.00", "USD"] in by_clinician
    invoices = get("invoices")
    assert invoices[1][:4] == [
        "1",
        today.isoformat(),
        books["patient"].family_name + ", Ada (" + books["patient"].mrn + ")",
        "issued",
    ]
    assert invoices[-1][-4:] == ["45.00", "3.71", "48.71", "USD"]
    notes = get("credit-notes")
    assert notes[-1][-1] == '\'=HYPERLINK("http://x","refund")'  # quoted: not run as a formula
    assert notes[-1][4:9] == ["no", "10.00", "0.00", "10.00", "USD"]
    ageing = get("ageing")
    assert ageing[0] == ["as_of", "patient", "open_invoices", "days_0-30", "days_31-60", "days_61-90", "days_90+",
                         "owed", "account_credit", "currency"]  # fmt: skip
    assert ageing[1][2:] == ["1", "48.71", "0.00", "0.00", "0.00", "48.71", "0.00", "USD"]
    downloads = AuditEvent.objects.filter(action="billing.reports.downloaded")
    assert {e.detail["report"] for e in downloads} == {"takings", "takings-by-clinician", "invoices", "credit-notes",
                                                         "ageing"}  # fmt: skip
    assert downloads.filter(detail__report="ageing", patient_uuid=books["other"].uuid).exists()


def test_the_api_gives_the_same_figures(
    client: Any, api_token: Any, admin_user: User, frontdesk: User, researcher: User, books: dict
) -> None:
    today = books["today"].isoformat()
    admin, desk = api_token(admin_user), api_token(frontdesk)
    takings = client.get("/api/billing/reports/takings", {"start": today, "end": today}, headers=admin).json()
    assert (takings["received"], takings["refunded"], takings["net"]) == ("500.00", "20.00", "480.00")
    assert takings["days"] == [
        {"date": today, "method": "cash", "received": "500.00", "refunded": "20.00", "net": "480.00"}
    ]
    assert sum(float(s["net"]) for s in takings["by_clinician"]) == pytest.approx(480)
    desk_takings = client.get("/api/billing/reports/takings", headers=desk).json()
    assert desk_takings["by_clinician"] is None and desk_takings["net"] == "780.00"
    issued = client.get("/api/billing/reports/issued", headers=admin).json()
    assert (issued["invoices"]["count"], issued["invoices"]["total"], issued["credit_notes"]["total"]) == (
        4, "818.71", "140.00",
    )  # fmt: skip
    ageing = client.get("/api/billing/reports/ageing", {"as_of": today}, headers=admin).json()
    assert ageing["totals"] == {"0-30": "48.71", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"}
    assert ageing["account_credit"] == "150.00"
    assert client.get("/api/billing/reports/ageing", headers=desk).status_code == 403
    assert client.get("/api/billing/reports/takings", headers=api_token(researcher)).status_code == 403
    refused = client.get("/api/billing/reports/takings", {"start": today, "end": "2000-01-01"}, headers=admin)
    assert refused.status_code == 422 and "is before From" in refused.content.decode()


def test_package_liability_on_the_page_in_csv_and_api(
    login: Any, client: Any, api_token: Any, admin_user: User, frontdesk: User, books: dict
) -> None:
    today = books["today"]
    offer = services.create_package_offer(
        actor_of(admin_user), code="PKG-3", description="Three sessions", price="600.00", uses=3,
        validity_days=180, protocol_id="knee_oa_rabago", active_from=today - timedelta(days=30),
    )  # fmt: skip
    desk = actor_of(frontdesk)
    draft = services.draft_invoice(desk, books["other"])
    services.sell_package(desk, draft, offer)
    services.issue_invoice(desk, Invoice.objects.get(pk=draft.pk))
    page = login(admin_user).get(URL).content.decode()
    assert "Package liability on" in page and "3 of 3" in page and "600.00 USD owed in sessions" in page
    rows = _rows(login(admin_user).get(reverse("billing:report-csv", args=["package-liability"])).content)
    assert rows[1][1:5] == ["Three sessions", f"Hopper, Grace ({books['other'].mrn})", "5", "3"]
    assert rows[1][-2:] == ["600.00", "USD"] and rows[1][4:6] == ["3", "3"]
    body = client.get("/api/billing/reports/package-liability", headers=api_token(admin_user)).json()
    assert (body["packages"], body["uses"], body["value"]) == (1, 3, "600.00")
    assert client.get("/api/billing/reports/package-liability", headers=api_token(frontdesk)).status_code == 403
    front = login(frontdesk).get(URL).content.decode()
    assert "Package liability" not in front
