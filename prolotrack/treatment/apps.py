from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "prolotrack.treatment"
    label = "treatment"

    def ready(self) -> None:
        from prolotrack.core import labels
        from prolotrack.treatment.maps import MAPS

        # The drawings of the injection map are the treatment app's own code list; pages show their titles.
        labels.register("body_map", {m.code: m.title for m in MAPS})
