from django.urls import path

from prolotrack.clinical import views

app_name = "clinical"

urlpatterns = [
    path("tools/calculator/", views.calculator, name="calculator"),
    path("tools/calculator/mix/", views.calculator_mix, name="calculator-mix"),
    path("tools/calculator/limit/", views.calculator_limit, name="calculator-limit"),
    path("patients/<uuid:patient_uuid>/screening/new/", views.screening_new, name="screening-new"),
    path(
        "patients/<uuid:patient_uuid>/screening/<uuid:screening_uuid>/",
        views.screening_detail,
        name="screening-detail",
    ),
    path(
        "patients/<uuid:patient_uuid>/screening/<uuid:screening_uuid>/override/",
        views.screening_override,
        name="screening-override",
    ),
    path("protocols/", views.protocol_list, name="protocols"),
    path("protocols/new/", views.protocol_create, name="protocol-new"),
    path("protocols/<uuid:template_uuid>/edit/", views.protocol_edit, name="protocol-edit"),
    path("protocols/<uuid:template_uuid>/entered-in-error/", views.protocol_retire, name="protocol-retire"),
    path("protocols/<str:protocol_id>/", views.protocol_detail, name="protocol-detail"),
]
