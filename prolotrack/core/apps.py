from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "prolotrack.core"
    label = "core"
