"""Top-level URLs: the admin, the report and ingestion APIs, their OpenAPI schema and docs, the portal, health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# The apps' admin modules load here, with the URLs, not in every process's start-up
# (loopmonitor.admin_app).
admin.autodiscover()

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("operations.urls")),
    path("", include("reports.api.urls")),
    path("", include("ingestion.api.urls")),
    path("", include("subscriptions.api.urls")),
    path("", include("subscriptions.urls")),
    # The owner portal (issue 14): /, /login/, /logout/, /o/<organization>/...
    path("", include("portal.urls")),
]
