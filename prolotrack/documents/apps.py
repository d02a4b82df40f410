from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "prolotrack.documents"
    label = "documents"
