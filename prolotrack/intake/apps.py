from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "prolotrack.intake"
    label = "intake"

    def ready(self) -> None:
        from prolotrack.booking import hooks as booking_hooks
        from prolotrack.clinical import hooks as clinical_hooks
        from prolotrack.intake import queries, services

        # The screening page and its stored facts (clinical, a layer below) show what a patient reported in an intake
        # and no clinician has reviewed yet: visible, never counted as a chart fact (docs/INTAKE.md).
        clinical_hooks.unreviewed_intake.provide(queries.unreviewed_items)
        # Booking (a layer below) tells intake of a visit moved or cancelled (inside its transaction) and of one
        # booked (after the commit): the intake follows the visit, and an assessment's link goes out by itself when
        # the clinic's intake_auto_send says so (docs/INTAKE.md, "Sent when a visit is booked").
        booking_hooks.appointment_changed.provide(services.follow_appointment)
        booking_hooks.appointment_booked.listen(services.auto_send)
