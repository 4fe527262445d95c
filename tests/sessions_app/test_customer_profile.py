"""A customer's IM profile (display name, avatar) is read at their first contact, after the callback's
transaction commits, through the real sandbox: no page shows their raw IM id once a name exists."""

from __future__ import annotations

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from cs_project.asgi import application
from robots.models import Robot
from robots.tasks import user_profile_read_task
from seats.models import Seat
from sessions_app.flow.customers import customer_profile_read
from sessions_app.flow.inbound import _customer_locked
from sessions_app.models import Customer, LeftMessage, ServiceSession
from tests.factories import customer_make, session_make
from tests.support.consoles import console_connect, next_frame
from tests.support.cs_stack import Stack
from tests.support.processes import wait_until


def _display_name(im_user_id: str) -> str:
    return Customer.objects.filter(im_user_id=im_user_id).values_list("display_name", flat=True).first() or ""


def test_the_profile_is_read_at_the_first_message_before_any_shadow(cs_stack: Stack) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎")
    wait_until(lambda: _display_name(customer) == f"顾客{customer[-4:]}", timeout=10, what="the profile to be read")
    assert not Robot.objects.filter(shadow_of=customer).exists(), "read without waiting for a shadow"


def test_the_profile_is_read_only_after_the_transaction_that_created_the_customer_commits(cs_stack: Stack) -> None:
    customer = cs_stack.new_customer()
    with transaction.atomic():
        _customer_locked(customer)
        # No HTTP call while the customer's row is locked: nothing was read yet.
        assert _display_name(customer) == ""
    assert _display_name(customer) == f"顾客{customer[-4:]}"  # Celery is eager here: read at commit


def test_a_known_customers_profile_is_not_read_again(cs_stack: Stack) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    wait_until(lambda: _display_name(customer) != "", timeout=10, what="the profile to be read")
    cs_stack.admin.create_user(user_id=customer, name=customer, display_name="改过的名字")
    cs_stack.im.say(customer, "在吗")
    wait_until(
        lambda: ServiceSession.objects.get(customer__im_user_id=customer).last_seq >= 3,
        timeout=10,
        what="the second message",
    )
    assert _display_name(customer) == f"顾客{customer[-4:]}"


def test_a_customer_nobody_served_shows_their_name_in_the_left_messages(cs_stack: Stack) -> None:
    """The case of the issue: no servicer online, the customer leaves a message, and the console's
    list of left messages showed their IM id."""
    alice = cs_stack.online_seat("alice")
    Seat.objects.filter(pk=alice.pk).update(status=Seat.Status.OFFLINE)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "没有客服在线")
    cs_stack.im.say(customer, "请明天上午给我回电话")
    cs_stack.im.wait_for_text(customer, "留言已收到")
    client = Client()
    client.force_login(alice.user)
    [row] = client.get("/api/left-messages/").json()["results"]
    assert (row["customer_name"], row["customer_im_user_id"]) == (f"顾客{customer[-4:]}", customer)


def test_a_user_the_im_server_does_not_know_is_left_as_it_is(cs_stack: Stack) -> None:
    Customer.objects.create(im_user_id="ghost-1")
    user_profile_read_task.delay("ghost-1")  # logged, not retried, not raised
    assert _display_name("ghost-1") == ""


@pytest.fixture
def _empty_redis(redis_client: redis.Redis) -> None:
    """Channel-layer groups start empty."""


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_empty_redis")
async def test_consoles_that_show_the_customer_learn_their_name(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    """The serving seat's console, and every console while the customer has a left message waiting."""

    def serving_and_leaving() -> tuple[Customer, Customer]:
        served = customer_make("dkqwq4c5og")
        Customer.objects.filter(pk=served.pk).update(display_name="")
        session_make(customer=served, seat=servicer_seat)
        leaving = Customer.objects.create(im_user_id="wx-night")
        LeftMessage.objects.create(customer=leaving, text="回电话")
        return served, leaving

    served, leaving = await sync_to_async(serving_and_leaving)()
    alice, bob = await console_connect(servicer_seat.user), await console_connect(other_servicer_seat.user)
    await sync_to_async(customer_profile_read)(
        im_user_id="dkqwq4c5og", display_name="张三", avatar_url="http://im.example/a.png"
    )
    event = await next_frame(alice, "customer.updated")
    assert event == {
        "type": "customer.updated",
        "customer_id": served.pk,
        "customer_name": "张三",
        "customer_avatar": "http://im.example/a.png",
    }
    await sync_to_async(customer_profile_read)(im_user_id="wx-night", display_name="夜猫子", avatar_url="")
    for console in (alice, bob):
        event = await next_frame(console, "customer.updated")
        assert (event["customer_id"], event["customer_name"]) == (leaving.pk, "夜猫子")
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_empty_redis")
async def test_the_supervisors_live_view_learns_the_name_of_a_queued_customer(supervisor: User) -> None:
    def queued() -> Customer:
        customer = Customer.objects.create(im_user_id="q-1")
        session_make(customer=customer, state=ServiceSession.State.QUEUED)
        return customer

    customer = await sync_to_async(queued)()
    feed = WebsocketCommunicator(application, "/ws/supervisor/", headers=await sync_to_async(_headers)(supervisor))
    assert (await feed.connect(timeout=5))[0]
    assert await feed.receive_json_from(timeout=5) == {"type": "hello"}
    await sync_to_async(customer_profile_read)(im_user_id="q-1", display_name="排队的人", avatar_url="")
    event = await feed.receive_json_from(timeout=5)
    assert (event["type"], event["customer_id"], event["customer_name"]) == (
        "customer.updated",
        customer.pk,
        "排队的人",
    )
    await feed.disconnect()


def _headers(user: User) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [
        (b"origin", settings.CS_PUBLIC_URL.encode()),
        (b"host", b"localhost"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
