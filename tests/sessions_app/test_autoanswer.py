from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sessions_app.bot.matcher import Outcome, Thresholds
from sessions_app.flow.autoanswer import FaqAnswerer, HttpAnswerer
from sessions_app.models import FaqEntry

pytestmark = pytest.mark.django_db

THRESHOLDS = Thresholds(answer=0.6, suggest=0.3, margin=0.1)


@pytest.fixture
def faq() -> None:
    FaqEntry.objects.create(question="怎么退货", alternatives="如何退货\n退货流程", answer="退货答案")
    FaqEntry.objects.create(question="发货时间", alternatives="什么时候发货\n多久发货", answer="发货答案")
    FaqEntry.objects.create(question="会员积分怎么用", answer="积分答案", enabled=False)


@pytest.mark.parametrize(
    ("question", "answer"),
    [("我想退货怎么办", "退货答案"), ("你们一般多久发货啊", "发货答案"), ("什么时候能发货", "发货答案")],
)
def test_the_faq_matcher_finds_paraphrases(faq: None, question: str, answer: str) -> None:
    found = FaqAnswerer(thresholds=THRESHOLDS).decide(question, customer_id="c")
    assert found.outcome == Outcome.ANSWER
    assert found.answer is not None
    assert found.answer.text == answer
    assert found.answer.entry is not None
    assert found.answer.entry.answer == answer


def test_below_the_threshold_there_is_no_answer_and_disabled_entries_never_match(faq: None) -> None:
    answerer = FaqAnswerer(thresholds=THRESHOLDS)
    assert answerer.decide("今天天气怎么样", customer_id="c").outcome == Outcome.UNKNOWN
    assert answerer.decide("会员积分怎么用", customer_id="c").outcome == Outcome.UNKNOWN


def test_an_edited_entry_is_matched_at_once(faq: None) -> None:
    """The index is rebuilt when an entry changes (saving drops the cached FAQ)."""
    answerer = FaqAnswerer(thresholds=THRESHOLDS)
    assert answerer.decide("积分怎么用", customer_id="c").outcome == Outcome.UNKNOWN
    entry = FaqEntry.objects.get(question="会员积分怎么用")
    entry.enabled = True
    entry.save()
    found = answerer.decide("积分怎么用", customer_id="c")
    assert found.answer is not None
    assert found.answer.text == "积分答案"


class _Bot(BaseHTTPRequestHandler):
    delay = 0.0
    reply: object = {"answer": "来自远端的答案", "confidence": 0.9}
    seen: list[dict[str, object]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        time.sleep(self.delay)
        data = json.dumps(self.reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def remote_bot() -> Iterator[str]:
    _Bot.delay, _Bot.reply, _Bot.seen = 0.0, {"answer": "来自远端的答案", "confidence": 0.9}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/answer"
    server.shutdown()


def test_the_http_answerer_uses_the_remote_answer(faq: None, remote_bot: str) -> None:
    answer = (
        HttpAnswerer(url=remote_bot, deadline=2, max_body_bytes=65536, fallback=FaqAnswerer(thresholds=THRESHOLDS))
        .decide("如何退货", customer_id="c1")
        .answer
    )
    assert answer is not None
    assert (answer.text, answer.source) == ("来自远端的答案", "http")
    assert _Bot.seen == [{"question": "如何退货", "customer": "c1"}]


def test_the_http_answerer_falls_back_to_the_faq_on_timeout(faq: None, remote_bot: str) -> None:
    _Bot.delay = 1.5
    answer = (
        HttpAnswerer(url=remote_bot, deadline=0.3, max_body_bytes=65536, fallback=FaqAnswerer(thresholds=THRESHOLDS))
        .decide("如何退货", customer_id="c1")
        .answer
    )
    assert answer is not None
    assert (answer.text, answer.source) == ("退货答案", "faq")


def test_the_http_answerer_falls_back_on_a_malformed_answer(faq: None, remote_bot: str) -> None:
    _Bot.reply = {"answer": 42}
    answer = (
        HttpAnswerer(url=remote_bot, deadline=2, max_body_bytes=65536, fallback=FaqAnswerer(thresholds=THRESHOLDS))
        .decide("多久发货", customer_id="c1")
        .answer
    )
    assert answer is not None
    assert answer.source == "faq"


def test_the_http_answerer_falls_back_when_the_endpoint_is_down(faq: None) -> None:
    answer = (
        HttpAnswerer(
            url="http://127.0.0.1:1/x", deadline=1, max_body_bytes=65536, fallback=FaqAnswerer(thresholds=THRESHOLDS)
        )
        .decide("如何退货", customer_id="c1")
        .answer
    )
    assert answer is not None
    assert answer.source == "faq"
