from django.contrib.auth import views as auth_views
from django.urls import include, path

from prolotrack.api import api
from prolotrack.clinics import views as clinic_views
from prolotrack.fhir import views as fhir_views
from prolotrack.patients import views as patient_views

urlpatterns = [
    path("", clinic_views.home, name="home"),
    path("healthz", clinic_views.healthz, name="healthz"),
    path("", include("prolotrack.ops.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clinic/switch/", clinic_views.switch_clinic, name="switch-clinic"),
    path("clinic/settings/", clinic_views.clinic_settings, name="clinic-settings"),
    path("", include("prolotrack.accounts.urls")),
    # Before the registry: the clinical app adds pages under /patients/<uuid>/screening/.
    path("", include("prolotrack.clinical.urls")),
    path("", include("prolotrack.imaging.urls")),
    path("", include("prolotrack.treatment.urls")),
    path("", include("prolotrack.outcomes.urls")),
    path("", include("prolotrack.messaging.urls")),
    path("", include("prolotrack.documents.urls")),
    path("", include("prolotrack.consent.urls")),
    path("", include("prolotrack.billing.urls")),
    path("", include("prolotrack.booking.urls")),
    path("", include("prolotrack.intake.urls")),
    path("", include("prolotrack.research.urls")),
    path("", include("prolotrack.analytics.urls")),
    path("", include("prolotrack.smart.urls")),
    path("oauth/", include("prolotrack.smart.oauth_urls")),
    # FHIR clients post transactions to the base URL, often written without the trailing slash.
    path("fhir", fhir_views.base, name="fhir-base-noslash"),
    path("fhir/", include("prolotrack.fhir.urls")),
    path("patients/", include("prolotrack.patients.urls")),
    path("audit/", clinic_views.audit_list, name="audit"),
    path(
        "audit/patients/<uuid:patient_uuid>/disclosures.csv",
        patient_views.patient_disclosures_csv,
        name="audit-disclosures",
    ),
    path("api/", api.urls),
]
