"""A researcher signs in, starts a de-identified export, watches it progress, and downloads the zip."""

import zipfile
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.testing import actor_of
from prolotrack.consent.testing import sign_research
from prolotrack.research import services
from prolotrack.research.models import ExportJob
from prolotrack.treatment import services as treatment_services
from tests.browser.conftest import log_in, shot


@pytest.fixture
def consenting(clinician, make_patient):
    patients = []
    # Five patients alike in what the k-anonymity check looks at (sex, region, side, indication code, year), so k = 5.
    for n, (given, indication, region) in enumerate(
        [(name, "Knee pain, Brightwater family", "knee") for name in ("Mabel", "Otto", "Ines", "Rosa", "Hugo")]
    ):
        patient = make_patient(
            given_name=given, family_name="Brightwater", mrn=f"BR{n}", date_of_birth=date(1950 + n * 3, 4, 2)
        )
        treatment_services.create_course(
            actor_of(clinician), patient, protocol_id="", indication=indication, region=region, side="left",
            start_on=date(2025, 2, 3 + n),
        )  # fmt: skip
        sign_research(actor_of(clinician), patient, render=False)
        patients.append(patient)
    return patients


def test_a_researcher_starts_an_export_sees_its_progress_and_downloads_it(
    page: Page, researcher, consenting, settings, tmp_path
):
    # Queue the task instead of running it inline, so the page shows the job waiting and then finishing.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    log_in(page, researcher)
    page.goto("/research/exports/")
    expect(page.get_by_role("heading", name="Research export")).to_be_visible()
    expect(page.get_by_text("5 today")).to_be_visible()
    page.get_by_label("Courses started from (year)").fill("2025")
    shot(page, "research-export-form")
    page.get_by_role("button", name="Start the export").click()

    expect(page.get_by_text("Export started.")).to_be_visible()
    expect(page.get_by_text("Waiting for the background worker to pick it up")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Export progress")).to_be_visible()
    shot(page, "research-export-queued")

    # The background worker picks the job up; the page, polling, shows the result without a reload.
    job = ExportJob.objects.get()
    services.run_export(str(job.uuid))
    expect(page.get_by_text("Ready to download")).to_be_visible()
    expect(page.get_by_text("5 patients with a current research consent.")).to_be_visible()
    expect(page.get_by_text("k-anonymity k = 5")).to_be_visible()
    shot(page, "research-export-ready")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the zip").click()
    download = info.value
    assert download.suggested_filename.startswith("prolotrack-research-")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {
            "README.md",
            "manifest.json",
            "data_dictionary.csv",
            "csv/patients.csv",
            "parquet/outcomes.parquet",
        } <= names
        text = b"".join(archive.read(n) for n in names if not n.endswith(".parquet"))
    assert b"Brightwater" not in text and b"BR1" not in text and b"2025-02-04" not in text

    # The list shows who exported what.
    page.goto("/research/exports/")
    expect(page.get_by_role("cell", name="courses started in 2025 or later")).to_be_visible()
    shot(page, "research-export-list")
