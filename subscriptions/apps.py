from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Scheduled delivery"

    def ready(self) -> None:
        from subscriptions import receivers  # noqa: F401  (connects to reports.signals)
