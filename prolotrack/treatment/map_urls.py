from django.urls import path  # noqa: F401 - the map preview pages are added here

urlpatterns: list = []
