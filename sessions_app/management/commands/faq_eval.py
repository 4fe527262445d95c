"""``manage.py faq_eval [FILE]``: how the FAQ bot does on a set of labelled questions (docs/bot.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions_app.bot.evaluation import cases_read, evaluate, figures_lines
from sessions_app.bot.faq_file import faq_file_read
from sessions_app.bot.matcher import FaqIndex, Thresholds
from sessions_app.models import FaqEntry, ServiceSettings

DEFAULT_CASES = Path(settings.BASE_DIR) / "tests" / "sessions_app" / "bot" / "faq_eval_set.jsonl"


class Command(BaseCommand):
    help = (
        'Run the FAQ matcher over labelled questions (JSON lines: {"q": question, "expect": the entry\'s question'
        " or null}) and print the share of right answers, of questions answered at once or through the suggestions,"
        " and of unanswerable questions that still got an answer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_CASES, help="the labelled questions")
        parser.add_argument(
            "--faq",
            type=Path,
            help="a FAQ file (as sessions_app/bot/demo_faq.json); default: the enabled entries of the database",
        )
        parser.add_argument(
            "--synonyms", type=Path, help="a file of synonym groups, one per line; default: the settings' ones"
        )
        parser.add_argument("--answer", type=float, help="the answer threshold (default: the settings')")
        parser.add_argument("--suggest", type=float, help="the suggestion threshold (default: the settings')")
        parser.add_argument("--margin", type=float, help="the answer margin (default: the settings')")
        parser.add_argument("--mistakes", action="store_true", help="list every question the bot got wrong")

    def handle(self, *args: Any, **options: Any) -> None:
        config = ServiceSettings.load()
        phrasings = _faq_read(options["faq"]) if options["faq"] else _faq_from_database()
        if not phrasings:
            raise CommandError("the FAQ has no entries")
        index = FaqIndex(
            ((number, lines) for number, (_question, lines) in enumerate(phrasings)),
            synonyms=config.faq_synonyms if options["synonyms"] is None else _synonyms_read(options["synonyms"]),
        )
        names = {number: question for number, (question, _lines) in enumerate(phrasings)}
        try:
            cases = cases_read(options["file"], entry_ids={question: number for number, question in names.items()})
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read the questions: {exc}") from exc
        thresholds = Thresholds(
            answer=config.answer_threshold if options["answer"] is None else options["answer"],
            suggest=config.suggest_threshold if options["suggest"] is None else options["suggest"],
            margin=config.answer_margin if options["margin"] is None else options["margin"],
        )
        figures = evaluate(index, cases, thresholds, person_phrases=config.human_intent_phrase_set, names=names)
        self.stdout.write(
            f"FAQ: {len(phrasings)} entries; thresholds: answer {thresholds.answer:g},"
            f" suggestions {thresholds.suggest:g}, margin {thresholds.margin:g}"
        )
        for line in figures_lines(figures):
            self.stdout.write(line)
        if options["mistakes"]:
            for question, expected, did in figures.mistakes:
                self.stdout.write(f"  {question!r}: expected {expected}; the bot: {did}")


def _faq_read(path: Path) -> list[tuple[str, list[str]]]:
    try:
        return [(entry.question, entry.phrasings()) for entry in faq_file_read(path)]
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read the FAQ {path}: {exc}") from exc


def _synonyms_read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read the synonyms {path}: {exc}") from exc


def _faq_from_database() -> list[tuple[str, list[str]]]:
    return [(entry.question, entry.phrasings()) for entry in FaqEntry.enabled_entries()]
