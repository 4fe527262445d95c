from __future__ import annotations

from robots.wfprotocol import CsControl
from sessions_app.models import FaqEntry, Message, ServiceSession
from tests.support.cs_stack import Stack


def test_the_first_message_opens_a_bot_session_and_gets_the_welcome_with_common_questions(
    cs_stack: Stack, faq: list[FaqEntry]
) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    welcome = cs_stack.im.wait_for_text(customer, "欢迎咨询")
    assert welcome["sender"] == cs_stack.cs_robot
    assert "1. 怎么退货" in welcome["payload"]["searchableContent"]
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert session.state == ServiceSession.State.BOT
    incoming = session.messages.get(direction=Message.Direction.IN)
    assert incoming.author == Message.Author.CUSTOMER
    assert incoming.payload["searchableContent"] == "你好"
    assert incoming.im_message_id is not None
    assert incoming.im_message_id > 2**53
    # The transcript keeps the chat's order: the customer's message, then the welcome.
    assert [m.author for m in session.messages.order_by("seq")] == [Message.Author.CUSTOMER, Message.Author.BOT]


def test_the_enter_message_opens_the_session_but_is_never_stored_in_the_transcript(cs_stack: Stack) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.control(customer, CsControl.ENTER)
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert not session.messages.filter(direction=Message.Direction.IN).exists()


def test_the_bot_answers_a_paraphrased_question_from_the_faq(cs_stack: Stack, faq: list[FaqEntry]) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "请问如何退货呢？")
    answer = cs_stack.im.wait_for_text(customer, "七天内")
    assert answer["payload"]["type"] == 1
    assert Message.objects.filter(author=Message.Author.BOT, payload__searchableContent__icontains="七天内").exists()


def test_the_bot_offers_a_human_when_it_has_no_confident_answer(cs_stack: Stack, faq: list[FaqEntry]) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "你们的量子引擎支持哪些协议")
    cs_stack.im.wait_for_text(customer, "没有找到答案。发送“转人工”")


def test_the_opening_greeting_gets_the_welcome_but_no_i_dont_know(cs_stack: Stack, faq: list[FaqEntry]) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "量子纠缠")
    cs_stack.im.wait_for_text(customer, "没有找到答案")
    texts = cs_stack.im.texts(customer, sender=cs_stack.cs_robot)
    assert sum("没有找到答案" in t for t in texts) == 1, texts


def test_an_opening_question_the_faq_knows_is_answered_right_away(cs_stack: Stack, faq: list[FaqEntry]) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "什么时候发货")
    cs_stack.im.wait_for_text(customer, "48 小时")
