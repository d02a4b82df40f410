from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "prolotrack.treatment"
    label = "treatment"
