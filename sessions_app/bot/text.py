"""What a customer's text is made of, for the bot: normal form, language, words.

Plain Python (no Django): the matcher, the intent rules and the evaluation all read text through
these functions, so the FAQ's phrasings and the customers' questions are cut the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import rjieba

ZH = "zh-hans"
EN = "en"

# CJK ideographs (basic, extension A, compatibility): the runs the Chinese segmenter cuts.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
_RUNS = re.compile(f"[{_CJK}]+|[a-z0-9]+(?:'[a-z]+)?")
# What says nothing about a language: links, addresses, and tokens with digits (SF1234567890, iPhone15).
_NOT_WORDS = re.compile(r"\S+://\S+|www\.\S+|\S+@\S+|[a-z]*\d[a-z0-9]*")
_LATIN_WORD = re.compile(r"[a-z]{2,}(?:'[a-z]+)?")
# Latin words Chinese customers type as often as English ones: they say nothing about the language.
_LANGUAGE_NEUTRAL = frozenset(
    {"ok", "okay", "okk", "hh", "hhh", "hhhh", "qq", "vip", "app", "id", "pdf", "sku", "iphone", "ipad", "wifi", "pc"}
)
# One English word is enough when it is one of these (a product name alone is not: "iPhone", "Nike").
_ENGLISH_ON_ITS_OWN = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "help",
        "yes",
        "no",
        "please",
        "sorry",
        "human",
        "agent",
        "refund",
        "return",
        "invoice",
        "shipping",
        "order",
        "cancel",
        "password",
        "coupon",
        "delivery",
        "payment",
    }
)


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), case-folded, typographic apostrophes made
    plain (phone keyboards type "don’t")."""
    return unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'").replace("\u2018", "'")


def compact(text: str) -> str:
    """``normalise`` without spaces, punctuation or symbols: "转 人工！" and "转人工" compare equal."""
    return "".join(ch for ch in normalise(text) if ch.isalnum())


def language_of(text: str) -> str | None:
    """The language a customer writes in, or None when the text does not say (digits, emoji, "ok")."""
    folded = normalise(text)
    if _HAS_CJK.search(folded):
        return ZH
    words = [word for word in _LATIN_WORD.findall(_NOT_WORDS.sub(" ", folded)) if word not in _LANGUAGE_NEUTRAL]
    if len(words) >= 2 or (words and words[0] in _ENGLISH_ON_ITS_OWN):
        return EN
    return None


def runs(text: str) -> Iterator[tuple[str, bool]]:
    """The text's runs of ideographs and of Latin letters and digits, each with whether it is CJK
    (punctuation, spaces and symbols separate runs and are dropped). ``text`` is normalised."""
    for match in _RUNS.finditer(text):
        run = match.group()
        yield run, _HAS_CJK.match(run) is not None


def chinese_words(run: str, *, with_parts: bool = False) -> list[str]:
    """A run of ideographs cut into words (jieba's dictionary, and its HMM for unknown words);
    ``with_parts``: long words followed by the dictionary words inside them ("开发票" → "开发",
    "发票", "开发票"), so that two texts cut differently still share the words that matter."""
    cut = rjieba.cut_for_search(run) if with_parts else rjieba.cut(run)
    return [word for word in cut if word.strip()]


_CHINESE_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CHOICE_PREFIXES = ("选择", "number", "option", "第", "选", "no")  # the longest first where one begins another
_CHOICE_SUFFIXES = ("个", "条", "项", "号")


def menu_choice(text: str) -> int | None:
    """The number a customer picked from a numbered list ("2", "２", "2.", "第2个", "第二个", "选择2"), or None."""
    folded = compact(text)
    for prefix in _CHOICE_PREFIXES:
        if folded.startswith(prefix) and len(folded) > len(prefix):
            folded = folded.removeprefix(prefix)
            break
    for suffix in _CHOICE_SUFFIXES:
        folded = folded.removesuffix(suffix)
    if folded.isdecimal() and len(folded) <= 2:
        return int(folded)
    return _CHINESE_NUMBERS.get(folded)
