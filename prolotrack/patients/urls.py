from django.urls import path

from prolotrack.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<uuid:patient_uuid>/", views.patient_chart, name="chart"),
    path("<uuid:patient_uuid>/edit/", views.patient_edit, name="edit"),
    path("<uuid:patient_uuid>/history/", views.patient_history, name="history"),
    path("<uuid:patient_uuid>/entered-in-error/", views.mark_error, name="mark-error"),
    path("<uuid:patient_uuid>/no-known-allergies/", views.no_known_allergies, name="no-known-allergies"),
    path("<uuid:patient_uuid>/<str:kind>/add/", views.child_add, name="child-add"),
    path("<uuid:patient_uuid>/<str:kind>/<uuid:record_uuid>/edit/", views.child_edit, name="child-edit"),
    path(
        "<uuid:patient_uuid>/<str:kind>/<uuid:record_uuid>/entered-in-error/",
        views.mark_error,
        name="child-mark-error",
    ),
]
