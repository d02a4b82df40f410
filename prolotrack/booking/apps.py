from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "prolotrack.booking"
    label = "booking"

    def ready(self) -> None:
        from prolotrack.booking import present, services
        from prolotrack.treatment import hooks

        # The staff calendar (treatment) shows the booking app's appointments (docs/ARCHITECTURE.md, "Hooks").
        hooks.calendar_visits.provide(present.calendar_visits)
        # Booking a course session checks the appointments under the same clinician lock (docs/BOOKING.md).
        hooks.appointment_clashes.provide(services.lock_and_check_session)
