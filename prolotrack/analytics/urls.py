from django.urls import path, re_path

from prolotrack.analytics import views

app_name = "analytics"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    re_path(r"^dashboard/charts/(?P<name>[a-z-]{1,40})\.(?P<fmt>svg|png)$", views.chart, name="chart"),
    re_path(r"^dashboard/data/(?P<name>[a-z-]{1,40})\.csv$", views.chart_csv, name="chart-csv"),
]
