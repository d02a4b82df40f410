from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "prolotrack.messaging"
    label = "messaging"
