"""What a customer's message asks for beyond a question: a person, or nothing (a greeting)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sessions_app.bot.text import compact, normalise

# Words that, just before a phrase, turn "转人工" into "不用转人工".
_NEGATIONS = ("不用", "不要", "不需要", "无需", "不必", "没必要", "别", "不想", "不找", "甭")
_ENGLISH_NEGATIONS = frozenset({"no", "not", "don't", "dont", "never", "without", "nor"})
# Words that contain a phrase without meaning it ("人工智能" is not "人工").
_NOT_A_PERSON = ("人工智能", "人工费")
_NEGATION_REACH = 4  # characters before a Chinese phrase in which a negation counts
_ENGLISH_WORD = re.compile(r"[a-z0-9']+")

_GREETINGS = frozenset(
    compact(word)
    for line in (
        "你好 您好 你好呀 您好呀 你们好 在吗 在不在 在么 有人吗 有人在吗 哈喽 嗨 嗨嗨 hello hi hey 早 早上好",
        "上午好 中午好 下午好 晚上好 亲 亲亲 请问 喂 哈罗 hellothere goodmorning goodafternoon goodevening",
        "客服 客服你好",
        "打扰了 您好在吗 你好在吗 嗯 嗯嗯 好 好的 ok 谢谢 多谢 thanks thankyou",
    )
    for word in line.split()
)


def phrases_parse(raw: str) -> tuple[str, ...]:
    """The phrases of a setting ("转人工,人工客服,human"), commas of either width separating them."""
    return tuple(phrase.strip() for phrase in raw.replace("，", ",").split(",") if phrase.strip())


def asks_for_person(text: str, phrases: Iterable[str]) -> bool:
    """Whether a message asks for a person: it contains one of ``phrases`` (spaces and punctuation
    ignored, English on word boundaries) not preceded by a negation ("不用人工", "no agent")."""
    squeezed = compact(text)
    words: list[str] | None = None
    for phrase in phrases:
        wanted = compact(phrase)
        if not wanted:
            continue
        if wanted.isascii():
            words = words if words is not None else _ENGLISH_WORD.findall(normalise(text))
            if _english_ask(words, _ENGLISH_WORD.findall(normalise(phrase))):
                return True
        elif _chinese_ask(squeezed, wanted):
            return True
    return False


def _chinese_ask(text: str, phrase: str) -> bool:
    start = text.find(phrase)
    while start >= 0:
        before = text[max(0, start - _NEGATION_REACH) : start]
        meant = not any(word.startswith(phrase) and text.startswith(word, start) for word in _NOT_A_PERSON)
        if meant and not any(negation in before for negation in _NEGATIONS):
            return True
        start = text.find(phrase, start + 1)
    return False


def _english_ask(words: list[str], phrase: list[str]) -> bool:
    size = len(phrase)
    for start in range(len(words) - size + 1):
        if words[start : start + size] == phrase and not _ENGLISH_NEGATIONS & set(words[max(0, start - 3) : start]):
            return True
    return False


def is_greeting(text: str) -> bool:
    """A message that only greets ("你好", "在吗？", "hi"): the welcome answers it, nothing more."""
    squeezed = compact(text)
    return not squeezed or squeezed in _GREETINGS
