from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.services import robots_forget
from seats.models import Seat
from seats.services import ops_user_create, seat_create_with_user, supervisor_create
from sessions_app.models import faq_forget, service_settings_forget

# Shared fixtures that start real processes: the sandbox IM server and the CS stack.
pytest_plugins = [
    "tests.support.sandbox",
    "tests.support.appserver",
    "tests.support.cs_stack",
    "tests.support.stack",
    "tests.support.browser",
]


@pytest.fixture(autouse=True)
def _no_cached_service_settings() -> None:
    """Each test's database starts empty: a settings row cached (in the test Redis) by an earlier
    test, or by a process it started, must not outlive it; nor must the FAQ entries."""
    service_settings_forget()
    faq_forget()


@pytest.fixture(autouse=True)
def _no_remembered_robots() -> None:
    """Robots kept in this process's memory (robots.robot_cache) belong to an earlier test's rows."""
    robots_forget()


@pytest.fixture(autouse=True)
def _outbox_delivered_inline(settings: SettingsWrapper) -> None:
    """In-process tests deliver the outbox in the thread that commits (robots/outbox.py, "inline"),
    and act on a stored customer message in its callback's request (robots/callbacks.py,
    "request"), so a test sees what reached the IM server as soon as its request returns. Stacks of
    real processes (tests.support.stack) use the outbox_stream and inbound_stream processes instead."""
    settings.CS_OUTBOX_DELIVERY = "inline"
    settings.CS_INBOUND_DRAIN = "request"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """The real Redis of the test settings, emptied before and after each test that uses it."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Celery tasks run in the thread that queues them (the code they run is the real one), as the
    in-process ``cs_stack`` needs: the bot's answers happen before the request that caused them ends."""
    from cs_project.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def supervisor(db: None) -> User:
    return supervisor_create(username="sup", password="sup-password")


@pytest.fixture
def ops_user(db: None) -> User:
    """Whoever runs the servers: the IM adapter's tables in the admin, nothing else."""
    return ops_user_create(username="ops", password="ops-password")


@pytest.fixture
def servicer_seat(db: None) -> Seat:
    return seat_create_with_user(username="alice", password="alice-password", display_name="Alice", im_user_id="alice")


@pytest.fixture
def other_servicer_seat(db: None) -> Seat:
    return seat_create_with_user(username="bob", password="bob-password", display_name="Bob", im_user_id="bob")
