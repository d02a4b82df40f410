"""SMART pages: the clinic's app registry (administrators) and the chart's Launch button."""

from django.urls import path

from prolotrack.smart import views

app_name = "smart"

urlpatterns = [
    path("clinic/apps/", views.apps, name="apps"),
    path("clinic/apps/<uuid:app_id>/", views.app_detail, name="app"),
    path("patients/<uuid:patient_id>/launch/<uuid:app_id>/", views.launch, name="launch"),
]
