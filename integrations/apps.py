from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "HighLevel integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.db import forked_children_open_their_own_connections
        from integrations.schedules import ensure_schedules

        forked_children_open_their_own_connections()
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="integrations.ensure_schedules")
