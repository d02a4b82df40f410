from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "prolotrack.messaging"
    label = "messaging"

    def ready(self) -> None:
        from prolotrack.booking import hooks as booking_hooks
        from prolotrack.intake import hooks as intake_hooks
        from prolotrack.messaging import appointments, immediate, queries, services
        from prolotrack.treatment import hooks as treatment_hooks

        # Booking (a layer below) queues an appointment's confirmation with its manage link and .ics.
        booking_hooks.appointment_message.provide(appointments.queue_appointment_message)

        # Treatment (a layer below) shows and cancels the reminders of sessions that will not happen.
        treatment_hooks.open_reminders.provide(queries.open_reminders)
        treatment_hooks.cancel_reminders.provide(services.cancel_session_reminders)
        # The public booking page (booking, a layer below) sends its one-time code at once.
        booking_hooks.send_now.provide(immediate.send_now)
        # An intake's link to email (intake, a layer below): planned once the request is committed (docs/INTAKE.md).
        intake_hooks.intake_email_requested.listen(services.plan_intake_message)
