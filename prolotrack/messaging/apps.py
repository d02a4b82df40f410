from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "prolotrack.messaging"
    label = "messaging"

    def ready(self) -> None:
        from prolotrack.booking import hooks as booking_hooks
        from prolotrack.intake import hooks as intake_hooks
        from prolotrack.messaging import appointments, booked_online, course_links, immediate, queries, services
        from prolotrack.treatment import hooks as treatment_hooks

        # Booking (a layer below) queues an appointment's confirmation with its manage link and .ics.
        booking_hooks.appointment_message.provide(appointments.queue_appointment_message)

        # Treatment (a layer below) shows and cancels the reminders of sessions that will not happen.
        treatment_hooks.open_reminders.provide(queries.open_reminders)
        treatment_hooks.cancel_reminders.provide(services.cancel_session_reminders)
        # The public booking page (booking, a layer below) sends its one-time code at once.
        booking_hooks.send_now.provide(immediate.send_now)
        # ... and, once the code is verified, opens the visit's intake and sends the confirmation at once to the
        # verified contact of the person still pending (docs/BOOKING.md, "After the code").
        booking_hooks.online_booked.provide(booked_online.welcome)
        # ... the state of the messages to those people (confirmation retries, reminders) on the front desk's list.
        booking_hooks.pending_messages.provide(booked_online.states)
        # An intake's link to email (intake, a layer below): planned once the request is committed (docs/INTAKE.md).
        intake_hooks.intake_email_requested.listen(services.plan_intake_message)
        # A course's "book your next session" link to send (booking, a layer below): planned once committed.
        booking_hooks.course_link_requested.listen(course_links.plan)
        # ... and the confirmation of the session the patient booked from it, once committed.
        booking_hooks.course_session_booked.listen(course_links.plan_confirmation)
