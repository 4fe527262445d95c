"""ServiceSettings.load reads the shared cache, and a save is seen by the next load everywhere."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app.models import SERVICE_SETTINGS_CACHE_KEY, ServiceSettings

pytestmark = pytest.mark.django_db


def test_a_second_load_needs_no_statement() -> None:
    ServiceSettings.load()
    with CaptureQueriesContext(connection) as counted:
        loaded = ServiceSettings.load()
    assert len(counted) == 0
    assert loaded.pk == 1


def test_a_save_is_seen_by_the_next_load() -> None:
    config = ServiceSettings.load()
    config.welcome_text = "新的欢迎语"
    config.save()
    assert ServiceSettings.load().welcome_text == "新的欢迎语"


def test_a_copy_cached_by_another_process_is_dropped_by_a_save() -> None:
    config = ServiceSettings.load()
    stale = ServiceSettings.objects.get(pk=1)
    stale.welcome_text = "旧的"
    cache.set(SERVICE_SETTINGS_CACHE_KEY, stale)  # as another process would have cached it
    config.welcome_text = "改过的"
    config.save()
    assert ServiceSettings.load().welcome_text == "改过的"
