"""The bot's side of a session in bot mode: the welcome, answers, suggestions, the offer of a person,
and numbered lists the customer answers with a number (docs/bot.md).

A numbered list the bot sends is kept on the session (``bot_menu``: "faq:<id>" or "human" per line)
for as long as it is the last thing the bot said; every bot message writes it, in the statement
that writes the message (``customer_send``'s session fields), so a list costs no statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from robots.wfprotocol import text_payload
from sessions_app.bot.intent import asks_for_person, is_greeting
from sessions_app.bot.matcher import Outcome
from sessions_app.bot.text import menu_choice
from sessions_app.flow.autoanswer import Answer, BotDecision, common_questions
from sessions_app.flow.transcript import customer_send
from sessions_app.models import FaqEntry, Message, ServiceSession, ServiceSettings

HUMAN_CHOICE = "human"
# After this many "I don't know" in a row the bot offers a person itself.
MISSES_BEFORE_OFFER = 2


def _faq_choice(entry: FaqEntry) -> str:
    return f"faq:{entry.pk}"


def _listed(entries: tuple[FaqEntry, ...], language: str) -> str:
    return "\n".join(f"{number}. {entry.question_for(language)}" for number, entry in enumerate(entries, start=1))


def welcome_text(config: ServiceSettings, language: str) -> tuple[str, list[str]]:
    """The welcome, with the common questions as a numbered list, and that list's choices."""
    text = config.text("welcome_text", language)
    questions = common_questions()
    if not questions:
        return text, []
    title = config.text("common_questions_title", language)
    return f"{text}\n{title}\n{_listed(questions, language)}", [_faq_choice(entry) for entry in questions]


def menu_pick(session: ServiceSession, text: str) -> str | None:
    """The choice a customer's reply picks from the bot's last numbered list ("2" → its second
    line), or None when it picks nothing."""
    number = menu_choice(text) if session.bot_menu else None
    if number is None or not 1 <= number <= len(session.bot_menu):
        return None
    return str(session.bot_menu[number - 1])


def person_asked(text: str, config: ServiceSettings, decision: BotDecision) -> bool:
    """Whether a customer's words ask for a servicer: an exact transfer keyword, or a phrase of the
    setting anywhere in the message ("找客服", "转 人工！", "agent please") unless the FAQ answers
    the message outright ("人工客服几点上班" asks about the hours; ``decision`` is the FAQ's)."""
    if text in config.transfer_keyword_set:
        return True
    return decision.outcome != Outcome.ANSWER and asks_for_person(text, config.human_intent_phrase_set)


def no_question(text: str, *, opening: bool) -> bool:
    """A text with nothing to answer: a greeting or thanks ("你好", "谢谢"), and, as the message that
    opens a session (which the welcome answers), a bare number (the welcome's list stays usable)."""
    return is_greeting(text) or (opening and menu_choice(text) is not None)


def decision_for_choice(choice: str) -> BotDecision | None:
    """The answer a picked "faq:<id>" line stands for (None when that entry is gone or disabled)."""
    if not choice.startswith("faq:"):
        return None
    entry_id = choice.removeprefix("faq:")
    entry = next((entry for entry in FaqEntry.enabled_entries() if str(entry.pk) == entry_id), None)
    if entry is None:
        return None
    return BotDecision(Outcome.ANSWER, Answer(entry.answer, 1.0, "menu", entry))


@dataclass(frozen=True)
class BotReply:
    """What the bot says for a decision: the text, the numbered list's choices, and the count of
    "I don't know" in a row it leaves (``fallback``: it says it does not know, or offers a person)."""

    text: str
    menu: list[str]
    misses: int
    fallback: bool


def bot_reply_compose(*, decision: BotDecision, config: ServiceSettings, language: str, misses: int) -> BotReply:
    """The reply for ``decision`` in ``language``, sending nothing (the admin's "test the bot" page
    shows it): the answer, the list of suggestions, or the fallback text, which becomes the offer of
    a person after ``MISSES_BEFORE_OFFER`` in a row. ``misses``: the session's "I don't know" so far."""
    if decision.outcome == Outcome.ANSWER and decision.answer is not None:
        answer = decision.answer
        text = answer.entry.answer_for(language) if answer.entry is not None else answer.text
        return BotReply(text, [], 0, fallback=False)
    if decision.outcome == Outcome.SUGGEST and decision.suggestions:
        text = f"{config.text('suggest_text', language)}\n{_listed(decision.suggestions, language)}"
        return BotReply(text, [_faq_choice(entry) for entry in decision.suggestions], 0, fallback=False)
    if misses + 1 >= MISSES_BEFORE_OFFER:
        return BotReply(config.text("offer_human_text", language), [HUMAN_CHOICE], 0, fallback=True)
    return BotReply(config.text("fallback_text", language), [], misses + 1, fallback=True)


def bot_reply(
    *, session: ServiceSession, decision: BotDecision, config: ServiceSettings, quiet_if_unknown: bool = False
) -> None:
    """Send the bot's reply for ``decision`` (the session is locked; ``bot_reply_compose`` says
    what it is). ``quiet_if_unknown``: say nothing when the bot does not know."""
    reply = bot_reply_compose(decision=decision, config=config, language=session.language, misses=session.bot_misses)
    if reply.fallback and quiet_if_unknown:
        return
    changed = []  # written by the statement that writes the message, only when they change
    if session.bot_menu != reply.menu:
        session.bot_menu = reply.menu
        changed.append("bot_menu")
    if session.bot_misses != reply.misses:
        session.bot_misses = reply.misses
        changed.append("bot_misses")
    customer_send(
        session=session,
        payload=text_payload(reply.text),
        author=Message.Author.BOT,
        session_fields=changed,
        bot_match=decision.detail(),
    )
