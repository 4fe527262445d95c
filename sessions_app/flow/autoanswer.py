"""Auto-answers in bot mode: an FAQ matcher, and a remote answerer that falls back to it.

The FAQ matcher needs no word segmentation: questions are compared as multisets of character
unigrams and bigrams (Dice coefficient), which works for Chinese and for mixed Chinese/Latin
text alike. Punctuation and spacing are ignored; Latin letters are case-folded.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings

from sessions_app.models import FaqEntry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    text: str
    confidence: float
    source: str


class AutoAnswerer(Protocol):
    def answer(self, question: str, *, customer_id: str) -> Answer | None: ...


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _grams(text: str) -> Counter[str]:
    chars = _normalise(text)
    grams: Counter[str] = Counter(chars)
    grams.update(chars[i : i + 2] for i in range(len(chars) - 1))
    return grams


def similarity(a: str, b: str) -> float:
    """Dice coefficient over character unigrams and bigrams, in [0, 1]."""
    grams_a, grams_b = _grams(a), _grams(b)
    total = sum(grams_a.values()) + sum(grams_b.values())
    if total == 0:
        return 0.0
    return 2 * sum((grams_a & grams_b).values()) / total


class FaqAnswerer:
    def __init__(self, *, threshold: float) -> None:
        self.threshold = threshold

    def best_match(self, question: str) -> tuple[FaqEntry, float] | None:
        best: tuple[FaqEntry, float] | None = None
        for entry in FaqEntry.enabled_entries():
            score = max(similarity(question, phrasing) for phrasing in entry.phrasings())
            if best is None or score > best[1]:
                best = (entry, score)
        return best

    def answer(self, question: str, *, customer_id: str) -> Answer | None:
        match = self.best_match(question)
        if match is None or match[1] < self.threshold:
            return None
        return Answer(match[0].answer, match[1], "faq")


class HttpAnswerer:
    """Posts ``{"question", "customer"}`` to a configured endpoint; expects ``{"answer", "confidence"?}``.

    Any failure (timeout, HTTP error, malformed answer) falls back to the FAQ.
    """

    def __init__(self, *, url: str, timeout: float, fallback: AutoAnswerer) -> None:
        self.url, self.timeout, self.fallback = url, timeout, fallback

    def answer(self, question: str, *, customer_id: str) -> Answer | None:
        try:
            response = requests.post(
                self.url, json={"question": question, "customer": customer_id}, timeout=self.timeout
            )
            response.raise_for_status()
            body = response.json()
            text = body.get("answer") if isinstance(body, dict) else None
            if isinstance(text, str) and text.strip():
                confidence = body.get("confidence", 1.0)
                return Answer(text, float(confidence) if isinstance(confidence, int | float) else 1.0, "http")
            if text is None or text == "":
                return self.fallback.answer(question, customer_id=customer_id)
            raise ValueError("'answer' is not a string")
        except (requests.RequestException, ValueError) as exc:
            logger.warning("auto-answer endpoint failed (%s); falling back to the FAQ", type(exc).__name__)
        return self.fallback.answer(question, customer_id=customer_id)


def autoanswer_is_local() -> bool:
    """Answers come from the FAQ in this process (quick: given in the transaction of the question),
    not from a remote endpoint (slow: given by a Celery task)."""
    return not settings.CS_AUTOANSWER_URL


def autoanswerer_get(*, threshold: float) -> AutoAnswerer:
    faq = FaqAnswerer(threshold=threshold)
    if settings.CS_AUTOANSWER_URL:
        return HttpAnswerer(url=settings.CS_AUTOANSWER_URL, timeout=settings.CS_AUTOANSWER_TIMEOUT, fallback=faq)
    return faq


def common_questions(*, limit: int = 5) -> list[str]:
    return [entry.question for entry in FaqEntry.enabled_entries()[:limit]]
