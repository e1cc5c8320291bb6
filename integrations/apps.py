from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_delete


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "HighLevel integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django_q.signals import post_spawn

        from integrations.db import forked_children_open_their_own_connections
        from integrations.models import Location
        from integrations.process_memory import malloc_arenas_limit
        from integrations.schedules import ensure_schedules
        from integrations.sync.agency_rollup import location_deleting
        from integrations.tasks import worker_spawned

        forked_children_open_their_own_connections()
        malloc_arenas_limit(settings.MALLOC_ARENA_MAX)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="integrations.ensure_schedules")
        post_spawn.connect(worker_spawned, dispatch_uid="integrations.worker_spawned")
        # A location's points leave the agency rollup in the transaction that deletes them with it.
        pre_delete.connect(location_deleting, sender=Location, dispatch_uid="integrations.agency_rollup")
