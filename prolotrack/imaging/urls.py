from django.urls import path

from prolotrack.imaging import views

app_name = "imaging"

STUDY = "patients/<uuid:patient_uuid>/imaging/<uuid:study_uuid>/"

urlpatterns = [
    path("patients/<uuid:patient_uuid>/imaging/new/", views.study_new, name="study-new"),
    path(STUDY, views.study_detail, name="study"),
    path(f"{STUDY}edit/", views.study_edit, name="study-edit"),
    path(f"{STUDY}files/", views.file_upload, name="file-upload"),
    path(f"{STUDY}feasibility/", views.feasibility, name="feasibility"),
    path(f"{STUDY}entered-in-error/", views.study_retire, name="study-retire"),
    path(f"{STUDY}files/<uuid:file_uuid>/entered-in-error/", views.file_retire, name="file-retire"),
    path("imaging/files/<uuid:file_uuid>/", views.file_view, name="file"),
    path("imaging/files/<uuid:file_uuid>/original/", views.file_original, name="file-original"),
]
