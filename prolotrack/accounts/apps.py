from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "prolotrack.accounts"
    label = "accounts"
    verbose_name = "Staff accounts: second factor, sessions, password"

    def ready(self) -> None:
        from prolotrack.accounts import signals  # noqa: F401 - session tracking on log-in and log-out
