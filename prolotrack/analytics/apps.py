from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "prolotrack.analytics"
    label = "analytics"

    def ready(self) -> None:
        from prolotrack.analytics import facts
        from prolotrack.treatment import hooks as treatment_hooks

        treatment_hooks.course_changed.provide(facts.refresh_courses)
