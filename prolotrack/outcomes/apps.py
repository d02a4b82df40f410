from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "prolotrack.outcomes"
    label = "outcomes"
