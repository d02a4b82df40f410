from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "prolotrack.clinics"
    label = "clinics"

    def ready(self) -> None:
        from prolotrack.clinics import services  # noqa: F401 - connects the sign-in audit signals
