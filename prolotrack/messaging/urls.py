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
    path("invoices/<uuid:invoice_uuid>/email/", views.email_invoice, name="email-invoice"),
    path("payments/<uuid:payment_uuid>/receipt/email/", views.email_receipt, name="email-receipt"),
    path("patients/<uuid:patient_uuid>/account/superbill/email/", views.email_superbill, name="email-superbill"),
]
