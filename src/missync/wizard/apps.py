from django.apps import AppConfig


class WizardConfig(AppConfig):
    name = "missync.wizard"
    label = "wizard"
    verbose_name = "Manage Users and the MIS Sync Wizard"
    default_auto_field = "django.db.models.BigAutoField"
