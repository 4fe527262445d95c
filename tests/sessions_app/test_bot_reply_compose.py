"""What the bot says for a decision, composed without sending (``bot_reply`` sends it; the admin's
"test the bot" page shows it)."""

from __future__ import annotations

from sessions_app.bot.matcher import Outcome
from sessions_app.flow.autoanswer import Answer, BotDecision
from sessions_app.flow.bot import HUMAN_CHOICE, BotReply, bot_reply_compose
from sessions_app.models import FaqEntry, ServiceSettings

CONFIG = ServiceSettings()  # the defaults; nothing here reads or writes the database
RETURNS = FaqEntry(
    pk=7, question="怎么退货", question_en="How do I return an item", answer="七天内", answer_en="Within 7 days"
)
INVOICE = FaqEntry(pk=9, question="怎么开发票", answer="订单页")


def test_an_answer_is_the_entrys_answer_in_the_customers_language() -> None:
    decision = BotDecision(Outcome.ANSWER, Answer(RETURNS.answer, 0.9, "faq", RETURNS))
    assert bot_reply_compose(decision=decision, config=CONFIG, language="zh-hans", misses=1) == BotReply(
        "七天内", [], 0, fallback=False
    )
    assert bot_reply_compose(decision=decision, config=CONFIG, language="en", misses=0).text == "Within 7 days"


def test_suggestions_are_a_numbered_list_whose_lines_are_the_menu() -> None:
    decision = BotDecision(Outcome.SUGGEST, suggestions=(RETURNS, INVOICE))
    reply = bot_reply_compose(decision=decision, config=CONFIG, language="zh-hans", misses=1)
    assert reply == BotReply(
        f"{CONFIG.suggest_text}\n1. 怎么退货\n2. 怎么开发票", ["faq:7", "faq:9"], 0, fallback=False
    )


def test_the_second_miss_in_a_row_offers_a_person() -> None:
    unknown = BotDecision(Outcome.UNKNOWN)
    first = bot_reply_compose(decision=unknown, config=CONFIG, language="zh-hans", misses=0)
    assert first == BotReply(CONFIG.fallback_text, [], 1, fallback=True)
    second = bot_reply_compose(decision=unknown, config=CONFIG, language="zh-hans", misses=first.misses)
    assert second == BotReply(CONFIG.offer_human_text, [HUMAN_CHOICE], 0, fallback=True)
