from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "prolotrack.fhir"
    label = "fhir"
