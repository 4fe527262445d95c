from __future__ import annotations

import pytest

from sessions_app.bot.matcher import Candidate, FaqIndex, Outcome, Synonyms, Thresholds, decide, terms

ENTRIES = [
    (1, ["怎么开发票？", "开票", "How do I get an invoice?"]),
    (2, ["退款多久到账？", "退款什么时候到", "When will I get my refund?"]),
    (3, ["什么时候发货？", "多久发货"]),
    (4, ["怎么修改收货地址？", "地址写错了"]),
    (5, ["忘记密码怎么办？", "修改密码"]),
]
SYNONYMS = "退款 退钱\n发票 开票\n地址 收货地址"
THRESHOLDS = Thresholds(answer=0.6, suggest=0.3, margin=0.1)


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex(ENTRIES, synonyms=SYNONYMS)


def _best(index: FaqIndex, question: str) -> int | None:
    ranked = index.rank(question)
    return ranked[0].entry_id if ranked else None


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("发票怎么开", 1),  # the example: it got the payment answer
        ("退款什么时候到账", 2),  # ... and "付款后 48 小时内发货"
        ("怎么修改密码", 5),  # ... and the change-address answer
        ("退钱要多久", 2),  # a synonym
        ("how can I get an invoice", 1),
        ("refunds take how long?", 2),
    ],
)
def test_the_words_that_carry_the_meaning_decide(index: FaqIndex, question: str, entry: int) -> None:
    assert _best(index, question) == entry


def test_shared_filler_does_not_make_a_match(index: FaqIndex) -> None:
    """ "什么时候上班" shares only "什么时候" with "什么时候发货？": not an answer."""
    assert index.decide("什么时候上班", THRESHOLDS).outcome != Outcome.ANSWER
    assert index.decide("我要投诉", THRESHOLDS).outcome == Outcome.UNKNOWN
    assert index.decide("今天天气怎么样", THRESHOLDS).outcome == Outcome.UNKNOWN


def test_scores_are_between_zero_and_one_and_an_exact_phrasing_scores_one(index: FaqIndex) -> None:
    ranked = index.rank("退款多久到账？")
    assert ranked[0].score == pytest.approx(1.0)
    assert all(0 <= candidate.score <= 1 for candidate in ranked)
    assert [candidate.score for candidate in ranked] == sorted((c.score for c in ranked), reverse=True)


def test_the_matched_words_are_shown_without_bigrams(index: FaqIndex) -> None:
    best = index.rank("发票怎么开")[0]
    assert "发票" in best.matched
    assert not any(word.startswith("~") for word in best.matched)


def test_synonyms_read_as_their_group_word_and_never_inside_a_longer_one() -> None:
    synonyms = Synonyms("优惠券 券 红包\n退款 退钱")
    assert synonyms.apply("我的红包用不了") == "我的优惠券用不了"
    assert synonyms.apply("优惠券") == "优惠券", "券 inside 优惠券 is not replaced again"
    assert synonyms.apply("退钱") == "退款"
    assert "运费" in terms("What is the shipping fee?", Synonyms("运费 shipping")), "English synonyms are stemmed too"
    assert "refund" in terms("I want my money", Synonyms("refund money"))


def test_an_empty_or_filler_question_ranks_nothing(index: FaqIndex) -> None:
    assert index.rank("") == []
    assert index.rank("？？？") == []
    assert index.rank("请问一下") == []


def test_english_is_stemmed_lightly() -> None:
    assert "refund" in terms("refunds refunded", Synonyms())
    assert "ship" in terms("shipping", Synonyms())
    assert "invoice" in terms("invoices", Synonyms())


def _candidates(*scores: float) -> list[Candidate]:
    return [Candidate(entry_id=n, score=s, phrasing="", matched=()) for n, s in enumerate(scores, start=1)]


def test_three_outcomes() -> None:
    assert decide(_candidates(0.9, 0.2), THRESHOLDS).outcome == Outcome.ANSWER
    close = decide(_candidates(0.9, 0.85, 0.5, 0.31, 0.1), THRESHOLDS)
    assert close.outcome == Outcome.SUGGEST, "two entries too close to tell apart"
    assert [c.entry_id for c in close.candidates] == [1, 2, 3], "at most three, all above the suggestion threshold"
    middling = decide(_candidates(0.45, 0.2), THRESHOLDS)
    assert (middling.outcome, [c.entry_id for c in middling.candidates]) == (Outcome.SUGGEST, [1])
    assert decide(_candidates(0.25), THRESHOLDS).outcome == Outcome.UNKNOWN
    assert decide([], THRESHOLDS).outcome == Outcome.UNKNOWN
