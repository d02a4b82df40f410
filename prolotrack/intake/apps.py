from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "prolotrack.intake"
    label = "intake"

    def ready(self) -> None:
        from prolotrack.clinical import hooks as clinical_hooks
        from prolotrack.intake import queries

        # The screening page and its stored facts (clinical, a layer below) show what a patient reported in an intake
        # and no clinician has reviewed yet: visible, never counted as a chart fact (docs/INTAKE.md).
        clinical_hooks.unreviewed_intake.provide(queries.unreviewed_items)
