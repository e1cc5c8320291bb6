from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_delete


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "HighLevel integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.db import forked_children_open_their_own_connections
        from integrations.models import Location
        from integrations.schedules import ensure_schedules
        from integrations.sync.agency_rollup import location_deleting

        forked_children_open_their_own_connections()
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="integrations.ensure_schedules")
        # A location's points leave the agency rollup in the transaction that deletes them with it.
        pre_delete.connect(location_deleting, sender=Location, dispatch_uid="integrations.agency_rollup")
