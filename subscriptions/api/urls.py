"""``/subscriptions`` and its actions; each path answers with and without a trailing slash, as the report API."""

from rest_framework.routers import SimpleRouter

from subscriptions.api.views import SubscriptionViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # the constructor takes only a bool; the routes are regexes
router.register("subscriptions", SubscriptionViewSet, basename="subscription")

urlpatterns = router.urls
