from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What an operator needs around the product: health, readiness, metrics, the shared cache's table, workers."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from operations import workers

        workers.connect()
