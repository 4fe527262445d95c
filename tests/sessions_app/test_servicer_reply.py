"""A servicer's reply and the one text limit (``robots.wfprotocol.TEXT_MAX_LENGTH``), whatever the
way in: the console's websocket and API, and the servicer's IM app through a customer's shadow."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.utils import translation

from cs_project.errors import ApplicationError
from robots.models import OutboundMessage
from robots.wfprotocol import TEXT_MAX_LENGTH, servicer_extra, text_payload
from seats.models import Seat
from sessions_app.flow.servicer import servicer_reply, servicer_reply_from_im
from sessions_app.models import Message
from tests.factories import session_make

pytestmark = pytest.mark.django_db


def test_the_limit_fits_the_im_servers_message_row() -> None:
    """im-server keeps a message's content in a MySQL BLOB of at most 65,535 bytes (DatabaseStore):
    the longest text, every character four bytes in UTF-8, with the largest servicer card, fits,
    with room for the protobuf's own few bytes."""
    text = "😀" * TEXT_MAX_LENGTH
    card = servicer_extra(name="😀" * 64, avatar="https://" + "a" * 192, servicer_id=str(2**63 - 1))
    assert len(text.encode()) + len(card.encode()) + 64 <= 65_535


def test_a_text_over_the_limit_is_refused_whoever_calls_and_nothing_is_written(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    with translation.override("zh-hans"), pytest.raises(ApplicationError) as refused:
        servicer_reply(session_id=session.pk, seat=servicer_seat, payload=text_payload("字" * (TEXT_MAX_LENGTH + 1)))
    assert refused.value.code == "too_long"
    assert refused.value.message.startswith("消息过长")
    assert not Message.objects.exists()
    assert not OutboundMessage.objects.exists()
    message = servicer_reply(session_id=session.pk, seat=servicer_seat, payload=text_payload("字" * TEXT_MAX_LENGTH))
    assert len(message.payload["searchableContent"]) == TEXT_MAX_LENGTH


def test_too_long_a_text_from_the_servicers_im_app_is_not_relayed_and_the_servicer_is_told(
    servicer_seat: Seat,
) -> None:
    session = session_make(seat=servicer_seat)
    with transaction.atomic():
        servicer_reply_from_im(
            customer_im_id=session.customer.im_user_id,
            sender_im_id=servicer_seat.im_user_id,
            payload=text_payload("字" * (TEXT_MAX_LENGTH + 1)),
        )
    assert not Message.objects.exists(), "nothing reached the customer"
    [told] = OutboundMessage.objects.all()
    assert (told.sender_kind, told.shadow_of, told.target_user_id) == (
        OutboundMessage.SenderKind.SHADOW,
        session.customer.im_user_id,
        servicer_seat.im_user_id,
    )
    assert told.payload["searchableContent"] == f"消息过长（最多 {TEXT_MAX_LENGTH:,} 字），未转发，请分开发送。"
    with transaction.atomic():
        servicer_reply_from_im(
            customer_im_id=session.customer.im_user_id,
            sender_im_id=servicer_seat.im_user_id,
            payload=text_payload("字" * TEXT_MAX_LENGTH),
        )
    relayed = Message.objects.get()
    assert (relayed.author, len(relayed.payload["searchableContent"])) == (Message.Author.SERVICER, TEXT_MAX_LENGTH)
    assert json.loads(relayed.payload["extra"])["cs"]["servicer"]["name"] == "Alice"
