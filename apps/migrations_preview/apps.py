from django.apps import AppConfig


class MigrationsPreviewConfig(AppConfig):
    name = "apps.migrations_preview"
    label = "migrations_preview"
