from django.urls import path

from prolotrack.booking.views import (
    appointments,
    follow_up,
    patient_links,
    pending,
    public,
    public_waitlist,
    setup,
    visits,
    waitlist,
)

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
    path("appointments/<uuid:appointment_uuid>/attendance/", visits.mark, name="attendance"),
    path("appointments/<uuid:appointment_uuid>/drop/", visits.drop, name="drop"),
    path("patients/<uuid:patient_uuid>/appointments/", visits.patient_appointments, name="patient-appointments"),
    # Online bookers waiting for the front desk (docs/BOOKING.md, "Pending patients").
    path("booking/pending/", pending.waiting, name="pending"),
    path("booking/pending/<uuid:pending_uuid>/", pending.person, name="pending-person"),
    path("booking/pending/<uuid:pending_uuid>/confirm/", pending.confirm, name="pending-confirm"),
    path("booking/pending/<uuid:pending_uuid>/merge/<uuid:patient_uuid>/", pending.merge, name="pending-merge"),
    path("booking/pending/<uuid:pending_uuid>/reject/", pending.reject, name="pending-reject"),
    # The public booking pages (no login): booking/views/public.py.
    path("book/<slug:slug>/", public.start, name="public-start"),
    path("book/<slug:slug>/details/", public.details, name="public-details"),
    path("book/<slug:slug>/code/", public.code, name="public-code"),
    path("booking/waitlist/", waitlist.waitlist_page, name="waitlist"),
    path("booking/waitlist/add/", waitlist.waitlist_add, name="waitlist-add"),
    path("booking/waitlist/<uuid:entry_uuid>/withdraw/", waitlist.waitlist_withdraw, name="waitlist-withdraw"),
    path("waitlist/offer/<str:token>/", waitlist.offer_page, name="waitlist-offer"),
]

# The patient's pages by link, no login (booking/views/patient_links.py; docs/BOOKING.md "Manage links", "Follow-up links").
urlpatterns += [
    path("my-appointment/<str:token>/", patient_links.appointment_page, name="manage"),
    path("my-appointment/<str:token>/cancel/", patient_links.cancel_page, name="manage-cancel"),
    path("my-appointment/<str:token>/move/", patient_links.move_page, name="manage-move"),
    path("follow-up/<str:token>/", patient_links.follow_up_page, name="follow-up"),
    # Staff: make a patient's "book your follow-up" link.
    path("patients/<uuid:patient_uuid>/follow-up-link/", follow_up.create, name="follow-up-link"),
    # A course's "book your next session" link: the patient's page, and staff making it (docs/BOOKING.md, "Course links").
    path("course-link/<str:token>/", patient_links.course_page, name="course-link-page"),
    path("course-link/<str:token>/cancel/", patient_links.course_cancel_page, name="course-link-cancel"),
    path("course-link/<str:token>/move/", patient_links.course_move_page, name="course-link-move"),
    path("courses/<uuid:course_uuid>/course-link/", follow_up.course_link, name="course-link"),
]

# Joining the waitlist by oneself, no login (booking/views/public_waitlist.py; docs/BOOKING.md).
urlpatterns += [
    path("book/<slug:slug>/waitlist/", public_waitlist.join, name="public-waitlist"),
    path("book/<slug:slug>/waitlist/code/", public_waitlist.join_code, name="public-waitlist-code"),
    path("my-appointment/<str:token>/waitlist/", public_waitlist.earlier, name="manage-waitlist"),
    path("follow-up/<str:token>/waitlist/", public_waitlist.follow_up_wait, name="follow-up-waitlist"),
    path("waitlist/<str:token>/", public_waitlist.entry_page, name="waitlist-entry"),
]
