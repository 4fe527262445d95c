"""Settings of the baseline project (``DJANGO_SETTINGS_MODULE=bench.baseline.settings``)."""

from __future__ import annotations

from cs_project.env import env_bool, env_database, env_int, env_str

DEBUG = False
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bench.baseline"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.baseline.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        default="sqlite:///unused",
        pool_max_size=env_int("DB_POOL_MAX_SIZE", default=10, minimum=1, maximum=200),
    )
}
# The "without the pool" variant of the serving comparison.
if not env_bool("BENCH_BASELINE_POOL", default=True):
    DATABASES["default"].pop("OPTIONS", None)
