from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "prolotrack.booking"
    label = "booking"
