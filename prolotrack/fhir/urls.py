"""FHIR R4 endpoints under /fhir/ (docs/FHIR.md)."""

from django.urls import path

from prolotrack.fhir import bulk_views, views
from prolotrack.smart.views import smart_configuration

app_name = "fhir"

urlpatterns = [
    path("", views.base, name="base"),
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", smart_configuration, name="smart-configuration"),
    path("$export", bulk_views.export_system, name="export"),
    path("$export-status/<uuid:job_id>", bulk_views.export_status, name="export-status"),
    path("$export-file/<uuid:job_id>/<str:name>", bulk_views.export_file, name="export-file"),
    path("Patient/$export", bulk_views.export_patients, name="export-patients"),
    path("Group/<str:group_id>/$export", bulk_views.export_group, name="export-group"),
    path("<str:resource_type>", views.type_level, name="type"),
    path("<str:resource_type>/<str:resource_id>", views.instance, name="instance"),
    path("<str:resource_type>/<str:resource_id>/_history", views.history, name="history"),
    path("<str:resource_type>/<str:resource_id>/_history/<str:version_id>", views.vread, name="vread"),
    path("<path:rest>", views.unknown, name="unknown"),
]
