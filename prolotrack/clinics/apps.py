from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "prolotrack.clinics"
    label = "clinics"

    def ready(self) -> None:
        from prolotrack.audit import hooks as audit_hooks
        from prolotrack.clinics import (
            queries,
            services,  # noqa: F401 - connects the sign-in audit signals
        )

        # The audit app (a layer below) alerts those who read the audit trail; which members they are is ours to say.
        audit_hooks.alert_addresses.provide(queries.audit_alert_addresses)
