"""What the bot would do with a question, and why: the admin's "test the bot" page.

The same matcher, thresholds and reply text as a customer's question in bot mode
(``FaqAnswerer`` and ``bot_reply_compose``), with nothing stored or sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessions_app.bot.matcher import SUGGESTIONS, Outcome
from sessions_app.bot.text import ZH, language_of
from sessions_app.flow.autoanswer import FaqAnswerer, autoanswer_is_local
from sessions_app.flow.bot import bot_reply_compose, person_asked
from sessions_app.models import FaqEntry, ServiceSettings


@dataclass(frozen=True)
class TrialCandidate:
    entry: FaqEntry
    score: float
    matched: tuple[str, ...]  # the words the question shares with the entry's closest phrasing
    phrasing: str
    chosen: bool  # the entry answered, or is in the list of suggestions


@dataclass(frozen=True)
class BotTrial:
    question: str
    outcome: Outcome
    candidates: tuple[TrialCandidate, ...]  # the closest entries, best first (at most SUGGESTIONS)
    reply: str  # the text the customer would get
    language: str  # the language the reply is in, read from the question as the flow reads it
    asks_for_person: bool  # the flow hands such a message to a person before the FAQ sees it
    remote_answerer: bool  # an answer endpoint is asked first; the FAQ answers when it has nothing


def bot_trial(*, question: str, config: ServiceSettings) -> BotTrial:
    """Ask the FAQ bot ``question`` as a customer's first question of a session would be asked
    (no "I don't know" before it), and say what it would answer and why."""
    decision = FaqAnswerer.configured(config).decide(question, customer_id="")
    language = language_of(question) or ZH
    reply = bot_reply_compose(decision=decision, config=config, language=language, misses=0)
    by_id = {entry.pk: entry for entry in FaqEntry.enabled_entries()}
    chosen = {entry.pk for entry in decision.suggestions}
    if decision.answer is not None and decision.answer.entry is not None:
        chosen.add(decision.answer.entry.pk)
    candidates = tuple(
        TrialCandidate(
            entry=by_id[candidate.entry_id],
            score=candidate.score,
            matched=candidate.matched,
            phrasing=candidate.phrasing,
            chosen=candidate.entry_id in chosen,
        )
        for candidate in decision.candidates[:SUGGESTIONS]
        if candidate.entry_id in by_id  # an entry disabled between the two reads is left out
    )
    return BotTrial(
        question=question,
        outcome=decision.outcome,
        candidates=candidates,
        reply=reply.text,
        language=language,
        asks_for_person=person_asked(question.strip(), config, decision),
        remote_answerer=not autoanswer_is_local(),
    )
