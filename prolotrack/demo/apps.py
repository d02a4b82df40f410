from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "prolotrack.demo"
    label = "demo"
