"""Dashboard page, charts, CSV and GET /api/dashboard: access per persona, suppression, filters, no identifiers."""

import csv
import io

import pytest
from django.test import Client

from prolotrack.accounts.testing import mark_verified
from prolotrack.analytics.charts import CHARTS
from prolotrack.analytics.tests.test_queries import clinic_data  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")
# dashboard.view: clinicians, administrators, researchers; each sees its own clinic (the outsider sees Beta's).
VIEW = dict(zip(ALL, (200, 403, 403, 200, 200, 200), strict=True))
PATHS = [
    "/dashboard/",
    "/dashboard/charts/funnel.svg",
    "/dashboard/charts/completion.png",
    "/dashboard/data/funnel.csv",
]


def _client(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    mark_verified(client, user)
    return client


@pytest.mark.parametrize("path", PATHS)
def test_pages_per_persona(personas, path):
    # Researchers get the quarterly research page, never the exact charts or CSV files (docs/DASHBOARD.md).
    for name, user in personas.items():
        expected = 403 if name == "researcher" and path != "/dashboard/" else VIEW[name]
        assert _client(user).get(path).status_code == expected, (name, path)


def test_api_per_persona(personas, api_token):
    for name, user in personas.items():
        # A researcher must name an ended quarter (period=YYYY-Qn): without one the answer says so (422).
        expected = 422 if name == "researcher" else VIEW[name]
        assert Client().get("/api/dashboard", headers=api_token(user)).status_code == expected, name
    assert Client().get("/api/dashboard").status_code == 401


def test_page_shows_figures_without_identifiers(clinician, clinic_data):  # noqa: F811
    html = _client(clinician).get("/dashboard/").content.decode()
    assert "Clinic outcomes" in html
    assert "95% CI" in html
    for course in clinic_data:
        assert course.patient.family_name not in html
        assert course.patient.mrn not in html
        assert str(course.patient.uuid) not in html
    for name in CHARTS:
        assert f"/dashboard/charts/{name}.svg" in html
        assert f"/dashboard/data/{name}.csv" in html


def test_every_chart_and_csv_downloads(clinician, clinic_data):  # noqa: F811
    client = _client(clinician)
    for name in CHARTS:
        svg = client.get(f"/dashboard/charts/{name}.svg?indication=Knee+osteoarthritis")
        assert svg.status_code == 200 and b"<svg" in svg.content, name
        png = client.get(f"/dashboard/charts/{name}.png?download=1")
        assert png.content.startswith(b"\x89PNG") and "attachment" in png["Content-Disposition"]
        data = client.get(f"/dashboard/data/{name}.csv")
        rows = list(csv.reader(io.StringIO(data.content.decode())))
        assert rows[0][-1] == "suppressed", name
    assert client.get("/dashboard/charts/nothing.svg").status_code == 404


def test_csv_hides_small_cells(clinician, clinic_data):  # noqa: F811
    rows = list(
        csv.DictReader(io.StringIO(_client(clinician).get("/dashboard/data/responders-sessions.csv").content.decode()))
    )
    assert rows
    for row in rows:
        if row["suppressed"] == "True":
            assert row["responders"] == row["evaluable"] == row["rate"] == ""
        else:
            assert int(row["evaluable"]) >= 5


def test_bad_filter_is_explained_and_computes_nothing(clinician):
    response = _client(clinician).get("/dashboard/?start=2026-02-30")
    assert response.status_code == 400
    assert "is not a date: use YYYY-MM-DD" in response.content.decode()


def test_api_figures_and_filters(clinician, clinic_data, api_token):  # noqa: F811
    headers = api_token(clinician)
    body = Client().get("/api/dashboard", headers=headers).json()
    assert body["courses"] == 24 and body["ci_method"] == "wilson" and body["min_cell"] == 5
    assert set(body["responders_by"]) == {"indication", "protocol", "solution", "clinician", "sessions"}
    assert [s["stage"] for s in body["funnel"]] == ["planned", "started", "completed", "stopped", "no_show"]
    knee = Client().get("/api/dashboard?indication=Knee osteoarthritis", headers=headers).json()
    assert knee["courses"] == 15
    bad = Client().get("/api/dashboard?start=2026-05-01&end=2026-04-01", headers=headers)
    assert bad.status_code == 422 and "swap them" in bad.json()["detail"]
    assert Client().get("/api/dashboard?start=nonsense", headers=headers).status_code == 422


def test_the_page_and_its_charts_share_figures_for_a_minute(clinician, clinic_data):  # noqa: F811
    from django.core.cache import cache

    client = _client(clinician)
    client.get("/dashboard/")
    assert any(key.startswith(":1:analytics.dashboard:") for key in cache._cache)
    assert client.get("/dashboard/charts/funnel.svg").status_code == 200


def test_views_and_downloads_are_audited_but_not_the_pages_own_images(clinician, clinic_data):  # noqa: F811
    from prolotrack.audit.models import AuditEvent

    client = _client(clinician)
    client.get("/dashboard/?indication=Knee+osteoarthritis")
    client.get("/dashboard/charts/funnel.svg?indication=Knee+osteoarthritis")
    client.get("/dashboard/charts/funnel.png?download=1")
    client.get("/dashboard/data/funnel.csv")
    actions = list(
        AuditEvent.objects.filter(action__startswith="analytics.").order_by("seq").values_list("action", "detail")
    )
    assert actions == [
        ("analytics.dashboard.viewed", {"indication": "Knee osteoarthritis"}),
        ("analytics.dashboard.downloaded", {}),
        ("analytics.dashboard.downloaded", {}),
    ]


def test_the_research_release_time_is_shown_in_the_clinics_zone(researcher, clinic_data):  # noqa: F811
    from prolotrack.analytics.models import ResearchRelease

    html = _client(researcher).get("/dashboard/").content.decode()
    release = ResearchRelease.objects.get()
    local = release.released_at.astimezone(researcher.memberships.get().clinic.tz)
    assert f"Released {local:%Y-%m-%d %H:%M} {local.tzname()}." in html
