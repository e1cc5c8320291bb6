from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Tagscope dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard.mfa import mfa_secrets_rotate
        from integrations.connections.key_rotation import register_secret_store

        register_secret_store("mfa", mfa_secrets_rotate)
