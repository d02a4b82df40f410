from django.urls import path

from prolotrack.treatment.views import adverse_events, booking, calendar, chart, courses, maps, recall, session, sites

app_name = "treatment"

urlpatterns = [
    path("tools/maps/", maps.map_index, name="maps"),
    path("tools/maps/<slug:code>/", maps.map_preview, name="map-preview"),
    # Before the registry's /patients/<uuid>/<kind>/add/ pattern (this module is included first).
    path("patients/<uuid:patient_uuid>/treatment-cards/", chart.chart_cards, name="chart-cards"),
    path("patients/<uuid:patient_uuid>/courses/", chart.patient_courses, name="patient-courses"),
    path("patients/<uuid:patient_uuid>/courses/new/", courses.course_new, name="course-new"),
    path("patients/<uuid:patient_uuid>/adverse-events/", chart.patient_adverse_events, name="patient-adverse-events"),
    path(
        "patients/<uuid:patient_uuid>/adverse-events/new/", adverse_events.adverse_event_new, name="adverse-event-new"
    ),
    path("adverse-events/<uuid:event_uuid>/", adverse_events.adverse_event_edit, name="adverse-event-edit"),
    path("courses/<uuid:course_uuid>/", courses.course_detail, name="course"),
    path("courses/<uuid:course_uuid>/sessions/add/", courses.course_add_session, name="course-add-session"),
    path("courses/<uuid:course_uuid>/close/", courses.course_close, name="course-close"),
    path("timepoints/<uuid:timepoint_uuid>/", courses.timepoint_move, name="timepoint-move"),
    path("calendar/", calendar.calendar, name="calendar"),
    path("recall/", recall.lot_recall, name="recall"),
    path("sessions/<uuid:session_uuid>/", session.session_detail, name="session"),
    path("sessions/<uuid:session_uuid>/appointment/", booking.session_book, name="session-book"),
    path("sessions/<uuid:session_uuid>/attendance/", booking.session_attendance, name="session-attendance"),
    path("sessions/<uuid:session_uuid>/details/", session.session_header, name="session-header"),
    path("sessions/<uuid:session_uuid>/observations/", session.session_observations, name="session-observations"),
    path("sessions/<uuid:session_uuid>/checklist/", session.session_checklist, name="session-checklist"),
    path("sessions/<uuid:session_uuid>/rescreen/", session.session_rescreen, name="session-rescreen"),
    path("sessions/<uuid:session_uuid>/solutions/", sites.solution_add, name="solution-add"),
    path("sessions/<uuid:session_uuid>/solutions/preview/", sites.solution_preview, name="solution-preview"),
    path("sessions/<uuid:session_uuid>/sites/", sites.site_add, name="site-add"),
    path(
        "sessions/<uuid:session_uuid>/<str:kind>/<uuid:item_uuid>/entered-in-error/",
        session.item_entered_in_error,
        name="item-entered-in-error",
    ),
    path("sessions/<uuid:session_uuid>/sign/", session.session_sign, name="session-sign"),
]
