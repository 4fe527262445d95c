"""A slow or hostile auto-answer endpoint (``CS_AUTOANSWER_URL``) costs a worker at most the deadline,
receives nothing it was not configured for, and gets nothing oversized stored: every failure falls
back to the FAQ and is logged with its reason, never with the customer's text.

The endpoints are real HTTP servers on local ports, each in a thread of the test.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import OutboundMessage
from robots.wfprotocol import TEXT_MAX_LENGTH
from sessions_app.bot.matcher import Thresholds
from sessions_app.flow.autoanswer import Answer, FaqAnswerer, HttpAnswerer
from sessions_app.flow.inbound import bot_answer
from sessions_app.models import FaqEntry, Message, ServiceSession
from tests.factories import session_make

pytestmark = pytest.mark.django_db

QUESTION = "如何退货？订单 A123"
FAQ_ANSWER = "七天内可在订单页申请退货。"
DEADLINE = 1.0
MAX_BODY = 64 * 1024

Respond = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Endpoint:
    url: str
    seen: list[bytes] = field(default_factory=list)


@contextmanager
def _serving(respond: Respond) -> Iterator[Endpoint]:
    endpoint = Endpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            endpoint.seen.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
                respond(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/answer"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()


def _json(handler: BaseHTTPRequestHandler, document: object, *, status: int = 200) -> None:
    body = json.dumps(document, ensure_ascii=False).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _trickle(handler: BaseHTTPRequestHandler, data: bytes, *, every: float = 0.2) -> None:
    for index in range(len(data)):
        handler.wfile.write(data[index : index + 1])
        handler.wfile.flush()
        time.sleep(every)


FAQ = Thresholds(answer=0.6, suggest=0.3, margin=0.1)


@pytest.fixture
def faq(db: None) -> None:
    FaqEntry.objects.create(question="怎么退货", alternatives="如何退货\n退货流程", answer=FAQ_ANSWER)


@pytest.fixture
def warnings_logged() -> Iterator[list[logging.LogRecord]]:
    """What ``sessions_app.flow.autoanswer`` logs, whatever pytest's own log capture does."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger, handler = logging.getLogger("sessions_app.flow.autoanswer"), Keep(logging.WARNING)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _ask(url: str) -> tuple[Answer | None, float]:
    answerer = HttpAnswerer(url=url, deadline=DEADLINE, max_body_bytes=MAX_BODY, fallback=FaqAnswerer(thresholds=FAQ))
    started = time.monotonic()
    answer = answerer.decide(QUESTION, customer_id="cust-7").answer
    return answer, time.monotonic() - started


def _assert_fell_back(answer: Answer | None) -> None:
    assert answer is not None
    assert (answer.text, answer.source) == (FAQ_ANSWER, "faq")


def _the_warning(records: list[logging.LogRecord]) -> str:
    assert len(records) == 1, [record.getMessage() for record in records]
    logged = records[0].getMessage()
    assert "cust-7" in logged, "the log says whose question it was"
    assert QUESTION not in logged
    assert "A123" not in logged, "nothing of the customer's text is logged"
    return logged


def test_an_endpoint_that_trickles_its_body_is_cut_off_at_the_deadline(
    faq: None, warnings_logged: list[logging.LogRecord]
) -> None:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        body = json.dumps({"answer": "来自远端的答案"}).encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        _trickle(handler, body)  # about 12 s at 5 bytes a second, each read well within any read timeout

    with _serving(respond) as endpoint:
        answer, took = _ask(endpoint.url)
    _assert_fell_back(answer)
    assert took < DEADLINE + 0.5, f"took {took:.1f} s"
    assert f"within {DEADLINE:g} s" in _the_warning(warnings_logged)


def test_an_endpoint_that_trickles_its_status_line_is_cut_off_at_the_deadline(faq: None) -> None:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        _trickle(handler, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")

    with _serving(respond) as endpoint:
        answer, took = _ask(endpoint.url)
    _assert_fell_back(answer)
    assert took < DEADLINE + 0.5, f"took {took:.1f} s"


@pytest.mark.parametrize("status", [302, 307, 308])
def test_a_redirect_is_a_failure_and_the_question_goes_nowhere_else(
    faq: None, warnings_logged: list[logging.LogRecord], status: int
) -> None:
    with _serving(lambda handler: _json(handler, {"answer": "内部服务的答案"})) as internal:

        def redirect(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Location", internal.url)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        with _serving(redirect) as endpoint:
            answer, _took = _ask(endpoint.url)
        assert len(endpoint.seen) == 1
        assert internal.seen == [], "the redirect's target received the customer's question"
    _assert_fell_back(answer)
    assert f"HTTP {status}" in _the_warning(warnings_logged)


def _huge_with_length(handler: BaseHTTPRequestHandler) -> None:
    _json(handler, {"answer": "长" * (5 * 1024 * 1024 // 3)})  # 5 MiB, announced


def _huge_without_length(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Connection", "close")
    handler.end_headers()  # no Content-Length: the body ends when the connection does
    handler.wfile.write(b'{"answer": "')
    for _ in range(80):
        handler.wfile.write(b"x" * 65536)  # 5 MiB in all, unannounced
    handler.wfile.write(b'"}')


@pytest.mark.parametrize("respond", [_huge_with_length, _huge_without_length], ids=["announced", "streamed"])
def test_a_body_over_the_limit_is_refused(
    faq: None, warnings_logged: list[logging.LogRecord], respond: Respond
) -> None:
    with _serving(respond) as endpoint:
        answer, took = _ask(endpoint.url)
    _assert_fell_back(answer)
    assert took < DEADLINE
    assert f"larger than {MAX_BODY} bytes" in _the_warning(warnings_logged)


def test_a_compressed_body_is_refused_before_it_can_expand(faq: None) -> None:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        body = gzip.compress(json.dumps({"answer": "x" * (10 * 1024 * 1024)}).encode())  # 10 KiB on the wire
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with _serving(respond) as endpoint:
        answer, _took = _ask(endpoint.url)
    _assert_fell_back(answer)


def test_an_answer_over_the_text_limit_is_refused_not_cut(faq: None, warnings_logged: list[logging.LogRecord]) -> None:
    longest = "答" * TEXT_MAX_LENGTH
    with _serving(lambda handler: _json(handler, {"answer": longest})) as endpoint:
        answer, _took = _ask(endpoint.url)
    assert answer is not None
    assert (answer.text, answer.source) == (longest, "http"), "the longest allowed answer is taken whole"
    with _serving(lambda handler: _json(handler, {"answer": longest + "。"})) as endpoint:
        answer, _took = _ask(endpoint.url)
    _assert_fell_back(answer)
    assert f"longer than {TEXT_MAX_LENGTH} characters" in _the_warning(warnings_logged)


@pytest.mark.parametrize("document", [{"answer": "退货\x00请联系"}, {"answer": "退货\ud800"}, [1] * 10])
def test_an_answer_that_cannot_be_stored_is_refused(faq: None, document: object) -> None:
    with _serving(lambda handler: _json(handler, document)) as endpoint:
        answer, _took = _ask(endpoint.url)
    _assert_fell_back(answer)


def test_a_body_nested_too_deeply_is_refused(faq: None) -> None:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        body = b"[" * 60_000  # under the size limit, past Python's recursion limit
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with _serving(respond) as endpoint:
        answer, _took = _ask(endpoint.url)
    _assert_fell_back(answer)


def test_the_bot_stores_and_sends_the_faq_answer_not_a_5_mib_one(
    faq: None, settings: SettingsWrapper, redis_client: redis.Redis
) -> None:
    """The whole path of a bot-mode question (the Celery task's service): nothing oversized is kept."""
    session = session_make(state=ServiceSession.State.BOT)
    with _serving(_huge_with_length) as endpoint:
        settings.CS_AUTOANSWER_URL = endpoint.url
        bot_answer(session_id=session.pk, question=QUESTION)
    told = Message.objects.get(session=session, author=Message.Author.BOT)
    assert told.payload["searchableContent"] == FAQ_ANSWER
    sent = OutboundMessage.objects.get(target_user_id=session.customer.im_user_id)
    assert sent.payload["searchableContent"] == FAQ_ANSWER
    assert max(len(json.dumps(row.payload)) for row in Message.objects.all()) < 1000
