"""The inbound drainer (robots/inbound_stream.py, CS_INBOUND_DRAIN=stream): the callback answers once
the message is stored, and the drainer, woken by the row's NOTIFY, acts on it in order; killed
mid-message, it loses nothing and acts on nothing twice.

In a thread of the test process for the behaviour, as ``manage.py inbound_stream`` (a process of its
own, killed with SIGKILL) for the crash.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.inbound_stream import InboundStream, conversation_from_payload
from robots.models import InboundMessage, Robot
from robots.outbox_stream import conninfo
from robots.services import cs_robot_get
from sessions_app.models import Message
from tests.support.processes import python, running, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SENDER = "stream-customer"


@pytest.fixture
def streamed(settings: SettingsWrapper, redis_client: redis.Redis) -> None:
    """Callbacks only store; the drainer acts."""
    settings.CS_INBOUND_DRAIN = "stream"


@contextmanager
def draining(*, poll_seconds: float = 60.0) -> Iterator[InboundStream]:
    """An InboundStream in a thread; a long poll, so that only a NOTIFY (or its start) wakes it."""
    stream = InboundStream(concurrency=4, poll_seconds=poll_seconds)
    stop = threading.Event()
    out_before = _connections_out()

    def run() -> None:
        try:
            stream.run(stop)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="inbound-stream-test")
    thread.start()
    try:
        yield stream
    finally:
        stop.set()
        thread.join(poll_seconds + 30)
        assert not thread.is_alive(), "the stream stopped"
        # Its drain threads gave their connections back to the pool: kept, they ran the test
        # process's pool dry under load (CI, 2026-12-06).
        assert _connections_out() <= out_before


def _connections_out() -> int:
    """Connections of this process's pool that are checked out (in use, or kept by a thread)."""
    stats = connection.pool.get_stats()  # type: ignore[attr-defined]  # the PostgreSQL backend's pool
    return int(stats["pool_size"] - stats["pool_available"])


def _post(robot: Robot, message_id: int, text: str, timestamp: int) -> None:
    body = {
        "messageId": message_id,
        "sender": SENDER,
        "conv": {"type": 0, "target": robot.robot_id, "line": 0},
        "payload": {"type": 1, "searchableContent": text, "persistFlag": 3},
        "toUsers": [],
        "timestamp": timestamp,
    }
    response = Client().post(
        f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"


def _stored(robot: Robot, message_id: int, text: str, timestamp: int) -> InboundMessage:
    return InboundMessage.objects.create(
        robot=robot,
        message_id=message_id,
        sender=SENDER,
        conv_type=0,
        conv_target=robot.robot_id,
        payload={"type": 1, "searchableContent": text, "persistFlag": 3},
        server_timestamp=timestamp,
    )


def _customer_texts() -> list[str]:
    rows = Message.objects.filter(session__customer__im_user_id=SENDER, author=Message.Author.CUSTOMER)
    return [row.payload["searchableContent"] for row in rows.order_by("seq")]


def _states() -> list[str]:
    return list(InboundMessage.objects.order_by("server_timestamp").values_list("state", flat=True))


def test_the_payload_names_the_conversation() -> None:
    assert conversation_from_payload("12:cust:a") == (12, "cust:a")
    assert conversation_from_payload("x:cust") is None
    assert conversation_from_payload("12:") is None


def test_the_callback_only_stores_and_the_stream_acts_on_it_when_notified(streamed: None) -> None:
    robot = cs_robot_get()
    _post(robot, 1001, "你好", 1_700_000_000_000)
    # Answered without acting: nothing drains yet.
    assert _states() == [InboundMessage.State.PENDING]
    assert _customer_texts() == []
    with draining() as stream:
        # Stored while no one listened: found when the stream starts.
        wait_until(lambda: _states() == [InboundMessage.State.DONE], timeout=10, what="the first message acted on")
        started = time.monotonic()
        _post(robot, 1002, "在吗", 1_700_000_000_100)
        # Woken by the NOTIFY of the row's commit, not by its poll (60 s).
        wait_until(lambda: _customer_texts() == ["你好", "在吗"], timeout=10, what="the second message acted on")
        assert time.monotonic() - started < 5
        assert stream.wait_idle(10)
    assert _states() == [InboundMessage.State.DONE] * 2
    assert stream.drained_count == 2


def test_a_conversation_is_acted_on_in_server_time_order(streamed: None) -> None:
    robot = cs_robot_get()
    with draining() as stream:
        # Committed together, stored out of order (the IM server posts up to five callbacks at once).
        with transaction.atomic():
            _stored(robot, 2003, "third", 1_700_000_000_300)
            _stored(robot, 2001, "first", 1_700_000_000_100)
            _stored(robot, 2002, "second", 1_700_000_000_200)
        wait_until(lambda: len(_customer_texts()) == 3, timeout=15, what="three messages acted on")
        assert stream.wait_idle(10)
    assert _customer_texts() == ["first", "second", "third"]
    assert list(InboundMessage.objects.values_list("attempts", flat=True)) == [1, 1, 1]


def _stream_process(log: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "CS_INBOUND_DRAIN": "stream",
        "CS_OUTBOX_DELIVERY": "stream",  # its answers stay in the outbox: no IM server here
    }
    return running(python("manage.py", "inbound_stream"), env=env, log=log)


def _waiting_on_a_lock(conn: psycopg.Connection[tuple[int]]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()
    return row[0] if row else 0


def test_killed_mid_message_the_stream_loses_nothing_and_acts_once(streamed: None, tmp_path: Path) -> None:
    robot = cs_robot_get()
    with psycopg.Connection.connect(conninfo(), autocommit=True) as watcher:
        blocker = psycopg.Connection.connect(conninfo())
        try:
            # The transcript table is locked against writes: the drainer claims the message and then
            # waits inside its transaction, half-way through acting on it.
            blocker.execute(f"LOCK TABLE {Message._meta.db_table} IN SHARE MODE")
            with _stream_process(tmp_path / "first.log") as child:
                wait_until(
                    lambda: "inbound stream: draining" in (tmp_path / "first.log").read_text(errors="replace"),
                    timeout=60,
                    what="the drainer to start",
                )
                _stored(robot, 3001, "halfway", 1_700_000_000_000)
                wait_until(lambda: _waiting_on_a_lock(watcher) > 0, timeout=15, what="the drain to wait mid-message")
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(10)
        finally:
            blocker.rollback()
            blocker.close()
        # The dead client's transaction rolls back, its claim with it.
        wait_until(lambda: _waiting_on_a_lock(watcher) == 0, timeout=15, what="the killed drain's backend to end")
    wait_until(lambda: _states() == [InboundMessage.State.PENDING], timeout=15, what="the claim to be rolled back")
    assert _customer_texts() == []
    with _stream_process(tmp_path / "second.log"):
        wait_until(lambda: _states() == [InboundMessage.State.DONE], timeout=30, what="the restarted drainer to act")
    assert _customer_texts() == ["halfway"]
    assert InboundMessage.objects.get().attempts == 1  # the killed attempt was rolled back with its claim
