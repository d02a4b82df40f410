from django.urls import path

from prolotrack.documents import views

app_name = "documents"

urlpatterns = [
    # Included before the registry's /patients/<uuid>/<kind>/add/ pattern.
    path("patients/<uuid:patient_uuid>/documents/", views.chart_card, name="patient-documents"),
    path("patients/<uuid:patient_uuid>/documents/progress/", views.request_report, name="request-report"),
    path("patients/<uuid:patient_uuid>/handouts/<str:handout>/", views.patient_handout, name="patient-handout"),
    path("documents/<uuid:document_uuid>/download/", views.download, name="download"),
    path("documents/<uuid:document_uuid>/regenerate/", views.regenerate, name="regenerate"),
    path("handouts/", views.handout_list, name="handouts"),
    path("handouts/<str:code>/", views.handout_edit, name="handout-edit"),
    path("handouts/<str:code>/revert/", views.handout_revert, name="handout-revert"),
]
