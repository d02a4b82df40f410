from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: backup and restore, health endpoints, metrics and structured logs (docs/OPERATIONS.md)."""

    name = "prolotrack.ops"
    label = "ops"
