"""The body-map preview pages: the landmark catalogue on each drawing, for clinicians to review."""

from django.urls import path

from prolotrack.treatment import map_views

urlpatterns = [
    path("tools/maps/", map_views.map_index, name="maps"),
    path("tools/maps/<slug:code>/", map_views.map_preview, name="map-preview"),
]
