from django.urls import path, re_path

from prolotrack.outcomes import trajectory_views as views

# Included in the "outcomes" namespace by prolotrack/outcomes/urls.py.
urlpatterns = [
    path("patients/<uuid:patient_uuid>/outcomes/", views.patient_outcomes, name="trajectory"),
    re_path(
        r"^patients/(?P<patient_uuid>[0-9a-f-]{36})/outcomes/(?P<instrument>[a-z0-9_]{1,40})\.(?P<fmt>svg|png)$",
        views.trajectory_chart,
        name="trajectory-chart",
    ),
]
