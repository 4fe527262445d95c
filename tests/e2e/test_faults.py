"""Faults injected for real: the IM server stopped, the deliverer killed mid-send (docs/reliability.md)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import OutboundMessage
from robots.wfprotocol import text_payload
from sessions_app.flow.servicer import servicer_reply
from sessions_app.models import ServiceSession
from tests.support.processes import free_port, python, running, wait_until
from tests.support.sandbox import TEST_ADMIN_SECRET, Sandbox, _health_answers
from tests.support.stack import LiveStack, stack_running, start_outbox_stream

pytestmark = pytest.mark.e2e


class RestartableSandbox:
    """A sandbox on fixed ports and a fixed database file, so it can be stopped and started again."""

    def __init__(self, directory: Path) -> None:
        self.robot_port, self.admin_port = free_port(), free_port()
        self.directory = directory
        self.sandbox = Sandbox(
            robot_url=f"http://127.0.0.1:{self.robot_port}",
            admin_url=f"http://127.0.0.1:{self.admin_port}",
            admin_secret=TEST_ADMIN_SECRET,
            db_path=directory / "sandbox.sqlite3",
            log_path=directory / "sandbox.log",
        )
        self._exits: ExitStack | None = None

    def start(self) -> None:
        argv = python(
            "-m", "wfsandbox", "--robot-port", str(self.robot_port), "--admin-port", str(self.admin_port),
            "--db", str(self.sandbox.db_path), "--admin-secret", self.sandbox.admin_secret,
        )  # fmt: skip
        self._exits = ExitStack()
        log = self.directory / f"sandbox-{time.monotonic_ns()}.log"
        self._exits.enter_context(running(argv, env=dict(os.environ), log=log))
        wait_until(lambda: _health_answers(self.sandbox.admin_url), timeout=20, what="the sandbox")

    def stop(self) -> None:
        if self._exits is not None:
            self._exits.close()
            self._exits = None


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[RestartableSandbox]:
    sandbox = RestartableSandbox(tmp_path)
    sandbox.start()
    yield sandbox
    sandbox.stop()


def _human_session(stack: LiveStack) -> tuple[str, ServiceSession]:
    seat = stack.online_seat("alice")
    customer = stack.new_customer()
    stack.im.say(customer, "转人工")
    stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    return customer, ServiceSession.objects.select_related("seat").get(customer__im_user_id=customer)


def _replies(stack: LiveStack, customer: str) -> list[str]:
    texts = stack.im.texts(customer, sender="cs_robot")
    return [t for t in texts if t.startswith("回复")]


def test_with_the_im_server_down_for_30_seconds_every_reply_arrives_in_order(
    restartable: RestartableSandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    extra = {"CS_OUTBOX_MAX_BACKOFF_SECONDS": "4"}
    with stack_running(sandbox=restartable.sandbox, settings=settings, tmp_path=tmp_path, extra_env=extra) as stack:
        customer, session = _human_session(stack)
        assert session.seat is not None
        restartable.stop()
        sent = []
        for number in range(6):  # a reply every 5 s while the IM server is away
            sent.append(f"回复{number}")
            servicer_reply(session_id=session.pk, seat=session.seat, payload=text_payload(sent[-1]))
            time.sleep(5)
        pending = OutboundMessage.objects.filter(state=OutboundMessage.State.PENDING, target_user_id=customer)
        assert pending.count() == len(sent)
        assert pending.order_by("id").first().attempts >= 2  # type: ignore[union-attr]
        restartable.start()
        wait_until(lambda: len(_replies(stack, customer)) >= len(sent), timeout=30, what="every reply")
        assert _replies(stack, customer) == sent, "in order, each once"
        # The copies to the servicer's IM app (through the customer's shadow) retry on their own clock.
        wait_until(
            lambda: not OutboundMessage.objects.exclude(state=OutboundMessage.State.SENT).exists(),
            timeout=30,
            what="every copy to the servicer's IM app",
        )


def _reply_copies(stack: LiveStack, customer: str) -> list[tuple[str, str]]:
    """(text, cs.mid) of each reply the customer received, in order."""
    copies = []
    for message in stack.im.inbox(customer):
        payload = message["payload"]
        if message["sender"] == "cs_robot" and str(payload.get("searchableContent", "")).startswith("回复"):
            copies.append((payload["searchableContent"], json.loads(payload["extra"])["cs"]["mid"]))
    return copies


def test_through_a_20_second_pause_of_the_im_server_each_reply_arrives_once_in_order(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    """The IM server accepts connections but answers nothing for 20 s (a GC pause, an overloaded
    node), then answers everything it queued. The deliverer waits for the answer of the send it made
    (WFC_SEND_TIMEOUT_SECONDS, 30) instead of sending it again into the paused server."""
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path) as stack:
        customer, session = _human_session(stack)
        assert session.seat is not None
        sandbox.configure(failMode="stall", failDelaySeconds=20, failScope="robot")
        try:
            sent = [f"回复{number}" for number in range(5)]
            for text in sent:
                servicer_reply(session_id=session.pk, seat=session.seat, payload=text_payload(text))
                time.sleep(1)
            wait_until(lambda: len(_replies(stack, customer)) >= len(sent), timeout=40, what="every reply")
        finally:
            sandbox.configure(failMode="none")
        time.sleep(1)  # a copy sent late would arrive now
        copies = _reply_copies(stack, customer)
        assert [text for text, _mid in copies] == sent, "in order, each once"
        rows = OutboundMessage.objects.filter(target_user_id=customer, payload__searchableContent__in=sent)
        assert sorted(mid for _text, mid in copies) == sorted(str(row.pk) for row in rows), "each with its row's id"
        assert all(row.attempts == 1 for row in rows), "none sent twice"


def test_a_pause_longer_than_the_send_timeout_holds_every_send_until_the_server_answers(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    """A send left without an answer (outcome unknown) is not sent again while the server stays
    silent: the deliverer probes it, and sends again only once it answers. The customer may then get
    that message twice, both copies with the same ``cs.mid`` for the client to drop one; never more,
    and nothing overtakes it."""
    extra = {"WFC_SEND_TIMEOUT_SECONDS": "2", "CS_OUTBOX_MAX_BACKOFF_SECONDS": "2"}
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path, extra_env=extra) as stack:
        customer, session = _human_session(stack)
        assert session.seat is not None
        sandbox.configure(failMode="stall", failDelaySeconds=9, failScope="robot")
        try:
            sent = [f"回复{number}" for number in range(3)]
            for text in sent:
                servicer_reply(session_id=session.pk, seat=session.seat, payload=text_payload(text))
            wait_until(lambda: len(set(_replies(stack, customer))) >= len(sent), timeout=40, what="every reply")
        finally:
            sandbox.configure(failMode="none")
        time.sleep(2)  # a copy sent late would arrive now
        copies = _reply_copies(stack, customer)
        first = [copy for copy in copies if copy[0] == sent[0]]
        assert 1 <= len(first) <= 2, f"sent again only after the server answered: {len(first)} copies"
        assert len({mid for _text, mid in first}) == 1, "copies carry the same id"
        assert [text for text, _mid in copies if text != sent[0]] == sent[1:], "the others once, in order"
        texts = [text for text, _mid in copies]
        assert texts.index(sent[1]) > max(i for i, text in enumerate(texts) if text == sent[0]), "nothing overtaken"


def test_the_deliverer_killed_mid_send_loses_nothing_and_nothing_is_overtaken(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    """The outbox_stream process dies (SIGKILL) while the IM server is answering its send, with more
    replies of the same conversation behind it. Its claim (lease) expires, and a new deliverer sends
    the row, then the ones behind it, in order. The IM server may have accepted the first send before
    the process died: then the customer sees that message twice. That takes a crash inside one HTTP
    round trip, so it is rare; the alternative (never resending) could lose the message, which is worse."""
    extra = {"CS_OUTBOX_LEASE_SECONDS": "8", "WFC_TIMEOUT_SECONDS": "1", "WFC_SEND_TIMEOUT_SECONDS": "2"}
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path, extra_env=extra) as stack:
        customer, session = _human_session(stack)
        assert session.seat is not None
        sandbox.configure(failMode="delay", failDelaySeconds=3, failScope="robot", failCount=1)
        replies = ["回复-关键", "回复-其后1", "回复-其后2"]
        try:
            servicer_reply(session_id=session.pk, seat=session.seat, payload=text_payload(replies[0]))
            row = OutboundMessage.objects.get(target_user_id=customer, payload__searchableContent=replies[0])
            wait_until(
                lambda: OutboundMessage.objects.filter(pk=row.pk, lease_until__isnull=False).exists(),
                timeout=10,
                what="the deliverer to claim the message",
            )
            for text in replies[1:]:
                servicer_reply(session_id=session.pk, seat=session.seat, payload=text_payload(text))
            os.killpg(stack.processes["outbox"].pid, signal.SIGKILL)
            assert OutboundMessage.objects.filter(target_user_id=customer).exclude(state="sent").count() == 3
            start_outbox_stream(stack, stack.exits, name="outbox2")
            wait_until(
                lambda: not OutboundMessage.objects.filter(target_user_id=customer).exclude(state="sent").exists(),
                timeout=40,
                what="the messages to be sent by the second deliverer",
            )
        finally:
            sandbox.configure(failMode="none")
        wait_until(lambda: replies[-1] in _replies(stack, customer), timeout=10, what="the customer to get them")
        received = _replies(stack, customer)
        copies = received.count(replies[0])
        assert 1 <= copies <= 2
        assert [text for text in received if text != replies[0]] == replies[1:]
        assert received.index(replies[1]) > max(i for i, text in enumerate(received) if text == replies[0]), (
            "nothing overtaken"
        )
        print(f"deliverer killed mid-send: the customer received {copies} cop{'y' if copies == 1 else 'ies'}")  # noqa: T201
