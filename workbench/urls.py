from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)

from workbench import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema"),
        name="swagger-ui",
    ),
    # No Redoc: its page needs inline script and styles that the CSP blocks; Swagger UI covers it.
    path("", include("apps.accounts.urls")),
    path("", include("apps.designs.urls")),
    path("", include("apps.analysis.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.security.urls")),
    path("", include("apps.migrations_preview.urls")),
    path("", include("apps.endpoints.urls")),
    path("", include("apps.queryplans.urls")),
    path("", include("apps.guides.urls")),
    path("", include("apps.review.urls")),
]
