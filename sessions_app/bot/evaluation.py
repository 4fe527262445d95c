"""How well the FAQ matcher does on a set of labelled questions (``manage.py faq_eval``, tests, docs/bot.md).

An evaluation case is a question and the entry that answers it, or None when no entry does. The
figures are the ones the bot is held to: of the answers given, the share that is right; of the
questions the FAQ can answer, the share answered right at once, and right at once or through the
suggestion list; of the questions it cannot answer, the share that still got an answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sessions_app.bot.intent import asks_for_person
from sessions_app.bot.matcher import FaqIndex, Outcome, Thresholds


@dataclass(frozen=True)
class Case:
    question: str
    expected: int | None  # the entry that answers it; None: no entry does


@dataclass
class Figures:
    in_domain: int = 0
    out_of_domain: int = 0
    answered: int = 0
    answered_right: int = 0
    suggested_right: int = 0  # in-domain, not answered, the right entry among the suggestions
    out_of_domain_answered: int = 0
    mistakes: list[tuple[str, str, str]] = field(default_factory=list)  # question, expected, what the bot did

    @property
    def precision(self) -> float:
        """Of the answers the bot gave, the share that were the right entry."""
        return self.answered_right / self.answered if self.answered else 1.0

    @property
    def right_at_once(self) -> float:
        return self.answered_right / self.in_domain if self.in_domain else 0.0

    @property
    def right_at_once_or_by_menu(self) -> float:
        return (self.answered_right + self.suggested_right) / self.in_domain if self.in_domain else 0.0

    @property
    def out_of_domain_answer_rate(self) -> float:
        return self.out_of_domain_answered / self.out_of_domain if self.out_of_domain else 0.0


def cases_read(path: Path, *, entry_ids: dict[str, int]) -> list[Case]:
    """Cases from a JSON-lines file: ``{"q": question, "expect": the entry's question or null}``.
    ``entry_ids``: the FAQ's entries by their question. A case naming no known entry is an error."""
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        expected = row.get("expect")
        if expected is not None and expected not in entry_ids:
            raise ValueError(f"{path}:{number}: no FAQ entry has the question {expected!r}")
        cases.append(Case(question=str(row["q"]), expected=None if expected is None else entry_ids[expected]))
    return cases


def evaluate(
    index: FaqIndex,
    cases: Iterable[Case],
    thresholds: Thresholds,
    *,
    person_phrases: Iterable[str] = (),
    names: dict[int, str] | None = None,
) -> Figures:
    """The figures of ``cases``, decided as the flow decides: a question with a phrase asking for a
    person ("人工客服几点上班") goes to a person unless the FAQ answers it outright."""
    figures = Figures()
    name = (names or {}).get
    phrases = tuple(person_phrases)
    for case in cases:
        verdict = index.decide(case.question, thresholds)
        chosen = [candidate.entry_id for candidate in verdict.candidates]
        if case.expected is None:
            figures.out_of_domain += 1
        else:
            figures.in_domain += 1
        if verdict.outcome != Outcome.ANSWER and asks_for_person(case.question, phrases):
            if case.expected is not None:
                figures.mistakes.append((case.question, str(name(case.expected, case.expected)), "a person"))
            continue
        if verdict.outcome == Outcome.ANSWER:
            figures.answered += 1
            if chosen[0] == case.expected:
                figures.answered_right += 1
                continue
            if case.expected is None:
                figures.out_of_domain_answered += 1
        elif verdict.outcome == Outcome.SUGGEST and case.expected in chosen:
            figures.suggested_right += 1
            continue
        elif case.expected is None:
            continue  # not answered, as it should be
        did = verdict.outcome.value + (": " + " | ".join(str(name(i, i)) for i in chosen) if chosen else "")
        expected = "—" if case.expected is None else str(name(case.expected, case.expected))
        figures.mistakes.append((case.question, expected, did))
    return figures


def figures_lines(figures: Figures) -> Sequence[str]:
    return [
        f"questions: {figures.in_domain} the FAQ answers, {figures.out_of_domain} it does not",
        f"answers given: {figures.answered}, right: {figures.answered_right} ({figures.precision:.1%})",
        f"in-domain right at once: {figures.right_at_once:.1%}",
        f"in-domain right at once or through the suggestions: {figures.right_at_once_or_by_menu:.1%}",
        f"out-of-domain answered: {figures.out_of_domain_answered} ({figures.out_of_domain_answer_rate:.1%})",
    ]
