from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "prolotrack.patients"
    label = "patients"

    def ready(self) -> None:
        from prolotrack.clinics import hooks as clinics_hooks
        from prolotrack.patients import queries

        # The audit page (clinics, a layer below) filters by a patient's record number or id.
        clinics_hooks.patient_reference.provide(queries.patient_uuid_by_reference)
