"""A FAQ kept as a JSON file: the demo's (``demo_faq.json``), or one given to ``faq_eval``.

A list of ``{"question", "question_en"?, "alternatives": [...], "answer", "answer_en"?}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEMO_FAQ = Path(__file__).with_name("demo_faq.json")
# The demo shop's synonym groups (the ``faq_synonyms`` setting's format), chosen with the evaluation
# set's first half (docs/bot.md).
DEMO_SYNONYMS = Path(__file__).with_name("demo_synonyms.txt")


def demo_synonyms() -> str:
    return DEMO_SYNONYMS.read_text(encoding="utf-8")


@dataclass(frozen=True)
class FileEntry:
    question: str
    alternatives: tuple[str, ...]
    answer: str
    question_en: str = ""
    answer_en: str = ""

    def phrasings(self) -> list[str]:
        """As ``FaqEntry.phrasings``: the question, its English version, the alternatives."""
        return [self.question, *([self.question_en] if self.question_en else []), *self.alternatives]


def faq_file_read(path: Path = DEMO_FAQ) -> list[FileEntry]:
    """The entries of a FAQ file; ``ValueError`` (naming the entry) when one is malformed."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(rows, list):
        raise ValueError(f"{path}: not a JSON list")
    entries = []
    for number, row in enumerate(rows, start=1):
        try:
            entries.append(
                FileEntry(
                    question=str(row["question"]),
                    alternatives=tuple(str(line).strip() for line in row.get("alternatives", ()) if str(line).strip()),
                    answer=str(row.get("answer", "")),
                    question_en=str(row.get("question_en", "")).strip(),
                    answer_en=str(row.get("answer_en", "")),
                )
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: entry {number} is malformed ({exc!r})") from exc
    return entries
