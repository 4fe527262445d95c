from __future__ import annotations

import pytest

from sessions_app.bot.intent import asks_for_person, is_greeting

PHRASES = ("转人工", "人工客服", "人工", "找客服", "真人", "human", "agent", "real person")


@pytest.mark.parametrize(
    "text",
    [
        "人工",
        "找客服",
        "转 人工",
        "我又来了，转人工",
        "人工客服在吗？",
        "能不能找个真人",
        "I want a HUMAN",
        "agent please",
        "can I talk to a real person?",
        "我特别需要人工",
        "特别急，转人工",
        "不用了，转人工",
        "no, human please",
        "no thanks, agent please",
    ],
)
def test_asking_for_a_person_however_it_is_said(text: str) -> None:
    assert asks_for_person(text, PHRASES)


@pytest.mark.parametrize(
    "text",
    [
        "不用人工，谢谢",
        "不要转人工了",
        "别找客服",
        "no agent please",
        "I don't want a human",
        "I don’t need a human",
        "不需要转人工",
        "人工智能是什么",
        "怎么退货",
        "humane",
        "agents of change",
        "",
    ],
)
def test_negations_and_other_words_do_not_ask_for_a_person(text: str) -> None:
    assert not asks_for_person(text, PHRASES)


def test_the_phrases_are_a_setting() -> None:
    assert asks_for_person("帮我叫值班经理", ["值班经理"])
    assert not asks_for_person("转人工", ["值班经理"])


@pytest.mark.parametrize(
    "text", ["你好", "您好！", "在吗？", "hi", "Hello", "good morning", "  ", "谢谢", "好的", "收到", "OK", "嗯嗯"]
)
def test_greetings(text: str) -> None:
    assert is_greeting(text)


@pytest.mark.parametrize("text", ["你好，怎么退货", "发票", "hello, where is my parcel", "我要投诉"])
def test_questions_are_not_greetings(text: str) -> None:
    assert not is_greeting(text)
