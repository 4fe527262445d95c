from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from cs_project import views
from cs_project.api import SchemaApi, SchemaDocsApi
from sessions_app.console.views import media_file

# No language prefix in URLs: the language comes from the switch (cookie) or the browser, and
# defaults to zh-hans, so the URLs printed for customers and servicers never change.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", include("sessions_app.supervision.urls")),  # live view and reports, before the admin's catch-all
    path("admin/", admin.site.urls),
    path("wfc/", include("robots.urls")),
    path("rate/", include("ratings.urls")),
    path("console/", include("sessions_app.console.urls")),
    path("api/tokens/", include("seats.api_urls")),
    path("api/", include("sessions_app.console.api_urls")),
    path("api/schema/", SchemaApi.as_view(), name="openapi-schema"),
    path("api/docs/", SchemaDocsApi.as_view(url_name="openapi-schema"), name="openapi-docs"),
]

if settings.DEBUG:
    # Files servicers send from the console; in production the web server serves MEDIA_ROOT.
    urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", media_file, name="media"))
