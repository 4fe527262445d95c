"""Rating by a single digit in the chat: which session a digit rates, and when it rates none."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ratings.models import Rating
from ratings.services import LINK_MAX_AGE_SECONDS
from sessions_app.models import Message, ServiceSession
from tests.support.cs_stack import Stack


def _served_and_closed(stack: Stack) -> tuple[str, ServiceSession]:
    stack.online_seat("alice")
    customer = stack.new_customer()
    stack.im.say(customer, "转人工")
    stack.im.wait_for_text(customer, "为您服务")
    stack.im.say(customer, "结束会话")
    stack.im.wait_for_text(customer, "请为本次服务打分")
    return customer, ServiceSession.objects.get(customer__im_user_id=customer)


def _wait_for_welcomes(stack: Stack, customer: str, count: int) -> None:
    stack.im.wait_for(
        customer,
        lambda ms: sum("欢迎咨询" in m["payload"].get("searchableContent", "") for m in ms) == count,
        what=f"welcome #{count}",
    )


def test_the_digit_is_kept_in_the_transcript_of_the_session_it_rated(cs_stack: Stack) -> None:
    customer, session = _served_and_closed(cs_stack)
    cs_stack.im.say(customer, "4")
    cs_stack.im.wait_for_text(customer, "感谢您的评价")
    assert Rating.objects.get(session=session).score == 4
    digit = session.messages.get(direction=Message.Direction.IN, payload__searchableContent="4")
    assert digit.author == Message.Author.CUSTOMER
    assert digit.im_message_id is not None
    thanks = session.messages.get(payload__searchableContent="感谢您的评价！")
    assert digit.seq < thanks.seq
    assert ServiceSession.objects.filter(customer__im_user_id=customer).count() == 1, "no new session for it"


def test_a_digit_after_a_later_session_rates_nothing(cs_stack: Stack) -> None:
    customer, served = _served_and_closed(cs_stack)
    cs_stack.im.say(customer, "你好")  # a new session with the bot: the rating offer ends
    _wait_for_welcomes(cs_stack, customer, 2)
    cs_stack.im.say(customer, "结束会话")
    cs_stack.im.wait_for(
        customer,
        lambda ms: sum("会话已结束" in m["payload"].get("searchableContent", "") for m in ms) == 2,
        what="the bot session's close",
    )
    cs_stack.im.say(customer, "5")
    _wait_for_welcomes(cs_stack, customer, 3)
    assert not Rating.objects.exists()
    served.refresh_from_db()
    assert served.awaiting_rating_digit is False


def test_a_digit_after_the_rating_links_lifetime_rates_nothing(cs_stack: Stack) -> None:
    customer, session = _served_and_closed(cs_stack)
    too_long_ago = timezone.now() - timedelta(seconds=LINK_MAX_AGE_SECONDS + 60)
    ServiceSession.objects.filter(pk=session.pk).update(closed_at=too_long_ago)
    cs_stack.im.say(customer, "5")
    _wait_for_welcomes(cs_stack, customer, 2)  # an ordinary first message
    assert not Rating.objects.exists()
