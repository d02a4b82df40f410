from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "prolotrack.audit"
    label = "audit"
