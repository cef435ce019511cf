from django.apps import AppConfig


class QueryplansConfig(AppConfig):
    name = "apps.queryplans"
    label = "queryplans"
