from __future__ import annotations

import json

from robots.models import Robot
from robots.wfprotocol import CsControl
from seats.models import Seat
from sessions_app.models import ServiceSession, SessionEvent
from tests.support.cs_stack import Stack


def _controls(stack: Stack, user: str, kind: CsControl) -> list[dict[str, object]]:
    return [json.loads(m["payload"]["content"]) for m in stack.im.inbox(user) if m["payload"]["type"] == kind]


def test_transfer_by_keyword_assigns_a_free_seat_and_tells_both_sides(cs_stack: Stack) -> None:
    seat = cs_stack.online_seat("alice")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "Alice 为您服务")
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert session.state == ServiceSession.State.HUMAN
    assert session.seat == seat
    seat.refresh_from_db()
    assert seat.active_sessions == 1
    assigned = _controls(cs_stack, customer, CsControl.SERVICER_ASSIGNED)
    assert assigned == [{"servicer": {"id": str(seat.pk), "name": "Alice", "avatar": ""}}]
    # The servicer's IM app hears from the customer's shadow, with the conversation so far.
    shadow = Robot.objects.get(shadow_of=customer)
    handover = cs_stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    assert handover["sender"] == shadow.robot_id
    summary = handover["payload"]["searchableContent"]
    assert "客户: 你好" in summary
    assert "为您服务" not in summary
    assert list(session.events.values_list("kind", flat=True)) == ["opened", "human_requested", "assigned"]


def test_transfer_by_control_message_works_for_modified_clients(cs_stack: Stack) -> None:
    cs_stack.online_seat("alice", im=False)
    customer = cs_stack.new_customer()
    cs_stack.im.control(customer, CsControl.TRANSFER_TO_HUMAN)
    cs_stack.im.wait_for_text(customer, "为您服务")
    assert ServiceSession.objects.get(customer__im_user_id=customer).state == ServiceSession.State.HUMAN


def test_it_picks_the_least_loaded_seat(cs_stack: Stack) -> None:
    busy = cs_stack.online_seat("busy")
    free = cs_stack.online_seat("free")
    Seat.objects.filter(pk=busy.pk).update(active_sessions=2)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "人工客服")
    cs_stack.im.wait_for_text(customer, "为您服务")
    assert ServiceSession.objects.get(customer__im_user_id=customer).seat == free


def _full_seat(stack: Stack, username: str = "busy") -> Seat:
    """An online seat with no room (as if serving someone): customers who ask for a human queue."""
    seat = stack.online_seat(username, capacity=1)
    Seat.objects.filter(pk=seat.pk).update(active_sessions=1)
    return seat


def test_without_a_free_seat_customers_queue_and_drain_in_order_when_a_seat_comes_online(cs_stack: Stack) -> None:
    _full_seat(cs_stack)
    seat = cs_stack.online_seat("alice", capacity=1)
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.OFFLINE)
    first, second = cs_stack.new_customer(), cs_stack.new_customer()
    cs_stack.im.say(first, "转人工")
    cs_stack.im.wait_for_text(first, "前面还有 0 位")
    cs_stack.im.say(second, "转人工")
    cs_stack.im.wait_for_text(second, "前面还有 1 位")
    cs_stack.im.wait_for(  # the control follows the text: it may still be on its way
        second, lambda ms: bool(_controls(cs_stack, second, CsControl.QUEUE_POSITION)), what="QUEUE_POSITION"
    )
    assert _controls(cs_stack, second, CsControl.QUEUE_POSITION)[-1] == {"position": 2, "queued": True}

    from seats.services import seat_status_set

    seat_status_set(seat=seat, status=Seat.Status.ONLINE)
    cs_stack.im.wait_for_text(first, "为您服务")
    # The seat is full now (capacity 1): the second customer moves to the head of the queue.
    sessions = {s.customer.im_user_id: s for s in ServiceSession.objects.select_related("customer")}
    assert sessions[first].state == ServiceSession.State.HUMAN
    assert sessions[second].state == ServiceSession.State.QUEUED
    assert sessions[second].announced_position == 1

    cs_stack.im.say(first, "结束会话")
    cs_stack.im.wait_for_text(second, "为您服务")
    seat.refresh_from_db()
    assert seat.active_sessions == 1


def test_a_queued_customer_can_leave_the_queue(cs_stack: Stack) -> None:
    _full_seat(cs_stack)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "前面还有 0 位")
    cs_stack.im.say(customer, "取消排队")
    cs_stack.im.wait_for(
        customer,
        lambda messages: any(m["payload"]["type"] == CsControl.SESSION_CLOSED for m in messages),
        what="the session-closed signal",
    )
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert session.close_reason == ServiceSession.CloseReason.QUEUE_CANCELLED
    assert session.events.filter(kind=SessionEvent.Kind.QUEUED).exists()


def test_the_previous_servicer_is_preferred_when_available(cs_stack: Stack) -> None:
    alice = cs_stack.online_seat("alice")
    bob = cs_stack.online_seat("bob")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "为您服务")
    first_seat = ServiceSession.objects.get(customer__im_user_id=customer).seat
    assert first_seat is not None
    cs_stack.im.say(customer, "结束会话")
    cs_stack.im.wait_for_text(customer, "会话已结束")
    # Make the other seat the obvious least-loaded, longest-idle choice: preference must still win.
    other = bob if first_seat == alice else alice
    Seat.objects.filter(pk=first_seat.pk).update(active_sessions=2)
    Seat.objects.filter(pk=other.pk).update(active_sessions=0, last_assigned_at=None)
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for(
        customer, lambda ms: sum("为您服务" in m["payload"].get("searchableContent", "") for m in ms) == 2, what="2nd"
    )
    latest = ServiceSession.objects.filter(customer__im_user_id=customer).order_by("-pk").first()
    assert latest is not None
    assert latest.seat == first_seat


def test_outside_business_hours_the_customer_can_leave_a_message(cs_stack: Stack) -> None:
    from datetime import time as clock

    from sessions_app.models import LeftMessage, ServiceSettings

    cs_stack.online_seat("alice")
    config = ServiceSettings.load()
    config.business_hours_enabled = True
    config.business_days = ""  # no business day at all: always out of hours
    config.business_hours_start, config.business_hours_end = clock(9), clock(18)
    config.save()
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "非工作时间（09:00-18:00）")
    cs_stack.im.say(customer, "请明天联系我，订单 123")
    cs_stack.im.wait_for_text(customer, "留言已收到")
    left = LeftMessage.objects.get(customer__im_user_id=customer)
    assert left.text == "请明天联系我，订单 123"
    assert ServiceSession.objects.get(customer__im_user_id=customer).state == ServiceSession.State.BOT


def test_with_no_servicer_online_the_customer_is_told_so_and_can_leave_a_message(cs_stack: Stack) -> None:
    from sessions_app.models import LeftMessage

    away, offline = cs_stack.online_seat("alice"), cs_stack.online_seat("bob")
    Seat.objects.filter(pk=away.pk).update(status=Seat.Status.AWAY)
    Seat.objects.filter(pk=offline.pk).update(status=Seat.Status.OFFLINE)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "现在没有客服在线")
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert session.state == ServiceSession.State.BOT, "not queued to wait for nobody"
    assert not session.events.filter(kind=SessionEvent.Kind.QUEUED).exists()
    assert not _controls(cs_stack, customer, CsControl.QUEUE_POSITION)
    cs_stack.im.say(customer, "我想改收货地址，请联系我")
    cs_stack.im.wait_for_text(customer, "留言已收到")
    left = LeftMessage.objects.get(customer__im_user_id=customer)
    assert (left.text, left.session_id) == ("我想改收货地址，请联系我", session.pk)
    assert not any("前面还有" in text for text in cs_stack.im.texts(customer))


def test_a_servicer_starts_and_stops_service_from_the_im_app(cs_stack: Stack) -> None:
    seat = cs_stack.online_seat("alice")
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.OFFLINE)
    cs_stack.im.say(seat.im_user_id, "开始服务")
    cs_stack.im.wait_for_text(seat.im_user_id, "已开始服务")
    seat.refresh_from_db()
    assert seat.status == Seat.Status.ONLINE
    cs_stack.im.say(seat.im_user_id, "结束服务")
    cs_stack.im.wait_for_text(seat.im_user_id, "已暂停接待")
    seat.refresh_from_db()
    assert seat.status == Seat.Status.AWAY
    assert not ServiceSession.objects.filter(customer__im_user_id=seat.im_user_id).exists(), "not a customer"
