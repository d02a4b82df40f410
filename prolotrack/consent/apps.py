from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "prolotrack.consent"
    label = "consent"

    def ready(self) -> None:
        from prolotrack.consent import queries
        from prolotrack.treatment import hooks as treatment_hooks

        # The signing gate (treatment, a layer below) needs the course's consent.
        treatment_hooks.consent_state.provide(queries.consent_state)
