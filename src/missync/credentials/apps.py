from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "missync.credentials"
    label = "credentials"
    verbose_name = "Logins and login cards"
