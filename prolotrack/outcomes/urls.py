from django.urls import include, path

app_name = "outcomes"

# Questionnaires and links (answering, staff entry) and per-patient trajectories live in separate modules.
urlpatterns = [
    path("", include("prolotrack.outcomes.links_urls")),
    path("", include("prolotrack.outcomes.trajectory_urls")),
]
