from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "prolotrack.clinical"
    label = "clinical"
    verbose_name = "Clinical tools: calculators, screening, protocols"
