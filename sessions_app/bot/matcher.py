"""The FAQ matcher: which entries a question is about, how sure that is, and what to do with it.

Plain Python (no Django), so that ``faq_eval`` and the benchmark run it on any FAQ.

A question and each phrasing of an entry (its question and alternatives) are cut into terms:
Chinese words (``text.chinese_words``), Latin words with a light stemming, numbers, and, at a
lower weight, the character bigrams of each Chinese run (they catch words the segmenter cuts
differently in two texts). Function words ("的", "怎么", "请问", "how", "the") are dropped, and
supervisor-edited synonyms are brought to one word first (退钱 → 退款).

Each term weighs its inverse document frequency over the entries (BM25's IDF): "发票" in two
entries of thirty weighs three times "订单" in twelve, and a word no entry has weighs the most, so
a question about something the FAQ never mentions scores low. A phrasing's score for a question is
the weighted harmonic mean of two shares of IDF weight: the question's weight that the phrasing
covers (``QUESTION_WEIGHT``) and the phrasing's weight that the question covers. An entry scores
its best phrasing. The score is in [0, 1] and means the same for any FAQ, which is what lets one
threshold serve every company's FAQ; docs/bot.md gives the measurements behind each choice.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sessions_app.bot.text import chinese_words, normalise, runs

# How much more a question's share counts than a phrasing's (a short question "发票" fully
# covered by "怎么开发票" is a good match; a long phrasing barely covered is a weak one).
QUESTION_WEIGHT = 0.5
# The weight of a character bigram relative to a word.
BIGRAM_WEIGHT = 0.5
# The weight of a word no entry has, relative to the rarest word an entry has.
UNSEEN_WEIGHT = 0.7
SUGGESTIONS = 3


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


_CHINESE_STOPWORDS = _words(
    "的 了 吗 呢 吧 啊 呀 哦 哈 嘛 么 哎 嗯 喔 噢 呐 啦 哪 我 你 您 他 她 它 我们 你们 咱"
    " 这 那 这个 那个 这边 那边 是 在 有 和 与 及 或 或者 就 都 也 还 又 要 想 请问 请 问"
    " 问下 问一下 一下 下 怎么 怎么样 怎样 如何 咋 咋样 为什么 为啥"
    " 什么 啥 哪些 哪里 哪儿 哪个 多少 能 能不能 可以 可不可以 可否 会 会不会 亲 你好 您好 谢谢 麻烦 帮 帮我 给 给我"
    " 一个 个 把 被 让 得 地 着 过 吗吗 呢呢 么么 一 下子 现在 已经 然后 但是"
    " 因为 所以 如果 那么 自己 东西 是不是 有没有 需要 应该 知道 告诉 想问 想知道 客服 您好呀 在吗 好的 嗯嗯 请教"
    " 怎么办 咋办 一般 办 能否 是否 可能 大概 到底 究竟 还是 就是 这样 那样 的话",
)
_ENGLISH_STOPWORDS = _words(
    "a an the i my me mine you your we our us it its this that these those is are was were be been am do does"
    " did can could will would shall should may might must to of for in on at by from with about as into and or"
    " but if so how what when where why which who whom please hi hello hey there here have has had get got"
    " want wanna need any some thanks thank just also still yet then than"
    " know tell me let lets anyone somebody help",
)
_LATIN_SUFFIXES = (("ies", "y"), ("ing", ""), ("ed", ""), ("s", ""))


def _stem(word: str) -> str:
    """A light English stemming (refunds, refunded, refunding → refund; shipping → ship)."""
    for suffix, replacement in _LATIN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            stem = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                stem = stem[:-1]
            return stem
    return word


def _synonym_form(word: str) -> str:
    """A synonym as the matcher sees words: Chinese as typed, English stemmed ("shipping" → "ship")."""
    folded = normalise(word)
    return _stem(folded) if folded.isascii() and folded.isalpha() else folded


class Synonyms:
    """Supervisor-edited groups of words, one group per line ("退款 退钱 返款"): every word of a
    group reads as the group's first one."""

    _SEPARATORS = re.compile(r"[\s,，、;；/|]+")

    def __init__(self, source: str = "") -> None:
        self.source = source
        self._words: dict[str, str] = {}
        for line in source.splitlines():
            words = [_synonym_form(word) for word in self._SEPARATORS.split(line) if word.strip()]
            for word in words[1:]:
                self._words.setdefault(word, words[0])
            if words:
                self._words.setdefault(words[0], words[0])
        chinese = sorted((word for word in self._words if not word.isascii()), key=len, reverse=True)
        # Longest first, canonical words included: "优惠券" is read whole before "券" could match in it.
        self._pattern = re.compile("|".join(map(re.escape, chinese))) if chinese else None

    def single_characters(self) -> list[str]:
        """The Chinese words of one character: each would be replaced inside other words ("券" in "证券")."""
        return sorted(word for word in self._words if len(word) == 1 and not word.isascii())

    def apply(self, text: str) -> str:
        """``text`` (normalised) with each Chinese synonym replaced by its group's word."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._words[match.group()], text)

    def word(self, word: str) -> str:
        return self._words.get(word, word)


def terms(text: str, synonyms: Synonyms, *, bigram_weight: float = BIGRAM_WEIGHT) -> dict[str, float]:
    """The weighted terms of a text: words (1.0) and Chinese character bigrams (``bigram_weight``)."""
    found: dict[str, float] = {}
    for run, is_chinese in runs(synonyms.apply(normalise(text))):
        if is_chinese:
            for word in chinese_words(run, with_parts=True):
                if word not in _CHINESE_STOPWORDS:
                    found[word] = 1.0
            if bigram_weight > 0:
                for i in range(len(run) - 1):
                    found.setdefault("~" + run[i : i + 2], bigram_weight)
        else:
            # "can't" reads "not" (it carries the meaning: "why can't I use my coupon" is not "how do I
            # use a coupon"), "where's" reads "where".
            run = "not" if run.endswith("n't") else run.split("'")[0]
            if run not in _ENGLISH_STOPWORDS:
                found[synonyms.word(_stem(run)) if not run.isdecimal() else run] = 1.0
    return found


def display_terms(matched: Iterable[str]) -> tuple[str, ...]:
    """The words among matched terms (bigrams are a device, not something to show a supervisor)."""
    return tuple(sorted(term for term in matched if not term.startswith("~")))


class Outcome(StrEnum):
    ANSWER = "answer"  # sure enough: the best entry's answer is sent
    SUGGEST = "suggest"  # close to several, or not sure: the closest entries as a numbered list
    UNKNOWN = "unknown"  # nothing close: the fallback text, with the offer of a person


@dataclass(frozen=True)
class Thresholds:
    answer: float
    suggest: float
    margin: float


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    score: float
    phrasing: str  # the entry's phrasing closest to the question
    matched: tuple[str, ...]  # the words they share


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    candidates: tuple[Candidate, ...]  # best first: the answer, or the suggestions; empty when unknown

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class _Phrasing:
    entry_id: int
    text: str
    terms: dict[str, float]
    weight: float  # the sum of its terms' IDF weights


def decide(ranked: Sequence[Candidate], thresholds: Thresholds) -> Verdict:
    """The outcome for a question's ranked candidates (best first)."""
    if not ranked or ranked[0].score < thresholds.suggest:
        return Verdict(Outcome.UNKNOWN, ())
    best = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if best.score >= thresholds.answer and best.score - runner_up >= thresholds.margin:
        return Verdict(Outcome.ANSWER, (best,))
    close = tuple(candidate for candidate in ranked[:SUGGESTIONS] if candidate.score >= thresholds.suggest)
    return Verdict(Outcome.SUGGEST, close)


class FaqIndex:
    """An inverted index over the phrasings of FAQ entries, built once per FAQ version."""

    def __init__(
        self,
        entries: Iterable[tuple[int, Sequence[str]]],
        *,
        synonyms: str = "",
        question_weight: float = QUESTION_WEIGHT,
        bigram_weight: float = BIGRAM_WEIGHT,
        unseen_weight: float = UNSEEN_WEIGHT,
    ) -> None:
        self.synonyms = Synonyms(synonyms)
        self.question_weight, self.bigram_weight = question_weight, bigram_weight
        cut = [
            (entry_id, text, terms(text, self.synonyms, bigram_weight=bigram_weight))
            for entry_id, phrasings in entries
            for text in phrasings
        ]
        in_entries: dict[str, set[int]] = defaultdict(set)
        for entry_id, _text, found in cut:
            for term in found:
                in_entries[term].add(entry_id)
        count = len({entry_id for entry_id, _text, _found in cut})
        self.entry_count = count
        # BM25's IDF, always positive: ln(1 + (N - n + 0.5) / (n + 0.5)); an unseen term weighs the most.
        self._idf = {
            term: math.log(1 + (count - len(ids) + 0.5) / (len(ids) + 0.5)) for term, ids in in_entries.items()
        }
        # A word no entry has counts as much as the rarest word an entry has (times UNSEEN_WEIGHT):
        # a question about something else scores low. A bigram no entry has counts nothing: bigrams
        # only help texts cut differently meet, and filler makes many ("我想退", "货怎").
        self._unseen_idf = unseen_weight * math.log(1 + (count - 0.5) / 1.5)
        self._phrasings = [
            _Phrasing(entry_id, text, found, sum(self._idf[term] * weight for term, weight in found.items()))
            for entry_id, text, found in cut
        ]
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, phrasing in enumerate(self._phrasings):
            for term, weight in phrasing.terms.items():
                self._postings[term].append((index, weight))

    def idf(self, term: str) -> float:
        if (known := self._idf.get(term)) is not None:
            return known
        return 0.0 if term.startswith("~") else self._unseen_idf

    def rank(self, question: str, *, limit: int = SUGGESTIONS + 1) -> list[Candidate]:
        """The entries closest to ``question``, best first (at most ``limit``, each once)."""
        asked = terms(question, self.synonyms, bigram_weight=self.bigram_weight)
        asked_weight = sum(self.idf(term) * weight for term, weight in asked.items())
        if asked_weight <= 0:
            return []
        shared: dict[int, float] = defaultdict(float)
        for term, weight in asked.items():
            idf = self.idf(term)
            for index, phrasing_weight in self._postings.get(term, ()):
                shared[index] += idf * min(weight, phrasing_weight)
        best: dict[int, tuple[float, int]] = {}
        q = self.question_weight
        for index, overlap in shared.items():
            phrasing = self._phrasings[index]
            covered, covering = overlap / asked_weight, overlap / phrasing.weight
            score = 1 / (q / covered + (1 - q) / covering)
            if score > best.get(phrasing.entry_id, (-1.0, 0))[0]:
                best[phrasing.entry_id] = (score, index)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
        return [
            Candidate(
                entry_id=entry_id,
                score=round(score, 4),
                phrasing=self._phrasings[index].text,
                matched=display_terms(asked.keys() & self._phrasings[index].terms.keys()),
            )
            for entry_id, (score, index) in ranked
        ]

    def decide(self, question: str, thresholds: Thresholds) -> Verdict:
        return decide(self.rank(question), thresholds)
