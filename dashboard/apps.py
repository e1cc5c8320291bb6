from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Tagscope dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard.mfa import mfa_secrets_rotate
        from dashboard.reports.tasks import reports_schedule_ensure
        from integrations.connections.key_rotation import register_secret_store

        register_secret_store("mfa", mfa_secrets_rotate)
        post_migrate.connect(reports_schedule_ensure, sender=self, dispatch_uid="dashboard.reports_schedule")
