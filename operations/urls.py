from django.urls import re_path

from operations import views

urlpatterns = [
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
    re_path(r"^readyz/?$", views.readyz, name="readyz"),
    re_path(r"^metrics/?$", views.metrics, name="metrics"),
]
