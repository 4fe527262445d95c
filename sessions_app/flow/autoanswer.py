"""Auto-answers in bot mode: the FAQ matcher (``sessions_app.bot``) over the enabled entries, and a
remote answerer that falls back to it. Both give a ``BotDecision``: an answer, a few entries to
choose from, or "unknown"."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from django.conf import settings

from cs_project.json_input import json_problem
from robots.wfprotocol import TEXT_MAX_LENGTH
from sessions_app.bot.matcher import Candidate, FaqIndex, Outcome, Thresholds, decide
from sessions_app.models import FaqEntry, ServiceSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    text: str
    confidence: float
    source: str  # "faq", "http" (the remote answerer) or "menu" (picked from a numbered list)
    entry: FaqEntry | None = None


@dataclass(frozen=True)
class BotDecision:
    """What the bot does with a question: send ``answer``, offer ``suggestions``, or neither."""

    outcome: Outcome
    answer: Answer | None = None
    suggestions: tuple[FaqEntry, ...] = ()
    candidates: tuple[Candidate, ...] = field(default=())  # the matcher's ranking, best first

    def detail(self) -> dict[str, object]:
        """Why, for the transcript (``Message.bot_match``): the outcome and the entries' scores."""
        detail: dict[str, object] = {"outcome": self.outcome.value}
        if self.answer is not None:
            detail["source"] = self.answer.source
            detail["score"] = round(self.answer.confidence, 4)
            if self.answer.entry is not None:
                detail["entry"] = self.answer.entry.pk
                detail["question"] = self.answer.entry.question
        if self.suggestions:  # the list the customer saw, with each entry's question as it read then
            detail["suggestions"] = [{"entry": entry.pk, "question": entry.question} for entry in self.suggestions]
        detail["candidates"] = [
            {"entry": c.entry_id, "score": c.score, "matched": list(c.matched)} for c in self.candidates
        ]
        return detail


UNKNOWN = BotDecision(Outcome.UNKNOWN)


class AutoAnswerer(Protocol):
    def decide(self, question: str, *, customer_id: str) -> BotDecision: ...


_index_cache: list[tuple[tuple[FaqEntry, ...], object, str, FaqIndex]] = []


def faq_index(entries: tuple[FaqEntry, ...], *, synonyms: str) -> FaqIndex:
    """The matcher's index over ``entries``, built once per version of the FAQ and the synonyms
    (this process keeps the last one: rebuilding cuts every phrasing again). The cached FAQ is
    the same tuple until it is read again; a tuple read again is compared by content."""
    cached = list(_index_cache)  # a copy: another thread may replace it meanwhile
    if cached and cached[0][0] is entries and cached[0][2] == synonyms:
        return cached[0][3]
    key = tuple((entry.pk, entry.question, entry.question_en, entry.alternatives) for entry in entries)
    if cached and cached[0][1] == key and cached[0][2] == synonyms:
        index = cached[0][3]
    else:
        index = FaqIndex(((entry.pk, entry.phrasings()) for entry in entries), synonyms=synonyms)
    _index_cache[:] = [(entries, key, synonyms, index)]
    return index


class FaqAnswerer:
    def __init__(self, *, thresholds: Thresholds, synonyms: str = "") -> None:
        self.thresholds, self.synonyms = thresholds, synonyms

    @classmethod
    def configured(cls, config: ServiceSettings) -> FaqAnswerer:
        return cls(
            thresholds=Thresholds(
                answer=config.answer_threshold, suggest=config.suggest_threshold, margin=config.answer_margin
            ),
            synonyms=config.faq_synonyms,
        )

    def decide(self, question: str, *, customer_id: str) -> BotDecision:
        entries = FaqEntry.enabled_entries()
        if not question.strip() or not entries:
            return UNKNOWN
        ranked = faq_index(entries, synonyms=self.synonyms).rank(question)
        verdict = decide(ranked, self.thresholds)
        by_id = {entry.pk: entry for entry in entries}
        if verdict.outcome == Outcome.ANSWER and verdict.best is not None:
            entry = by_id[verdict.best.entry_id]
            return BotDecision(
                Outcome.ANSWER, Answer(entry.answer, verdict.best.score, "faq", entry), candidates=tuple(ranked)
            )
        if verdict.outcome == Outcome.SUGGEST:
            chosen = tuple(by_id[candidate.entry_id] for candidate in verdict.candidates)
            return BotDecision(Outcome.SUGGEST, suggestions=chosen, candidates=tuple(ranked))
        return BotDecision(Outcome.UNKNOWN, candidates=tuple(ranked))


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

    def decide(self, question: str, *, customer_id: str) -> BotDecision:
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
                return BotDecision(Outcome.ANSWER, found)
            return self.fallback.decide(question, customer_id=customer_id)  # the endpoint had no answer
        logger.warning(
            "auto-answer endpoint %s failed for customer %s (question of %d characters) after %d ms: %s;"
            " falling back to the FAQ",
            _url_for_log(self.url),
            customer_id,
            len(question),
            (time.monotonic() - started) * 1000,
            reason,
        )
        return self.fallback.decide(question, customer_id=customer_id)

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


def autoanswerer_get(config: ServiceSettings) -> AutoAnswerer:
    faq = FaqAnswerer.configured(config)
    if settings.CS_AUTOANSWER_URL:
        return HttpAnswerer(
            url=settings.CS_AUTOANSWER_URL,
            deadline=settings.CS_AUTOANSWER_TIMEOUT,
            max_body_bytes=settings.CS_AUTOANSWER_MAX_BODY_BYTES,
            fallback=faq,
        )
    return faq


def common_questions(*, limit: int = 5) -> tuple[FaqEntry, ...]:
    """The entries the welcome lists (the first by rank)."""
    return FaqEntry.enabled_entries()[:limit]
