from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What an operator needs around the product: health, readiness, metrics, the shared cache's table."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"
