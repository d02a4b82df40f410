from django.urls import path

from prolotrack.consent import views

app_name = "consent"

urlpatterns = [
    path("courses/<uuid:course_uuid>/consent/", views.course_consent, name="course"),
    path("courses/<uuid:course_uuid>/consent-card/", views.course_card, name="course-card"),
    path("patients/<uuid:patient_uuid>/consents/", views.patient_consents, name="patient"),
    path("patients/<uuid:patient_uuid>/consents/research/", views.research_consent, name="research"),
    path("consents/<uuid:consent_uuid>/", views.consent_detail, name="detail"),
    path("consents/<uuid:consent_uuid>/withdraw/", views.consent_withdraw, name="withdraw"),
    path("consents/<uuid:consent_uuid>/pdf/", views.consent_pdf, name="pdf"),
    path("consent-template/", views.template_edit, name="template"),
]
