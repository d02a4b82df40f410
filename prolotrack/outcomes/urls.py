from django.urls import path, re_path

from prolotrack.outcomes.views import answer, instruments, questionnaires, trajectory

app_name = "outcomes"

urlpatterns = [
    # The patient's pages by link (no login).
    path("q/<str:token>/", answer.answer_start, name="answer-start"),
    path("q/<str:token>/review/", answer.answer_review, name="answer-review"),
    path("q/<str:token>/<int:step>/", answer.answer_page, name="answer-page"),
    # Staff: a patient's questionnaires, links and paper entry.
    path(
        "patients/<uuid:patient_uuid>/questionnaires/",
        questionnaires.patient_questionnaires,
        name="patient-questionnaires",
    ),
    path("patients/<uuid:patient_uuid>/questionnaires/links/", questionnaires.link_create, name="link-create"),
    path("patients/<uuid:patient_uuid>/questionnaires/enter/", questionnaires.staff_entry, name="staff-entry"),
    path("questionnaire-links/<uuid:link_uuid>/revoke/", questionnaires.link_revoke, name="link-revoke"),
    # The patient's outcome trajectory and its charts.
    path("patients/<uuid:patient_uuid>/outcomes/", trajectory.patient_outcomes, name="trajectory"),
    re_path(
        r"^patients/(?P<patient_uuid>[0-9a-f-]{36})/outcomes/(?P<instrument>[a-z0-9_]{1,40})\.(?P<fmt>svg|png)$",
        trajectory.trajectory_chart,
        name="trajectory-chart",
    ),
    # Instruments and the clinic's licensed texts.
    path("instruments/", instruments.instrument_list, name="instruments"),
    path("instruments/<str:code>/questionnaire.json", instruments.instrument_fhir, name="instrument-fhir"),
    path("instruments/<str:code>/import/", instruments.instrument_import, name="instrument-import"),
]
