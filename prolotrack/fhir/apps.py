from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "prolotrack.fhir"
    label = "fhir"

    def ready(self) -> None:
        from prolotrack.fhir import questionnaire
        from prolotrack.outcomes import hooks as outcomes_hooks

        # The instrument pages of the outcomes app (a layer below) read and write the FHIR format through these.
        outcomes_hooks.questionnaire_resource.provide(questionnaire.to_questionnaire)
        outcomes_hooks.texts_from_questionnaire.provide(questionnaire.texts_from_questionnaire)
