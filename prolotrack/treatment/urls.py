from django.urls import include, path

from prolotrack.treatment import views

app_name = "treatment"

urlpatterns = [
    path("", include("prolotrack.treatment.map_urls")),
    # Before the registry's /patients/<uuid>/<kind>/add/ pattern (this module is included first).
    path("patients/<uuid:patient_uuid>/treatment-cards/", views.chart_cards, name="chart-cards"),
    path("patients/<uuid:patient_uuid>/courses/", views.patient_courses, name="patient-courses"),
    path("patients/<uuid:patient_uuid>/courses/new/", views.course_new, name="course-new"),
    path("patients/<uuid:patient_uuid>/adverse-events/", views.patient_adverse_events, name="patient-adverse-events"),
    path("patients/<uuid:patient_uuid>/adverse-events/new/", views.adverse_event_new, name="adverse-event-new"),
    path("adverse-events/<uuid:event_uuid>/", views.adverse_event_edit, name="adverse-event-edit"),
    path("courses/<uuid:course_uuid>/", views.course_detail, name="course"),
    path("courses/<uuid:course_uuid>/sessions/add/", views.course_add_session, name="course-add-session"),
    path("courses/<uuid:course_uuid>/close/", views.course_close, name="course-close"),
    path("timepoints/<uuid:timepoint_uuid>/", views.timepoint_move, name="timepoint-move"),
    path("calendar/", views.calendar, name="calendar"),
    path("sessions/<uuid:session_uuid>/", views.session_detail, name="session"),
    path("sessions/<uuid:session_uuid>/appointment/", views.session_book, name="session-book"),
    path("sessions/<uuid:session_uuid>/attendance/", views.session_attendance, name="session-attendance"),
    path("sessions/<uuid:session_uuid>/details/", views.session_header, name="session-header"),
    path("sessions/<uuid:session_uuid>/observations/", views.session_observations, name="session-observations"),
    path("sessions/<uuid:session_uuid>/checklist/", views.session_checklist, name="session-checklist"),
    path("sessions/<uuid:session_uuid>/rescreen/", views.session_rescreen, name="session-rescreen"),
    path("sessions/<uuid:session_uuid>/solutions/", views.solution_add, name="solution-add"),
    path("sessions/<uuid:session_uuid>/solutions/preview/", views.solution_preview, name="solution-preview"),
    path("sessions/<uuid:session_uuid>/sites/", views.site_add, name="site-add"),
    path(
        "sessions/<uuid:session_uuid>/<str:kind>/<uuid:item_uuid>/entered-in-error/",
        views.item_entered_in_error,
        name="item-entered-in-error",
    ),
    path("sessions/<uuid:session_uuid>/sign/", views.session_sign, name="session-sign"),
]
