"""Failed outbound messages in the admin: listed with their reason, and put back in line by the
ops group's retry action."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from robots.models import OutboundMessage
from seats.models import Seat

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/robots/outboundmessage/"


def _outbound(state: str, error: str = "") -> OutboundMessage:
    return OutboundMessage.objects.create(
        ordering_key="cs>cust-1:0",
        sender_kind=OutboundMessage.SenderKind.CS_ROBOT,
        target_user_id="cust-1",
        payload={"type": 1, "searchableContent": "您好"},
        state=state,
        attempts=1 if error else 0,
        last_error=error,
    )


@pytest.fixture
def client(ops_user: User) -> Client:
    client = Client()
    client.force_login(ops_user)
    return client


def test_failed_messages_are_listed_with_their_reason(client: Client) -> None:
    _outbound(OutboundMessage.State.FAILED, "WfcError: code 246 (blacklisted)")
    _outbound(OutboundMessage.State.SENT)
    page = client.get(LIST_URL, {"state__exact": "failed"}).content.decode()
    assert "code 246 (blacklisted)" in page
    assert page.count('name="_selected_action"') == 1


def test_the_retry_action_puts_failed_messages_back_in_line(
    client: Client, django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[list[Any]]]
) -> None:
    failed = _outbound(OutboundMessage.State.FAILED, "WfcError: code 246")
    sent = _outbound(OutboundMessage.State.SENT)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(LIST_URL, {"action": "retry", "_selected_action": [failed.pk, sent.pk]})
    assert response.status_code == 302
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.state == OutboundMessage.State.PENDING
    assert failed.lease_until is None
    assert sent.state == OutboundMessage.State.SENT, "only failed messages are retried"
    assert len(callbacks) == 1, "delivery of the key is scheduled once the change commits"


def test_a_servicer_cannot_retry_anything(servicer_seat: Seat) -> None:
    failed = _outbound(OutboundMessage.State.FAILED, "WfcError: code 246")
    client = Client()
    client.force_login(servicer_seat.user)
    response = client.post(LIST_URL, {"action": "retry", "_selected_action": [failed.pk]})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    failed.refresh_from_db()
    assert failed.state == OutboundMessage.State.FAILED


def test_stop_trying_marks_pending_messages_failed_so_the_conversation_moves_on(client: Client, ops_user: User) -> None:
    stuck = _outbound(OutboundMessage.State.PENDING, "TimeoutError: read timed out")
    sent = _outbound(OutboundMessage.State.SENT)
    response = client.post(LIST_URL, {"action": "stop_trying", "_selected_action": [stuck.pk, sent.pk]})
    assert response.status_code == 302
    stuck.refresh_from_db()
    sent.refresh_from_db()
    assert stuck.state == OutboundMessage.State.FAILED
    assert stuck.last_error == f"stopped by {ops_user.username}"
    assert sent.state == OutboundMessage.State.SENT, "only pending messages"


def test_the_actions_speak_chinese(client: Client) -> None:
    _outbound(OutboundMessage.State.PENDING)
    page = client.get(LIST_URL, headers={"accept-language": "zh-hans"}).content.decode()
    assert "重试所选的发送失败消息" in page
    assert "停止重试所选的待发消息" in page


def test_stop_trying_leaves_a_message_being_sent_alone(client: Client) -> None:
    """Failing it now would let the conversation's next message overtake it."""
    in_flight = _outbound(OutboundMessage.State.PENDING)
    OutboundMessage.objects.filter(pk=in_flight.pk).update(lease_until=timezone.now() + timedelta(seconds=30))
    client.post(LIST_URL, {"action": "stop_trying", "_selected_action": [in_flight.pk]})
    in_flight.refresh_from_db()
    assert in_flight.state == OutboundMessage.State.PENDING
