"""The customer's language: what the bot and the flow send follows the language the customer writes
in, English texts come from the settings' ``*_en`` variants, and an empty variant falls back to the
Chinese text."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ratings.models import Rating
from seats.models import Seat
from sessions_app.flow.assignment import queue_drain
from sessions_app.flow.closing import idle_sweep
from sessions_app.flow.transfer import session_transfer
from sessions_app.models import Message, ServiceSession, ServiceSettings
from tests.factories import customer_make, message_make
from tests.support.cs_stack import Stack
from tests.support.processes import wait_until


def _full_seat(stack: Stack) -> Seat:
    """An online seat with no room: customers who ask for a human queue."""
    seat = stack.online_seat("alice", capacity=1)
    Seat.objects.filter(pk=seat.pk).update(active_sessions=1)
    return seat


def _session(customer: str) -> ServiceSession:
    return ServiceSession.objects.select_related("seat").get(customer__im_user_id=customer)


def _session_closed(customer: str) -> ServiceSession:
    return ServiceSession.objects.get(customer__im_user_id=customer, state=ServiceSession.State.CLOSED)


def test_a_customer_who_writes_english_is_answered_in_english_from_welcome_to_rating(cs_stack: Stack) -> None:
    seat = _full_seat(cs_stack)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "Hello there")
    cs_stack.im.wait_for_text(customer, "Hello, welcome!")
    assert _session(customer).language == "en"

    cs_stack.im.say(customer, "human")
    cs_stack.im.wait_for_text(customer, "All our servicers are busy; 0 customers are ahead of you.")

    Seat.objects.filter(pk=seat.pk).update(active_sessions=0)
    assert queue_drain() == 1
    cs_stack.im.wait_for_text(customer, "Alice is here to help you.")

    other = cs_stack.online_seat("bob")
    session_transfer(session_id=_session(customer).pk, from_seat=seat, to_seat_id=other.pk)
    cs_stack.im.wait_for_text(customer, "Your chat has been passed to Bob")

    cs_stack.im.say(customer, "end chat")
    cs_stack.im.wait_for_text(customer, "This chat has ended. Thank you!")
    cs_stack.im.wait_for_text(customer, "Please rate our service: reply with a number from 1 to 5")
    cs_stack.im.say(customer, "5")
    cs_stack.im.wait_for_text(customer, "Thank you for your rating!")
    assert Rating.objects.get(session=_session(customer)).score == 5

    chinese = ("欢迎", "您前面还有", "为您服务", "转接", "会话已结束", "请为本次服务打分", "感谢您的评价")
    texts = cs_stack.im.texts(customer, sender=cs_stack.cs_robot)
    assert not [text for text in texts if any(word in text for word in chinese)], texts


def test_a_customer_who_switches_to_chinese_is_answered_in_chinese_from_then_on(cs_stack: Stack) -> None:
    _full_seat(cs_stack)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "Hi, I have a question")
    cs_stack.im.wait_for_text(customer, "Hello, welcome!")
    cs_stack.im.say(customer, "human")
    cs_stack.im.wait_for_text(customer, "customers are ahead of you")
    cs_stack.im.say(customer, "结束会话")
    cs_stack.im.wait_for_text(customer, "本次会话已结束")
    assert _session_closed(customer).language == "zh-hans"
    assert not any("This chat has ended" in text for text in cs_stack.im.texts(customer))
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")


def test_a_message_that_says_nothing_about_the_language_keeps_the_one_before(cs_stack: Stack) -> None:
    _full_seat(cs_stack)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "Hello")
    cs_stack.im.wait_for_text(customer, "Hello, welcome!")
    cs_stack.im.say(customer, "human")
    cs_stack.im.wait_for_text(customer, "customers are ahead of you")
    cs_stack.im.say(customer, "123")
    wait_until(
        lambda: Message.objects.filter(
            session__customer__im_user_id=customer, payload__searchableContent="123"
        ).exists(),
        timeout=10,
        what="the digits to be stored",
    )
    assert _session(customer).language == "en"


def test_with_nobody_online_an_english_customer_is_offered_to_leave_a_message_in_english(cs_stack: Stack) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "Hello")
    cs_stack.im.wait_for_text(customer, "Hello, welcome!")
    cs_stack.im.say(customer, "human")
    cs_stack.im.wait_for_text(customer, "No servicer is online now.")
    cs_stack.im.say(customer, "Call me tomorrow please")
    cs_stack.im.wait_for_text(customer, "We have your message")


def test_an_empty_english_text_falls_back_to_the_chinese_one(cs_stack: Stack) -> None:
    config = ServiceSettings.load()
    config.queued_text_en = ""
    config.save()
    _full_seat(cs_stack)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "Hello")
    cs_stack.im.wait_for_text(customer, "Hello, welcome!")
    cs_stack.im.say(customer, "human")
    cs_stack.im.wait_for_text(customer, "您前面还有 0 位")


@pytest.mark.parametrize(
    ("left", "receipt"),
    [
        ("Please call me back about order 123", "We have your message"),
        ("请回电，订单 123 没发货", "您的留言已收到"),  # the receipt follows the message it answers
    ],
)
def test_a_queue_timeout_and_the_left_message_after_it_are_answered_in_the_customers_language(
    cs_stack: Stack, left: str, receipt: str
) -> None:
    _full_seat(cs_stack)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "Hello")
    cs_stack.im.wait_for_text(customer, "Hello, welcome!")
    cs_stack.im.say(customer, "human")
    cs_stack.im.wait_for_text(customer, "customers are ahead of you")
    config = ServiceSettings.load()
    config.queue_timeout_minutes = 0
    config.save()
    assert idle_sweep()["closed"] == 1
    cs_stack.im.wait_for_text(customer, "Many customers are waiting")
    cs_stack.im.say(customer, left)
    cs_stack.im.wait_for_text(customer, receipt)


def _idle_bot_session(language: str) -> ServiceSession:
    session = ServiceSession.objects.create(
        customer=customer_make(f"idle-{language}-{uuid.uuid4().hex[:6]}"), language=language
    )
    message_make(session, "Hello" if language == "en" else "你好")
    return session


def _texts(session: ServiceSession) -> list[str]:
    rows = session.messages.filter(direction=Message.Direction.OUT, content_type=1).order_by("seq")
    return [row.payload["searchableContent"] for row in rows]


def _sweep_counted() -> tuple[dict[str, int], int]:
    with CaptureQueriesContext(connection) as counted:
        counts = idle_sweep()
    return counts, len(counted)


@pytest.mark.django_db
def test_the_idle_sweep_sends_each_session_of_a_batch_its_languages_texts() -> None:
    config = ServiceSettings.load()
    english, chinese = _idle_bot_session("en"), _idle_bot_session("zh-hans")
    past = timezone.now() - timedelta(hours=2)
    ServiceSession.objects.update(idle_since=past, last_customer_activity_at=past)
    assert idle_sweep() == {"warned": 2, "closed": 0}
    ServiceSession.objects.update(idle_warned_at=timezone.now() - timedelta(hours=1))
    assert idle_sweep() == {"warned": 0, "closed": 2}
    minutes = config.human_idle_close_minutes
    assert _texts(english) == [
        config.idle_warning_text_en.format(minutes=minutes),
        config.idle_closed_text_en,
    ]
    assert _texts(chinese) == [config.idle_warning_text.format(minutes=minutes), config.idle_closed_text]
    for session in (english, chinese):
        session.refresh_from_db()
        assert (session.state, session.last_seq) == (ServiceSession.State.CLOSED, 4)


@pytest.mark.django_db
def test_a_batch_of_two_languages_takes_the_same_statements_for_2_or_20_sessions() -> None:
    """One batch per language, not one per session: the cost still does not grow with the batch."""
    ServiceSettings.load()  # the settings row, created and cached once, is not what is compared
    statements = {}
    for count in (1, 10):
        Message.objects.all().delete()
        ServiceSession.objects.all().delete()
        for _ in range(count):
            _idle_bot_session("en")
            _idle_bot_session("zh-hans")
        past = timezone.now() - timedelta(hours=2)
        ServiceSession.objects.update(idle_since=past, last_customer_activity_at=past)
        warned, statements[("warn", count)] = _sweep_counted()
        assert warned == {"warned": 2 * count, "closed": 0}
        ServiceSession.objects.update(idle_warned_at=timezone.now() - timedelta(hours=1))
        closed, statements[("close", count)] = _sweep_counted()
        assert closed == {"warned": 0, "closed": 2 * count}
    assert statements[("warn", 1)] == statements[("warn", 10)], statements
    assert statements[("close", 1)] == statements[("close", 10)], statements
