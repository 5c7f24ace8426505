"""The owner portal's pages: at ``/``, for members logged in with a session (Django's auth views)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from portal import subscription_views, views

app_name = "portal"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="portal/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("o/<slug:slug>/", views.dashboard, name="dashboard"),
    path("o/<slug:slug>/run/", views.run_report, name="run"),
    path("o/<slug:slug>/reports/", views.report_list, name="reports"),
    path("o/<slug:slug>/reports/<str:report_id>/", views.report_page, name="report"),
    path("o/<slug:slug>/reports/<str:report_id>/status/", views.report_status, name="status"),
    path("o/<slug:slug>/reports/<str:report_id>/csv/", views.report_csv, name="csv"),
    path("o/<slug:slug>/reports/<str:report_id>/extended-csv/", views.report_extended_csv, name="extended_csv"),
    path("o/<slug:slug>/reports/<str:report_id>/stores/<str:store_id>/", views.store_page, name="store"),
    path("o/<slug:slug>/subscriptions/", subscription_views.subscription_list, name="subscriptions"),
    path(
        "o/<slug:slug>/subscriptions/<str:subscription_id>/",
        subscription_views.subscription_page,
        name="subscription",
    ),
    path(
        "o/<slug:slug>/subscriptions/<str:subscription_id>/rotate/",
        subscription_views.subscription_rotate,
        name="subscription_rotate",
    ),
    path(
        "o/<slug:slug>/subscriptions/<str:subscription_id>/send/",
        subscription_views.subscription_send,
        name="subscription_send",
    ),
    path(
        "o/<slug:slug>/subscriptions/<str:subscription_id>/delete/",
        subscription_views.subscription_delete,
        name="subscription_delete",
    ),
]
