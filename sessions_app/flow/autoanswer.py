"""Auto-answers in bot mode: an FAQ matcher, and a remote answerer that falls back to it.

The FAQ matcher needs no word segmentation: questions are compared as multisets of character
unigrams and bigrams (Dice coefficient), which works for Chinese and for mixed Chinese/Latin
text alike. Punctuation and spacing are ignored; Latin letters are case-folded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import unicodedata
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from django.conf import settings

from cs_project.json_input import json_problem
from sessions_app.flow.transcript import TEXT_MAX_LENGTH
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


class AnswerRefused(Exception):
    """The endpoint's exchange failed or its answer cannot be used; the message says why."""


class HttpAnswerer:
    """Posts ``{"question", "customer"}`` to a configured endpoint; expects ``{"answer", "confidence"?}``.

    The endpoint is trusted with a customer's question, not with our workers: the whole exchange
    (name lookup, connect, send, response headers and body) must end within ``deadline`` seconds
    (a per-read timeout lets a trickling endpoint hold a worker for minutes), a redirect is a
    failure (it would hand the question to an address nobody configured), the body is read as a
    stream and refused past ``max_body_bytes``, and an answer longer than ``TEXT_MAX_LENGTH`` is
    refused, not cut: a cut answer is one the endpoint never gave (half a sentence, a broken link).
    Any failure is logged and falls back to the FAQ.
    """

    def __init__(self, *, url: str, deadline: float, max_body_bytes: int, fallback: AutoAnswerer) -> None:
        self.url, self.deadline, self.max_body_bytes, self.fallback = url, deadline, max_body_bytes, fallback

    def answer(self, question: str, *, customer_id: str) -> Answer | None:
        started = time.monotonic()
        try:
            body = _run_to_completion(self._exchange(question=question, customer_id=customer_id))
            found = _answer_read(body)
        except TimeoutError:
            reason = f"no complete answer within {self.deadline:g} s"
        except (aiohttp.ClientError, AnswerRefused, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
        else:
            if found is not None:
                return found
            return self.fallback.answer(question, customer_id=customer_id)  # the endpoint had no answer
        logger.warning(
            "auto-answer endpoint %s failed for customer %s (question of %d characters) after %d ms: %s;"
            " falling back to the FAQ",
            _url_for_log(self.url),
            customer_id,
            len(question),
            (time.monotonic() - started) * 1000,
            reason,
        )
        return self.fallback.answer(question, customer_id=customer_id)

    async def _exchange(self, *, question: str, customer_id: str) -> bytes:
        """The response body, read within the deadline and the size limit, or an exception."""
        async with (
            asyncio.timeout(self.deadline),
            # No proxies from the environment, no decompression (a small gzip body can expand to
            # gigabytes before any limit sees it), a fresh connection each time.
            aiohttp.ClientSession(trust_env=False, auto_decompress=False) as http,
            http.post(
                self.url,
                json={"question": question, "customer": customer_id},
                headers={"Accept": "application/json", "Accept-Encoding": "identity"},
                allow_redirects=False,
            ) as response,
        ):
            if 300 <= response.status < 400:
                raise AnswerRefused(f"HTTP {response.status}: redirects are not followed")
            if response.status >= 400:
                raise AnswerRefused(f"HTTP {response.status}")
            if response.headers.get("Content-Encoding", "identity").lower() != "identity":
                raise AnswerRefused("the body is encoded (compressed); only identity is accepted")
            too_large = f"body larger than {self.max_body_bytes} bytes"
            if response.content_length is not None and response.content_length > self.max_body_bytes:
                raise AnswerRefused(too_large)
            body = bytearray()
            while chunk := await response.content.read(self.max_body_bytes + 1 - len(body)):
                body += chunk
                if len(body) > self.max_body_bytes:
                    raise AnswerRefused(too_large)
            return bytes(body)


def _answer_read(body: bytes) -> Answer | None:
    """The endpoint's answer, None when it has none (``answer`` absent, null or ""), or
    ``AnswerRefused``/``ValueError`` when the body is not one we can store and send."""
    try:
        document = json.loads(body, parse_constant=_not_json)
    except RecursionError:
        raise AnswerRefused("the body is nested too deeply") from None
    if not isinstance(document, dict):
        raise AnswerRefused("the body is not a JSON object")
    text = document.get("answer")
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise AnswerRefused("'answer' is not a string")
    if not text.strip():
        return None
    if len(text) > TEXT_MAX_LENGTH:
        raise AnswerRefused(f"the answer is longer than {TEXT_MAX_LENGTH} characters")
    if (problem := json_problem(text)) is not None:
        raise AnswerRefused(f"the answer {problem}")
    confidence = document.get("confidence", 1.0)
    usable = isinstance(confidence, int | float) and math.isfinite(confidence)
    return Answer(text, min(max(float(confidence), 0.0), 1.0) if usable else 1.0, "http")


def _not_json(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _run_to_completion(exchange: Coroutine[Any, Any, bytes]) -> bytes:
    """Run the exchange on an event loop of its own (callers are synchronous: a Celery task).

    Not ``asyncio.run``: at the deadline a name lookup may still run in the loop's thread pool, and
    ``asyncio.run`` would wait for it; closing the loop lets that thread finish on its own."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(exchange)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _url_for_log(url: str) -> str:
    """The endpoint without its query, user info or fragment (a key may travel there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def autoanswer_is_local() -> bool:
    """Answers come from the FAQ in this process (quick: given in the transaction of the question),
    not from a remote endpoint (slow: given by a Celery task)."""
    return not settings.CS_AUTOANSWER_URL


def autoanswerer_get(*, threshold: float) -> AutoAnswerer:
    faq = FaqAnswerer(threshold=threshold)
    if settings.CS_AUTOANSWER_URL:
        return HttpAnswerer(
            url=settings.CS_AUTOANSWER_URL,
            deadline=settings.CS_AUTOANSWER_TIMEOUT,
            max_body_bytes=settings.CS_AUTOANSWER_MAX_BODY_BYTES,
            fallback=faq,
        )
    return faq


def common_questions(*, limit: int = 5) -> list[str]:
    return [entry.question for entry in FaqEntry.enabled_entries()[:limit]]
