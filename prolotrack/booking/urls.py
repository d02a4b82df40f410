from django.urls import path

from prolotrack.booking.views import appointments, setup

app_name = "booking"

urlpatterns = [
    path("booking/setup/", setup.setup, name="setup"),
    path("booking/setup/types/add/", setup.type_add, name="type-add"),
    path("booking/setup/types/<uuid:type_uuid>/", setup.type_edit, name="type"),
    path("booking/setup/rooms/add/", setup.room_add, name="room-add"),
    path("booking/hours/", setup.hours, name="hours"),
    path("booking/hours/add/", setup.hours_add, name="hours-add"),
    path("booking/hours/<uuid:period_uuid>/remove/", setup.hours_remove, name="hours-remove"),
    path("booking/time-off/add/", setup.time_off_add, name="time-off-add"),
    path("booking/time-off/<uuid:time_off_uuid>/remove/", setup.time_off_remove, name="time-off-remove"),
    path("booking/book/", appointments.book, name="book"),
    path("appointments/<uuid:appointment_uuid>/", appointments.appointment, name="appointment"),
    path("appointments/<uuid:appointment_uuid>/cancel/", appointments.cancel, name="cancel"),
]
