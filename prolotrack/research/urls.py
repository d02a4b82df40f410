from django.urls import path

from prolotrack.research import views

app_name = "research"

urlpatterns = [
    path("research/exports/", views.exports, name="exports"),
    path("research/agreements/", views.agreements, name="agreements"),
    path("research/exports/<uuid:job_uuid>/", views.export_detail, name="export"),
    path("research/exports/<uuid:job_uuid>/status/", views.export_status, name="export-status"),
    path("research/exports/<uuid:job_uuid>/download/", views.export_download, name="export-download"),
]
