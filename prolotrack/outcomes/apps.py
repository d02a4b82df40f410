from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "prolotrack.outcomes"
    label = "outcomes"

    def ready(self) -> None:
        from prolotrack.clinics import hooks as clinics_hooks
        from prolotrack.outcomes import queries

        # The clinic settings page (clinics, a layer below) offers the licensed questionnaires whose texts were imported.
        clinics_hooks.licensed_instruments.provide(queries.licensed_available)
