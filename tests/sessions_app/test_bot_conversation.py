"""The bot as a customer meets it (issue 14): answers, "did you mean" lists answered by number,
the offer of a person, asking for one in any words, the first message, and the customer's language."""

from __future__ import annotations

from typing import Any

import pytest

from sessions_app.models import FaqEntry, Message, ServiceSession, ServiceSettings
from tests.support.cs_stack import Stack


@pytest.fixture
def shop_faq(transactional_db: None) -> list[FaqEntry]:
    config = ServiceSettings.load()
    config.faq_synonyms = ""  # the test's FAQ decides alone what is close to what
    config.save()
    return [
        FaqEntry.objects.create(
            question="怎么退货",
            question_en="How do I return an item?",
            alternatives="如何退货\n退货流程",
            answer="七天内可在订单页申请退货。",
            answer_en="Ask for a return on the order page within 7 days.",
            rank=1,
        ),
        FaqEntry.objects.create(
            question="发货时间", alternatives="什么时候发货", answer="付款后 48 小时内发货。", rank=2
        ),
        FaqEntry.objects.create(
            question="怎么开发票",
            question_en="How do I get an invoice?",
            answer="在订单详情页申请开票。",
            answer_en="Request an invoice on the order page.",
            rank=3,
        ),
        FaqEntry.objects.create(
            question="发票信息填错了怎么办", alternatives="重开发票", answer="可申请作废重开。", rank=4
        ),
    ]


def _bot_texts(stack: Stack, customer: str) -> list[str]:
    return stack.im.texts(customer, sender=stack.cs_robot)


def _session(customer: str) -> ServiceSession:
    return ServiceSession.objects.get(customer__im_user_id=customer)


def test_a_number_picks_from_the_welcome_list_while_it_is_the_last_thing_the_bot_said(
    cs_stack: Stack, shop_faq: list[FaqEntry]
) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    welcome = cs_stack.im.wait_for_text(customer, "欢迎咨询")
    assert "1. 怎么退货\n2. 发货时间" in welcome["payload"]["searchableContent"]
    cs_stack.im.say(customer, "2")
    cs_stack.im.wait_for_text(customer, "48 小时内发货")
    answer = Message.objects.filter(author=Message.Author.BOT).order_by("-seq").first()
    assert answer is not None
    assert answer.bot_match is not None
    assert (answer.bot_match["outcome"], answer.bot_match["source"]) == ("answer", "menu")
    assert answer.bot_match["entry"] == shop_faq[1].pk
    cs_stack.im.say(customer, "1")  # the answer had no list: "1" is just a message now
    cs_stack.im.wait_for_text(customer, "没有找到答案")
    assert not any("七天内" in text for text in _bot_texts(cs_stack, customer))


def test_an_unsure_bot_lists_the_closest_entries_and_a_number_picks_one(
    cs_stack: Stack, shop_faq: list[FaqEntry]
) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "发票")
    suggestion = cs_stack.im.wait_for_text(customer, "您是不是想问")
    assert suggestion["payload"]["searchableContent"].endswith("\n1. 怎么开发票\n2. 发票信息填错了怎么办")
    stored = Message.objects.filter(author=Message.Author.BOT).order_by("-seq").first()
    assert stored is not None
    assert stored.bot_match is not None
    assert stored.bot_match["outcome"] == "suggest"
    assert [c["entry"] for c in stored.bot_match["candidates"]][:2] == [shop_faq[2].pk, shop_faq[3].pk]
    assert _session(customer).bot_menu == [f"faq:{shop_faq[2].pk}", f"faq:{shop_faq[3].pk}"]
    cs_stack.im.say(customer, "第2个")
    cs_stack.im.wait_for_text(customer, "可申请作废重开")
    assert _session(customer).bot_menu == []


def test_after_two_unknowns_in_a_row_the_bot_offers_a_person_and_1_asks_for_one(
    cs_stack: Stack, shop_faq: list[FaqEntry]
) -> None:
    seat = cs_stack.online_seat("bot-offer")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "量子纠缠")
    cs_stack.im.wait_for_text(customer, "没有找到答案")
    assert _session(customer).bot_misses == 1
    cs_stack.im.say(customer, "今天天气怎么样")
    cs_stack.im.wait_for_text(customer, "没能帮上忙")
    assert _session(customer).bot_menu == ["human"]
    cs_stack.im.say(customer, "1")
    cs_stack.im.wait_for_text(customer, f"客服 {seat.display_name} 为您服务")
    assert _session(customer).state == ServiceSession.State.HUMAN


def test_an_answer_in_between_resets_the_unknowns(cs_stack: Stack, shop_faq: list[FaqEntry]) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    for sent, text in enumerate(("量子纠缠", "什么时候发货", "今天天气怎么样"), start=2):
        cs_stack.im.say(customer, text)

        def replied(messages: list[dict[str, Any]], n: int = sent) -> bool:
            return sum(1 for m in messages if m["sender"] == cs_stack.cs_robot) >= n

        cs_stack.im.wait_for(customer, replied, what=f"the bot's reply to {text!r}")
    texts = _bot_texts(cs_stack, customer)
    assert ["没有找到答案" in t for t in texts[1:]] == [True, False, True], texts
    assert _session(customer).bot_misses == 1


@pytest.mark.parametrize("text", ["我又来了，转人工", "转 人工！", "找客服", "agent please"])
def test_asking_for_a_person_in_other_words_reaches_one(cs_stack: Stack, shop_faq: list[FaqEntry], text: str) -> None:
    seat = cs_stack.online_seat("intent")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, text)
    cs_stack.im.wait_for_text(customer, seat.display_name)
    assert _session(customer).state == ServiceSession.State.HUMAN


def test_saying_no_person_is_needed_keeps_the_bot(cs_stack: Stack, shop_faq: list[FaqEntry]) -> None:
    cs_stack.online_seat("no-intent")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "不用人工，我想问怎么退货")
    cs_stack.im.wait_for(
        customer, lambda messages: sum(m["sender"] == cs_stack.cs_robot for m in messages) >= 2, what="a reply"
    )
    assert "1. 怎么退货" in _bot_texts(cs_stack, customer)[-1] or "七天内" in _bot_texts(cs_stack, customer)[-1]
    assert _session(customer).state == ServiceSession.State.BOT


def test_an_opening_question_is_answered_after_the_welcome_even_when_the_bot_does_not_know(
    cs_stack: Stack, shop_faq: list[FaqEntry]
) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "我要投诉")
    cs_stack.im.wait_for_text(customer, "没有找到答案")
    texts = _bot_texts(cs_stack, customer)
    assert "欢迎咨询" in texts[0]
    assert len(texts) == 2


def test_a_customer_who_writes_english_is_answered_in_english_and_in_chinese_after_switching(
    cs_stack: Stack, shop_faq: list[FaqEntry]
) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "Hi, how do I return an item?")
    welcome = cs_stack.im.wait_for_text(customer, "Hello, welcome")
    assert "1. How do I return an item?" in welcome["payload"]["searchableContent"]
    assert "2. 发货时间" in welcome["payload"]["searchableContent"], "no English question: the Chinese one"
    cs_stack.im.wait_for_text(customer, "within 7 days")
    assert _session(customer).language == "en"
    cs_stack.im.say(customer, "你好，怎么开发票")
    cs_stack.im.wait_for_text(customer, "在订单详情页申请开票")
    assert _session(customer).language == "zh-hans"


def test_thanks_get_no_reply_and_do_not_count_as_a_question_the_bot_missed(
    cs_stack: Stack, shop_faq: list[FaqEntry]
) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "量子纠缠")
    cs_stack.im.wait_for_text(customer, "没有找到答案")
    cs_stack.im.say(customer, "谢谢")
    cs_stack.im.say(customer, "发货时间")  # a reply to this proves the thanks was handled before it
    cs_stack.im.wait_for_text(customer, "48 小时")
    assert len(_bot_texts(cs_stack, customer)) == 3, "welcome, fallback, answer: nothing for the thanks"
    assert _session(customer).bot_misses == 0


def test_a_bare_number_opening_a_session_gets_the_welcome_whose_list_it_can_then_use(
    cs_stack: Stack, shop_faq: list[FaqEntry]
) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "3")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "3")
    cs_stack.im.wait_for_text(customer, "在订单详情页申请开票")
    assert len(_bot_texts(cs_stack, customer)) == 2


def test_a_question_about_the_servicers_that_the_faq_answers_is_answered_not_transferred(
    cs_stack: Stack, shop_faq: list[FaqEntry]
) -> None:
    FaqEntry.objects.create(
        question="人工客服的工作时间", alternatives="人工客服几点上班", answer="每天 9:00–21:00。", rank=5
    )
    cs_stack.online_seat("hours")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "你好")
    cs_stack.im.wait_for_text(customer, "欢迎咨询")
    cs_stack.im.say(customer, "请问人工客服几点上班？")
    cs_stack.im.wait_for_text(customer, "9:00–21:00")
    assert _session(customer).state == ServiceSession.State.BOT
    cs_stack.im.say(customer, "我要找人工客服")
    cs_stack.im.wait_for_text(customer, "为您服务")
    assert _session(customer).state == ServiceSession.State.HUMAN
