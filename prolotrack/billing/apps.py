from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "prolotrack.billing"
    label = "billing"
