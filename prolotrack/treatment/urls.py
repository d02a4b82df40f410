from django.urls import include, path

app_name = "treatment"

urlpatterns = [
    path("", include("prolotrack.treatment.map_urls")),
]
