"""FaqEntry.enabled_entries reads a copy kept by the process for a moment, then the shared cache: the
bot reads the FAQ on every question. Adding, changing, disabling or deleting an entry is seen by the
next question in the process that made the change, and by the others once their copy expires."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cs_project.shared_cache import shared_forget
from sessions_app import models
from sessions_app.models import FAQ_CACHE_KEY, FaqEntry

pytestmark = pytest.mark.django_db


def _questions() -> list[str]:
    return [entry.question for entry in FaqEntry.enabled_entries()]


def test_a_second_read_needs_no_statement_and_no_trip_to_the_shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    FaqEntry.objects.create(question="运费多少", answer="满 99 包邮。")
    assert _questions() == ["运费多少"]

    def no_shared_read(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the shared cache was read: this process's copy was not used")

    monkeypatch.setattr(models, "shared_cached", no_shared_read)
    with CaptureQueriesContext(connection) as counted:
        assert _questions() == ["运费多少"]
    assert len(counted) == 0


def test_another_process_reads_the_shared_copy_without_a_statement() -> None:
    FaqEntry.objects.create(question="运费多少", answer="满 99 包邮。")
    assert _questions() == ["运费多少"]
    models._local_faq.clear()  # as in another process, which kept no copy of its own
    with CaptureQueriesContext(connection) as counted:
        assert _questions() == ["运费多少"]
    assert len(counted) == 0


def test_every_change_in_the_admin_is_seen_by_the_next_question() -> None:
    first = FaqEntry.objects.create(question="运费多少", answer="满 99 包邮。", rank=2)
    assert _questions() == ["运费多少"]
    second = FaqEntry.objects.create(question="怎么退货", answer="七天无理由。", rank=1)
    assert _questions() == ["怎么退货", "运费多少"], "added, in rank order"
    first.enabled = False
    first.save()
    assert _questions() == ["怎么退货"], "disabled"
    FaqEntry.objects.filter(pk=second.pk).delete()
    assert _questions() == [], "deleted from a list (a queryset delete)"


def test_a_change_made_by_another_process_is_seen_once_the_local_copy_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models, "FAQ_LOCAL_SECONDS", 0.3)
    entry = FaqEntry.objects.create(question="运费多少", answer="满 99 包邮。")
    assert _questions() == ["运费多少"]
    # Another process saves: the row changes and the shared copy is dropped; this process's stays.
    FaqEntry.objects.filter(pk=entry.pk).update(question="运费怎么算")
    shared_forget(FAQ_CACHE_KEY)
    assert _questions() == ["运费多少"], "this process's copy, for a moment"
    time.sleep(0.4)
    assert _questions() == ["运费怎么算"]
