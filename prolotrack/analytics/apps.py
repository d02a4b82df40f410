from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "prolotrack.analytics"
    label = "analytics"
