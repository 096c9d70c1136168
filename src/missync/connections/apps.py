from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "missync.connections"
    label = "connections"
    verbose_name = "MIS connections"
    default_auto_field = "django.db.models.BigAutoField"
