"""ServiceSettings.load reads a copy kept by the process for a moment, then the shared cache; a save
is seen by the next load in the saving process, and by the others once their copy expires."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cs_project.shared_cache import shared_forget
from sessions_app import models
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


def test_a_reader_that_loaded_the_old_row_cannot_put_it_back_after_a_save() -> None:
    config = ServiceSettings.load()
    # Another process reads the row before the save commits and caches it just after: the save
    # moved the shared cache to a new generation, which that late copy is not stored under.
    generation = cache.get(f"{SERVICE_SETTINGS_CACHE_KEY}:gen", 0)
    stale = ServiceSettings.objects.get(pk=1)
    stale.welcome_text = "旧的"
    config.welcome_text = "改过的"
    config.save()
    cache.set(f"{SERVICE_SETTINGS_CACHE_KEY}:{generation}", stale)
    models._local_settings.clear()  # as in another process, which kept no copy of its own
    assert ServiceSettings.load().welcome_text == "改过的"


def test_a_change_made_by_another_process_is_seen_once_the_local_copy_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models, "SERVICE_SETTINGS_LOCAL_SECONDS", 0.3)
    assert ServiceSettings.load().welcome_text != "别处改的"
    # Another process saves: the row changes and the shared copy is dropped; this process's stays.
    ServiceSettings.objects.filter(pk=1).update(welcome_text="别处改的")
    shared_forget(SERVICE_SETTINGS_CACHE_KEY)
    with CaptureQueriesContext(connection) as counted:
        assert ServiceSettings.load().welcome_text != "别处改的", "this process's copy, for a moment"
    assert len(counted) == 0
    time.sleep(0.4)
    assert ServiceSettings.load().welcome_text == "别处改的"


def test_a_caller_changing_its_copy_changes_no_one_elses() -> None:
    config = ServiceSettings.load()
    config.welcome_text = "没保存的"
    assert ServiceSettings.load().welcome_text != "没保存的"
