from django.apps import AppConfig


class SmartConfig(AppConfig):
    name = "prolotrack.smart"
    label = "smart"
    verbose_name = "SMART on FHIR apps"
