from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "missync.accounts"
    label = "accounts"
    verbose_name = "Schools and accounts"
    default_auto_field = "django.db.models.BigAutoField"
