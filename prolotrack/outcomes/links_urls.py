"""Questionnaire pages: the patient's pages by link (/q/<token>/), staff links and paper entry, instrument texts."""

from django.urls import path

from prolotrack.outcomes import views

urlpatterns = [
    path("q/<str:token>/", views.answer_start, name="answer-start"),
    path("q/<str:token>/review/", views.answer_review, name="answer-review"),
    path("q/<str:token>/<int:step>/", views.answer_page, name="answer-page"),
    path("patients/<uuid:patient_uuid>/questionnaires/", views.patient_questionnaires, name="patient-questionnaires"),
    path("patients/<uuid:patient_uuid>/questionnaires/links/", views.link_create, name="link-create"),
    path("patients/<uuid:patient_uuid>/questionnaires/enter/", views.staff_entry, name="staff-entry"),
    path("questionnaire-links/<uuid:link_uuid>/revoke/", views.link_revoke, name="link-revoke"),
    path("instruments/", views.instrument_list, name="instruments"),
    path("instruments/<str:code>/questionnaire.json", views.instrument_fhir, name="instrument-fhir"),
    path("instruments/<str:code>/import/", views.instrument_import, name="instrument-import"),
]
