from django.apps import AppConfig


class ImagingConfig(AppConfig):
    name = "prolotrack.imaging"
    label = "imaging"
