from django.urls import path

from prolotrack.intake.views import patient, staff

app_name = "intake"

urlpatterns = [
    # The patient's pages (no login; the token is the key).
    path("intake/<str:token>/", patient.start, name="start"),
    path("intake/<str:token>/check/", patient.check, name="check"),
    path("intake/<str:token>/<str:key>/", patient.step, name="step"),
    # Staff pages.
    path("appointments/<uuid:appointment_uuid>/intake/", staff.appointment_intake, name="appointment"),
    path("patients/<uuid:patient_uuid>/intake/", staff.patient_intakes, name="patient"),
    path("patients/<uuid:patient_uuid>/intake/<uuid:intake_uuid>/", staff.review, name="review"),
    path("patients/<uuid:patient_uuid>/intake/<uuid:intake_uuid>/items/<str:key>/", staff.decide, name="decide"),
]
