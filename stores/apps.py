from django.apps import AppConfig
from django.core import checks


class StoresConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "stores"

    def ready(self) -> None:
        from stores import signals
        from stores.checks import stored_store_ids_follow_the_rule

        checks.register(stored_store_ids_follow_the_rule, checks.Tags.database)
        signals.connect()
