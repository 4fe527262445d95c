"""Left messages reach every open console live, through the real ASGI application and Redis layer."""

from __future__ import annotations

import pytest
import redis
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import Client

from seats.models import Seat
from sessions_app.flow.left_messages import left_message_created, left_messages_mark_handled
from sessions_app.models import Customer, LeftMessage
from tests.support.consoles import console_connect, next_frame

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_redis(redis_client: redis.Redis) -> None:
    """Channel-layer groups and presence start empty in every test."""


def _customer_leaves(text: str) -> LeftMessage:
    """As the inbound service keeps a left message: inside its transaction."""
    customer, _ = Customer.objects.get_or_create(im_user_id="wx-9", defaults={"display_name": "李先生"})
    with transaction.atomic():
        message = LeftMessage.objects.create(customer=customer, text=text)
        left_message_created(left_message=message)
    return message


async def test_every_connected_console_learns_of_a_new_left_message(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    alice, bob = await console_connect(servicer_seat.user), await console_connect(other_servicer_seat.user)

    left = await sync_to_async(_customer_leaves)("下班后请给我回个电话")

    for console in (alice, bob):
        event = await next_frame(console, "left_message.new")
        assert event["id"] == left.pk
        assert (event["customer_name"], event["customer_im_user_id"]) == ("李先生", "wx-9")
        assert event["text"] == "下班后请给我回个电话"
        assert event["created_at"]
    await alice.disconnect()
    await bob.disconnect()


async def test_nothing_is_sent_when_the_transaction_rolls_back(servicer_seat: Seat) -> None:
    alice = await console_connect(servicer_seat.user)

    def rolled_back() -> None:
        customer = Customer.objects.create(im_user_id="wx-10")
        with transaction.atomic():
            left_message_created(left_message=LeftMessage.objects.create(customer=customer, text="丢失"))
            transaction.set_rollback(True)

    await sync_to_async(rolled_back)()
    kept = await sync_to_async(_customer_leaves)("保留")
    event = await next_frame(alice, "left_message.new")
    assert event["id"] == kept.pk, "the rolled-back message was never announced"
    await alice.disconnect()


async def test_consoles_learn_when_a_message_is_handled(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    left = await sync_to_async(_customer_leaves)("请回电")
    bob = await console_connect(other_servicer_seat.user)

    await sync_to_async(left_messages_mark_handled)(message_ids=[left.pk], seat=servicer_seat)

    event = await next_frame(bob, "left_message.handled")
    assert (event["ids"], event["seat_id"]) == ([left.pk], servicer_seat.pk)
    await bob.disconnect()


async def test_only_open_servicer_consoles_are_in_the_group(
    servicer_seat: Seat, other_servicer_seat: Seat, redis_client: redis.Redis
) -> None:
    group_key = "cs:channels:group:cs.consoles"  # channels_redis: "<prefix>:group:<name>"
    alice, bob = await console_connect(servicer_seat.user), await console_connect(other_servicer_seat.user)
    assert redis_client.zcard(group_key) == 2
    await alice.disconnect()
    assert redis_client.zcard(group_key) == 1
    await sync_to_async(_customer_leaves)("还在吗")
    assert (await next_frame(bob, "left_message.new"))["text"] == "还在吗"
    await bob.disconnect()
    assert redis_client.zcard(group_key) == 0


def _customer_writes_out_of_hours(text: str) -> None:
    """Through the real callback endpoint: a customer asks for a human out of hours, then writes."""
    import json

    from robots.services import cs_robot_get
    from sessions_app.models import ServiceSettings

    config = ServiceSettings.load()
    config.business_hours_enabled = True
    config.business_days = ""  # closed every day
    config.save()
    robot = cs_robot_get()
    for number, said in enumerate(("转人工", text), start=1):
        body = {
            "messageId": 9_000_000_000_000_000_000 + number,
            "sender": "wx-out-of-hours",
            "conv": {"type": 0, "target": robot.robot_id, "line": 0},
            "payload": {"type": 1, "searchableContent": said, "persistFlag": 3},
            "toUsers": [],
            "timestamp": 1_700_000_000_000 + number,
        }
        response = Client().post(
            f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}",
            data=json.dumps(body),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content


async def test_a_message_left_through_the_chat_reaches_the_consoles(servicer_seat: Seat) -> None:
    alice = await console_connect(servicer_seat.user)
    await sync_to_async(_customer_writes_out_of_hours)("明天上午请联系我")
    event = await next_frame(alice, "left_message.new")
    assert (event["customer_im_user_id"], event["text"]) == ("wx-out-of-hours", "明天上午请联系我")
    await alice.disconnect()
