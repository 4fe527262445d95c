from __future__ import annotations

import time

import pytest
import redis
from django.test import Client, override_settings
from pytest_django.fixtures import Settings as SettingsWrapper

from cs_project.health import (
    INBOUND_HEARTBEAT_KEY,
    OUTBOX_HEARTBEAT_KEY,
    WORKER_HEARTBEAT_KEY,
    record_worker_heartbeat,
)

pytestmark = pytest.mark.django_db


def test_it_answers_200_when_database_redis_and_a_worker_are_fine(client: Client, redis_client: redis.Redis) -> None:
    record_worker_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"] == {"ok": True, "detail": "postgresql"}
    assert body["redis"]["ok"] is True
    assert body["celery_worker"]["ok"] is True


def test_it_answers_503_when_no_worker_answered_recently(client: Client, redis_client: redis.Redis) -> None:
    redis_client.delete(WORKER_HEARTBEAT_KEY)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["celery_worker"] == {"ok": False, "detail": "no worker heartbeat recently"}


def test_it_answers_503_on_a_stale_heartbeat(client: Client, redis_client: redis.Redis) -> None:
    redis_client.set(WORKER_HEARTBEAT_KEY, "1000.0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["celery_worker"]["ok"] is False


def test_it_answers_503_when_redis_is_down(client: Client, redis_client: redis.Redis) -> None:
    record_worker_heartbeat()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["redis"] == {"ok": False, "detail": "ConnectionError"}
    assert body["database"]["ok"] is True


def test_it_refuses_other_methods(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


def test_it_answers_503_while_no_outbox_deliverer_runs(
    client: Client, redis_client: redis.Redis, settings: SettingsWrapper
) -> None:
    settings.CS_OUTBOX_DELIVERY = "stream"
    record_worker_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["outbox_delivery"] == {"ok": False, "detail": "no outbox_stream heartbeat recently"}
    redis_client.set(OUTBOX_HEARTBEAT_KEY, repr(time.time()))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["outbox_delivery"]["ok"] is True


def test_it_answers_503_while_no_inbound_drainer_runs_in_stream_mode(
    client: Client, redis_client: redis.Redis, settings: SettingsWrapper
) -> None:
    settings.CS_INBOUND_DRAIN = "stream"
    record_worker_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["inbound_drain"] == {"ok": False, "detail": "no inbound_stream heartbeat recently"}
    redis_client.set(INBOUND_HEARTBEAT_KEY, repr(time.time()))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["inbound_drain"]["ok"] is True
