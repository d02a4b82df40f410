from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "prolotrack.consent"
    label = "consent"
