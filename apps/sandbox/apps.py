from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The sandbox PostgreSQL: common ground of the analyzers that run SQL (the migration preview,
    query plans, the endpoint proof), which reach it here without importing each other."""

    name = "apps.sandbox"
    label = "sandbox"
