from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "prolotrack.research"
    label = "research"
