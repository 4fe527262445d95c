from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ratings.models import Rating
from robots.models import OutboundMessage, Robot
from robots.wfprotocol import CsControl, text_payload
from seats.models import Seat
from sessions_app import hooks
from sessions_app.flow.closing import idle_sweep
from sessions_app.flow.servicer import servicer_end_session, servicer_reply
from sessions_app.models import LeftMessage, Message, ServiceSession, ServiceSettings, SessionEvent
from tests.factories import customer_make, message_make
from tests.support.cs_stack import Stack
from tests.support.processes import wait_until


def _signals(stack: Stack, user: str, kind: CsControl) -> list[dict[str, object]]:
    return [json.loads(m["payload"]["content"]) for m in stack.im.inbox(user) if m["payload"]["type"] == kind]


def _assigned(stack: Stack) -> tuple[str, ServiceSession]:
    stack.online_seat("alice")
    customer = stack.new_customer()
    stack.im.say(customer, "转人工")
    stack.im.wait_for_text(customer, "为您服务")
    return customer, ServiceSession.objects.select_related("seat").get(customer__im_user_id=customer)


def test_the_customer_exit_ends_the_session_frees_the_seat_and_prompts_for_a_rating(cs_stack: Stack) -> None:
    customer, session = _assigned(cs_stack)
    cs_stack.im.control(customer, CsControl.EXIT)
    cs_stack.im.wait_for_text(customer, "请为本次服务打分")
    session.refresh_from_db()
    assert session.state == ServiceSession.State.CLOSED
    assert session.close_reason == ServiceSession.CloseReason.CUSTOMER_EXIT
    assert session.rated_seat_id == session.seat_id
    assert session.seat is not None
    assert Seat.objects.get(pk=session.seat.pk).active_sessions == 0
    closed = _signals(cs_stack, customer, CsControl.SESSION_CLOSED)
    assert closed[-1]["reason"] == "customer_exit"
    request = _signals(cs_stack, customer, CsControl.RATING_REQUEST)[-1]
    assert request["session"] == str(session.pk)
    assert str(request["url"]).startswith("http://")


def test_a_single_digit_after_the_prompt_records_the_rating(cs_stack: Stack) -> None:
    customer, session = _assigned(cs_stack)
    cs_stack.im.say(customer, "结束会话")
    cs_stack.im.wait_for_text(customer, "请为本次服务打分")
    cs_stack.im.say(customer, "4")
    cs_stack.im.wait_for_text(customer, "感谢您的评价")
    rating = Rating.objects.get(session=session)
    assert (rating.score, rating.channel, rating.seat_id) == (4, Rating.Channel.CHAT_DIGIT, session.seat_id)
    # A later digit is an ordinary message: it opens a new bot session instead of re-rating.
    cs_stack.im.say(customer, "5")
    cs_stack.im.wait_for(
        customer,
        lambda ms: sum("欢迎咨询" in m["payload"].get("searchableContent", "") for m in ms) == 2,
        what="new session",
    )
    assert Rating.objects.get(session=session).score == 4


def _rated_by_control(stack: Stack, data: dict[str, object]) -> Rating:
    """The customer leaves, is asked for a rating, and answers with the rating control message."""
    customer, session = _assigned(stack)
    stack.im.control(customer, CsControl.EXIT)
    stack.im.wait_for_text(customer, "请为本次服务打分")
    stack.im.control(customer, CsControl.RATING, data)
    wait_until(lambda: Rating.objects.filter(session=session).exists(), timeout=10, what="the rating")
    return Rating.objects.get(session=session)


def test_the_rating_control_message_records_the_rating(cs_stack: Stack) -> None:
    rating = _rated_by_control(cs_stack, {"score": 5, "comment": "很快"})
    assert (rating.score, rating.comment, rating.channel) == (5, "很快", Rating.Channel.CONTROL)


def test_a_rating_whose_comment_holds_a_nul_or_a_lone_surrogate_still_counts(cs_stack: Stack) -> None:
    """The control message's content is JSON in a string: an escaped \\u0000 survives the callback's
    own checks and used to fail the message (the rating was lost)."""
    rating = _rated_by_control(cs_stack, {"score": 4, "comment": "好\u0000的\ud800"})
    assert (rating.score, rating.comment) == (4, "好的\ufffd")


def test_the_servicer_can_end_the_session(cs_stack: Stack) -> None:
    customer, session = _assigned(cs_stack)
    assert session.seat is not None
    servicer_end_session(session_id=session.pk, seat=session.seat)
    cs_stack.im.wait_for_text(customer, "请为本次服务打分")
    session.refresh_from_db()
    assert session.close_reason == ServiceSession.CloseReason.SERVICER_END


def _reply(stack: Stack, session: ServiceSession, text: str, *, via: str) -> None:
    """The servicer answers from the console or from the IM app (to the customer's shadow)."""
    assert session.seat is not None
    if via == "console":
        servicer_reply(session_id=session.pk, seat=session.seat, payload=text_payload(text))
    else:
        shadow = Robot.objects.get(shadow_of=session.customer.im_user_id)
        stack.im.say(session.seat.im_user_id, text, to=shadow.robot_id)
    stack.im.wait_for_text(session.customer.im_user_id, text)


def _timers(*, warn: int, close: int) -> None:
    config = ServiceSettings.load()
    config.human_idle_warning_minutes, config.human_idle_close_minutes = warn, close
    config.save()


def test_a_customer_who_owes_the_reply_is_warned_then_closed_by_the_sweep(cs_stack: Stack) -> None:
    customer, session = _assigned(cs_stack)
    _reply(cs_stack, session, "请问有什么可以帮您？", via="console")
    config = ServiceSettings.load()
    long_ago = timezone.now() - timedelta(minutes=config.human_idle_warning_minutes + 1)
    ServiceSession.objects.filter(pk=session.pk).update(idle_since=long_ago)
    assert idle_sweep() == {"warned": 1, "closed": 0}
    cs_stack.im.wait_for_text(customer, "会话将在")
    assert idle_sweep() == {"warned": 0, "closed": 0}, "the grace period has not passed yet"
    grace = timedelta(minutes=config.human_idle_close_minutes + 1)
    ServiceSession.objects.filter(pk=session.pk).update(
        idle_since=long_ago - grace, idle_warned_at=timezone.now() - grace
    )
    assert idle_sweep() == {"warned": 0, "closed": 1}
    cs_stack.im.wait_for_text(customer, "长时间未回复")
    session.refresh_from_db()
    assert session.close_reason == ServiceSession.CloseReason.IDLE_TIMEOUT
    assert session.rated_seat_id == session.seat_id


def test_a_customer_waiting_for_the_servicers_reply_is_never_warned_or_closed(cs_stack: Stack) -> None:
    customer, session = _assigned(cs_stack)
    assert session.seat is not None
    cs_stack.im.say(customer, "我的退款什么时候到账？")
    cs_stack.im.wait_for_text(session.seat.im_user_id, "什么时候到账")
    _timers(warn=0, close=0)  # any idle clock that runs is over at once
    assert idle_sweep() == {"warned": 0, "closed": 0}
    assert idle_sweep() == {"warned": 0, "closed": 0}
    session.refresh_from_db()
    assert session.state == ServiceSession.State.HUMAN
    assert session.idle_warned_at is None
    assert not any("会话将在" in text for text in cs_stack.im.texts(customer))


@pytest.mark.parametrize("via", ["console", "im"])
def test_a_servicer_reply_starts_the_idle_clock_and_clears_a_pending_warning(cs_stack: Stack, via: str) -> None:
    customer, session = _assigned(cs_stack)
    assert session.seat is not None
    cs_stack.im.say(customer, "在吗？")
    cs_stack.im.wait_for_text(session.seat.im_user_id, "在吗？")
    _timers(warn=0, close=30)
    assert idle_sweep()["warned"] == 0, "the servicer owes the reply"
    _reply(cs_stack, session, "在的，请讲", via=via)
    assert idle_sweep()["warned"] == 1, "the customer owes the reply now"
    cs_stack.im.wait_for_text(customer, "会话将在")
    _reply(cs_stack, session, "您还有别的问题吗？", via=via)
    session.refresh_from_db()
    assert session.idle_warned_at is None, "the servicer's reply voids the warning"
    assert session.state == ServiceSession.State.HUMAN


def test_a_message_after_the_warning_keeps_the_session_open(cs_stack: Stack) -> None:
    customer, session = _assigned(cs_stack)
    _reply(cs_stack, session, "请问有什么可以帮您？", via="console")
    config = ServiceSettings.load()
    long_ago = timezone.now() - timedelta(minutes=config.human_idle_warning_minutes + 1)
    ServiceSession.objects.filter(pk=session.pk).update(idle_since=long_ago)
    assert idle_sweep()["warned"] == 1
    cs_stack.im.say(customer, "我还在")
    cs_stack.im.wait_for_text(session.seat.im_user_id if session.seat else "", "我还在")
    session.refresh_from_db()
    assert session.idle_warned_at is None
    assert session.idle_since is None, "the servicer owes the reply"
    assert idle_sweep() == {"warned": 0, "closed": 0}


def test_bot_sessions_have_their_own_idle_timer(cs_stack: Stack) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    config = ServiceSettings.load()
    config.bot_idle_minutes = 1
    config.save()
    ServiceSession.objects.update(idle_since=timezone.now() - timedelta(minutes=2))
    assert idle_sweep()["warned"] == 1


def _full_seat(stack: Stack) -> Seat:
    """An online seat with no room (as if serving someone): customers who ask for a human queue."""
    seat = stack.online_seat("alice", capacity=1)
    Seat.objects.filter(pk=seat.pk).update(active_sessions=1)
    return seat


def test_a_sweep_closing_several_queued_customers_announces_the_new_positions_once(cs_stack: Stack) -> None:
    _full_seat(cs_stack)
    customers = [cs_stack.new_customer() for _ in range(4)]
    for customer in customers:  # the only seat is full: everyone queues, in this order
        cs_stack.im.say(customer, "转人工")
        cs_stack.im.wait_for_text(customer, "您前面还有")
    config = ServiceSettings.load()
    long_ago = timezone.now() - timedelta(minutes=config.queue_timeout_minutes + 1)
    ServiceSession.objects.filter(customer__im_user_id__in=customers[:2]).update(idle_since=long_ago)
    assert idle_sweep() == {"warned": 0, "closed": 2}
    last = customers[-1]
    cs_stack.im.wait_for_text(last, "您前面还有 1 位")
    positions = [text for text in cs_stack.im.texts(last) if "您前面还有" in text]
    assert len(positions) == 2, f"one announcement on queueing, one after the sweep: {positions}"


def test_a_queue_timeout_has_its_own_text_no_warning_and_keeps_the_next_text_as_a_left_message(
    cs_stack: Stack,
) -> None:
    _full_seat(cs_stack)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "您前面还有 0 位")
    config = ServiceSettings.load()
    config.queue_timeout_minutes = 0
    config.save()
    assert idle_sweep() == {"warned": 0, "closed": 1}
    cs_stack.im.wait_for_text(customer, "目前排队人数较多")
    texts = cs_stack.im.texts(customer)
    assert not any("会话将在" in text or "长时间未回复" in text for text in texts), texts
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert session.close_reason == ServiceSession.CloseReason.QUEUE_TIMEOUT
    cs_stack.im.wait_for(
        customer, lambda ms: bool(_signals(cs_stack, customer, CsControl.SESSION_CLOSED)), what="SESSION_CLOSED"
    )
    assert _signals(cs_stack, customer, CsControl.SESSION_CLOSED)[-1] == {"reason": "queue_timeout"}

    cs_stack.im.say(customer, "订单 123 一直没发货，请回电 13800000000")
    cs_stack.im.wait_for_text(customer, "留言已收到")
    left = LeftMessage.objects.get(customer__im_user_id=customer)
    assert (left.text, left.session_id) == ("订单 123 一直没发货，请回电 13800000000", session.pk)
    assert ServiceSession.objects.filter(customer__im_user_id=customer).count() == 1, "no new session opened"
    assert session.messages.filter(
        direction=Message.Direction.IN, payload__searchableContent__startswith="订单"
    ).exists()
    # The offer is used up: the next text is an ordinary first message.
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    assert LeftMessage.objects.filter(customer__im_user_id=customer).count() == 1


def test_asking_for_a_human_after_a_queue_timeout_queues_again_instead_of_leaving_a_message(cs_stack: Stack) -> None:
    _full_seat(cs_stack)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "您前面还有 0 位")
    config = ServiceSettings.load()
    config.queue_timeout_minutes = 0
    config.save()
    assert idle_sweep()["closed"] == 1
    cs_stack.im.wait_for_text(customer, "目前排队人数较多")
    config.queue_timeout_minutes = 30
    config.save()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for(
        customer, lambda ms: sum("您前面还有" in m["payload"].get("searchableContent", "") for m in ms) == 2, what="2nd"
    )
    assert not LeftMessage.objects.exists()


def test_without_a_ratings_app_a_close_frees_the_seat_and_offers_no_rating(
    cs_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flow asks ratings through sessions_app.hooks; with nothing registered it closes all the same."""
    monkeypatch.setattr(hooks, "_rating_hooks", None)
    customer, session = _assigned(cs_stack)
    cs_stack.im.control(customer, CsControl.EXIT)
    wait_until(
        lambda: _signals(cs_stack, customer, CsControl.SESSION_CLOSED) != [], timeout=10, what="the close signal"
    )
    session.refresh_from_db()
    assert session.state == ServiceSession.State.CLOSED
    assert not session.awaiting_rating_digit
    assert session.seat is not None
    assert Seat.objects.get(pk=session.seat.pk).active_sessions == 0
    assert "rating_url" not in _signals(cs_stack, customer, CsControl.SESSION_CLOSED)[-1]
    assert _signals(cs_stack, customer, CsControl.RATING_REQUEST) == []
    assert not any("请为本次服务打分" in text for text in cs_stack.im.texts(customer))


def _idle_bot_sessions(count: int) -> list[ServiceSession]:
    past = timezone.now() - timedelta(hours=2)
    sessions = []
    for number in range(count):
        session = ServiceSession.objects.create(customer=customer_make(f"idle-{number}-{uuid.uuid4().hex[:6]}"))
        message_make(session, "你好")
        sessions.append(session)
    ServiceSession.objects.update(idle_since=past, last_customer_activity_at=past)
    return sessions


def _sweep_counted() -> tuple[dict[str, int], int]:
    with CaptureQueriesContext(connection) as counted:
        counts = idle_sweep()
    return counts, len(counted)


@pytest.mark.django_db
def test_the_sweep_warns_and_closes_bot_sessions_by_the_set_in_the_same_statements_for_3_or_30() -> None:
    statements = {}
    ServiceSettings.load()  # the settings row, created and cached once, is not what is compared
    for count in (3, 30):
        Message.objects.all().delete()
        ServiceSession.objects.all().delete()
        sessions = _idle_bot_sessions(count)
        warned, statements[("warn", count)] = _sweep_counted()
        assert warned == {"warned": count, "closed": 0}
        ServiceSession.objects.update(idle_warned_at=timezone.now() - timedelta(hours=1))
        closed, statements[("close", count)] = _sweep_counted()
        assert closed == {"warned": 0, "closed": count}
        config = ServiceSettings.load()
        for session in sessions:
            session.refresh_from_db()
            assert session.state == ServiceSession.State.CLOSED
            assert session.close_reason == ServiceSession.CloseReason.IDLE_TIMEOUT
            assert session.last_seq == 4
            transcript = list(session.messages.order_by("seq").values_list("seq", "payload"))
            assert [seq for seq, _ in transcript] == [1, 2, 3, 4]
            assert "会话将在" in transcript[1][1]["searchableContent"]
            assert transcript[2][1]["searchableContent"] == config.idle_closed_text
            assert json.loads(transcript[3][1]["content"]) == {"reason": "idle_timeout"}
            sends = OutboundMessage.objects.filter(target_user_id=session.customer.im_user_id).order_by("id")
            assert [row.reference for row in sends] == [
                m.pk for m in session.messages.filter(seq__gt=1).order_by("seq")
            ], "the outbox carries the transcript's messages, in order"
            kinds = list(session.events.order_by("id").values_list("kind", flat=True))
            assert kinds[-2:] == [SessionEvent.Kind.IDLE_WARNED, SessionEvent.Kind.CLOSED]
    assert statements[("warn", 3)] == statements[("warn", 30)], statements
    assert statements[("close", 3)] == statements[("close", 30)], statements
