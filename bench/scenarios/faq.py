"""Scenario 6: the FAQ matcher's speed, on the demo FAQ and on one of 500 entries.

No stack: the matcher (``sessions_app.bot``) is plain Python and runs in the process that
handles the customer's message, inside its transaction, so its time is added to every bot-mode
message. The 500-entry FAQ is the demo's 32 entries, each repeated for 16 products ("耳机怎么退货？",
"手机怎么退货？", ...): many entries share most of their words, the hard case for an inverted
index. The questions are the evaluation set's (tests/sessions_app/bot/faq_eval_set.jsonl), each
asked ``ROUNDS`` times; the figure is the median over questions of each question's median time,
from the question's text to the decision (cutting, ranking, thresholds). What the answer is worth
is ``manage.py faq_eval``'s figures (docs/bot.md).
"""

from __future__ import annotations

import json
import resource
import time

from bench.config import BASE_DIR
from bench.context import Context, ScenarioReport, Target
from bench.stats import Latency, median
from sessions_app.bot.faq_file import demo_synonyms, faq_file_read
from sessions_app.bot.matcher import FaqIndex, Thresholds

TARGET_MS = 5.0
TARGET_ENTRIES = 500
ROUNDS = 5
PRODUCTS = (
    "耳机",
    "手机",
    "衣服",
    "鞋子",
    "外套",
    "裤子",
    "包",
    "手表",
    "充电器",
    "台灯",
    "水杯",
    "键盘",
    "鼠标",
    "背包",
    "帽子",
    "围巾",
)
THRESHOLDS = Thresholds(answer=0.55, suggest=0.2, margin=0.1)  # the settings' defaults
CASES = BASE_DIR / "tests" / "sessions_app" / "bot" / "faq_eval_set.jsonl"


def _faq(size: int) -> list[tuple[int, list[str]]]:
    demo = faq_file_read()
    if size <= len(demo):
        return [(number, entry.phrasings()) for number, entry in enumerate(demo[:size])]
    entries: list[tuple[int, list[str]]] = []
    for product in PRODUCTS:
        for entry in demo:
            entries.append((len(entries), [f"{product}{phrasing}" for phrasing in entry.phrasings()]))
            if len(entries) == size:
                return entries
    return entries


def _time(index: FaqIndex, questions: list[str]) -> tuple[Latency, float]:
    per_question = []
    for question in questions:
        samples = []
        for _round in range(ROUNDS):
            started = time.perf_counter()
            index.decide(question, THRESHOLDS)
            samples.append((time.perf_counter() - started) * 1000)
        per_question.append(median(samples))
    return Latency.of(per_question), median(per_question)


def run(ctx: Context) -> ScenarioReport:
    questions = [json.loads(line)["q"] for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lines = [
        f"{len(questions)} questions of the evaluation set, each decided {ROUNDS} times in this process"
        " (cut, ranked, thresholds applied); the figure per question is its median.",
        "",
        "| FAQ entries | phrasings | index built (ms) | per question p50 / p95 / p99 / max (ms) |",
        "|---|---|---|---|",
    ]
    headline = float("nan")
    for size in (len(faq_file_read()), TARGET_ENTRIES):
        entries = _faq(size)
        started = time.perf_counter()
        index = FaqIndex(entries, synonyms=demo_synonyms())
        built_ms = (time.perf_counter() - started) * 1000
        index.decide("预热", THRESHOLDS)
        latency, middle = _time(index, questions)
        if size == TARGET_ENTRIES:
            headline = middle
        phrasings = sum(len(lines_) for _number, lines_ in entries)
        lines.append(
            f"| {size} | {phrasings} | {built_ms:.0f} | {latency.p50:.2f} / {latency.p95:.2f} / "
            f"{latency.p99:.2f} / {latency.max:.2f} |"
        )
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    lines += ["", f"Peak memory of this process grew by {grown_mb:.0f} MB over the run (both indexes)."]
    target = Target(
        f"FAQ matcher median with {TARGET_ENTRIES} entries",
        f"< {TARGET_MS:g} ms",
        f"{headline:.2f} ms",
        headline < TARGET_MS,
    )
    return ScenarioReport(
        name="faq",
        title="FAQ matcher",
        markdown="\n".join(lines),
        targets=[target],
        figures={"faq_median_ms": headline},
    )
