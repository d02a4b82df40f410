from django.urls import path

from prolotrack.messaging import views

app_name = "messaging"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<uuid:message_uuid>/", views.outbox_message, name="message"),
    path("patients/<uuid:patient_uuid>/messages/", views.patient_messages, name="patient-messages"),
    path("patients/<uuid:patient_uuid>/messages/preferences/", views.patient_preferences, name="patient-preferences"),
    path("account/calendar-feed/", views.calendar_feed_settings, name="calendar-feed-settings"),
    path("calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("sessions/<uuid:session_uuid>/appointment.ics", views.session_ics, name="session-ics"),
]
