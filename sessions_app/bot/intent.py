"""What a customer's message asks for beyond a question: a person, or nothing (a greeting)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sessions_app.bot.text import chinese_words, compact, normalise

# Words that, just before a phrase in the same clause, turn "转人工" into "不用转人工" (whole words:
# the "别" of "特别" negates nothing).
_NEGATIONS = frozenset({"不", "不用", "不要", "不需要", "无需", "不必", "没必要", "别", "不想", "不找", "甭", "用不着"})
_ENGLISH_NEGATIONS = frozenset({"no", "not", "don't", "dont", "never", "without", "nor", "doesn't", "didn't"})
# Words that contain a phrase without meaning it ("人工智能" is not "人工").
_NOT_A_PERSON = ("人工智能", "人工费")
_NEGATION_WORDS = 3  # words before a Chinese phrase in which a negation counts
_ENGLISH_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Punctuation ends a clause: "不用了，转人工" asks for a person.
_CLAUSES = re.compile(r"[^\w\s']+")

_GREETINGS = frozenset(
    compact(word)
    for line in (
        "你好 您好 你好呀 您好呀 你们好 在吗 在不在 在么 有人吗 有人在吗 哈喽 嗨 嗨嗨 hello hi hey 早 早上好",
        "上午好 中午好 下午好 晚上好 亲 亲亲 请问 喂 哈罗 hellothere goodmorning goodafternoon goodevening",
        "客服 客服你好",
        "打扰了 您好在吗 你好在吗 嗯 嗯嗯 好 好的 ok okay 谢谢 多谢 谢谢你 谢谢您 谢啦 thanks thankyou",
        "收到 明白 明白了",
        "知道了 懂了 好滴 好哒 好嘞 行 可以 哦 噢 嗯呢 好吧 没问题 没事了 没有了 不用了",
    )
    for word in line.split()
)


def asks_for_person(text: str, phrases: Iterable[str]) -> bool:
    """Whether a message asks for a person: one of its clauses contains one of ``phrases`` (spaces
    ignored, English on word boundaries) not just after a negation ("不用人工", "no agent")."""
    wanted = [(compact(phrase), _ENGLISH_WORD.findall(normalise(phrase))) for phrase in phrases]
    for clause in _CLAUSES.split(normalise(text)):
        squeezed = compact(clause)
        words: list[str] | None = None
        for chinese, english in wanted:
            if not chinese:
                continue
            if chinese.isascii():
                words = words if words is not None else _ENGLISH_WORD.findall(clause)
                if _english_ask(words, english):
                    return True
            elif _chinese_ask(squeezed, chinese):
                return True
    return False


def _chinese_ask(clause: str, phrase: str) -> bool:
    start = clause.find(phrase)
    while start >= 0:
        meant = not any(word.startswith(phrase) and clause.startswith(word, start) for word in _NOT_A_PERSON)
        before = chinese_words(clause[:start])[-_NEGATION_WORDS:] if start else []
        if meant and not _NEGATIONS.intersection(before):
            return True
        start = clause.find(phrase, start + 1)
    return False


def _english_ask(words: list[str], phrase: list[str]) -> bool:
    size = len(phrase)
    for start in range(len(words) - size + 1):
        if words[start : start + size] == phrase and not _ENGLISH_NEGATIONS & set(words[max(0, start - 3) : start]):
            return True
    return False


def is_greeting(text: str) -> bool:
    """A message that only greets or acknowledges ("你好", "在吗？", "hi", "谢谢", "好的"): no question
    to answer (the welcome answers a greeting that opens a session)."""
    squeezed = compact(text)
    return not squeezed or squeezed in _GREETINGS
