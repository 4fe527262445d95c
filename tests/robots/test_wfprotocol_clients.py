"""§3, §4, §6: the clients against a real local HTTP server that checks what they send."""

from __future__ import annotations

import json
import pickle
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest
import requests

from robots.wfprotocol import (
    AdminClient,
    AsyncRobotSender,
    Conversation,
    CsControl,
    MessagePayload,
    ProfileField,
    RobotClient,
    RobotInfo,
    SendResult,
    UserInfo,
    WfcApiError,
    WfcAuthError,
    WfcError,
    WfcHttpError,
    WfcNotFound,
    WfcOutcomeUnknown,
    WfcProtocolError,
    WfcRateLimited,
    WfcTransportError,
    control_payload,
    sign,
    text_payload,
)

ROBOT_SECRET = "robot-secret-7f3a9"
ADMIN_SECRET = "admin-secret-c41e2"
BIG_UID = 2**53 + 987654321


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: object


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b'{"code":0,"msg":"success"}'
    content_type: str = "application/json; charset=utf-8"
    delay: float = 0.0


@dataclass
class FakeIm:
    """Records every request and answers with the queued replies (code 0 without result when empty)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)

    def reply_json(self, document: object, status: int = 200) -> None:
        self.replies.append(Reply(status=status, body=json.dumps(document).encode()))

    def reply_result(self, result: object) -> None:
        self.reply_json({"code": 0, "msg": "success", "result": result})

    def reply_raw(self, body: bytes, *, status: int = 200, content_type: str = "text/plain", delay: float = 0) -> None:
        self.replies.append(Reply(status=status, body=body, content_type=content_type, delay=delay))

    @property
    def last(self) -> Received:
        return self.received[-1]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the timeout test hangs up on a handler that is still sleeping


@pytest.fixture
def im() -> Iterator[FakeIm]:
    fake = FakeIm()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            body = json.loads(raw) if raw else None
            headers = {name.lower(): value for name, value in self.headers.items()}
            fake.received.append(Received(self.command, self.path, headers, body))
            reply = fake.replies.popleft() if fake.replies else Reply()
            time.sleep(reply.delay)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST

        def log_message(self, format, *args):
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def robot(im: FakeIm) -> Iterator[RobotClient]:
    with RobotClient(im.url + "/", "cs_robot", ROBOT_SECRET, timeout=2) as client:
        yield client


@pytest.fixture
def admin(im: FakeIm) -> Iterator[AdminClient]:
    with AdminClient(im.url, ADMIN_SECRET, timeout=2) as client:
        yield client


def assert_signed(received: Received, secret: str) -> None:
    headers = received.headers
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["nonce"]
    assert abs(int(headers["timestamp"]) - time.time() * 1000) < 60_000
    assert headers["sign"] == sign(headers["nonce"], secret, headers["timestamp"])


# What the client sends (§1, §2, §4, §6)


def test_robot_send_posts_signed_json_with_the_rid_and_parses_the_result(im, robot):
    im.reply_result({"messageUid": BIG_UID, "timestamp": 1700000000123})

    result = robot.send_message(Conversation(type=0, target="alice", line=1), text_payload("您好"), to_users=["alice"])

    assert result == SendResult(message_uid=BIG_UID, timestamp=1700000000123)
    assert im.last.method == "POST"
    assert im.last.path == "/robot/message/send"
    assert_signed(im.last, ROBOT_SECRET)
    assert im.last.headers["rid"] == "cs_robot"
    assert im.last.body == {
        "conv": {"type": 0, "target": "alice", "line": 1},
        "payload": {"type": 1, "searchableContent": "您好", "persistFlag": 3},
        "toUsers": ["alice"],
    }


def test_every_request_is_signed_anew(im, robot):
    robot.delete_callback()
    robot.delete_callback()

    first, second = im.received
    assert first.headers["nonce"] != second.headers["nonce"]
    assert_signed(second, ROBOT_SECRET)


def test_admin_calls_are_signed_with_the_admin_secret_and_no_rid(im, admin):
    im.reply_result({"messageUid": BIG_UID, "timestamp": 1})

    admin.send_message(
        sender="alice", conv=Conversation(type=0, target="cs_robot"), payload=control_payload(CsControl.ENTER, {})
    )

    assert im.last.path == "/admin/message/send"
    assert_signed(im.last, ADMIN_SECRET)
    assert "rid" not in im.last.headers
    assert im.last.body == {
        "sender": "alice",
        "conv": {"type": 0, "target": "cs_robot", "line": 0},
        "payload": {"type": 1001, "content": "{}", "persistFlag": 0},
    }


def test_health_is_an_unsigned_get_and_true_on_code_zero(im, admin):
    # HealthAction has no @HttpMethod: the server routes /admin/health for GET only (§6).
    im.reply_result([{"node": "1", "cpu": {"load": 0.5, "cores": 4}}])

    assert admin.health() is True
    assert (im.last.method, im.last.path) == ("GET", "/admin/health")
    assert "sign" not in im.last.headers
    assert im.last.body is None


def test_health_is_false_when_the_server_is_unhappy(im, admin):
    im.reply_raw(b"", status=500)

    assert admin.health() is False


def test_update_profile_sends_the_int_and_string_pair_of_the_code(im, robot):
    robot.update_profile(ProfileField.DISPLAY_NAME, "小火客服")

    assert im.last.path == "/robot/update_profile"
    assert im.last.body == {"intValue": 0, "strValue": "小火客服"}


def test_user_info_asks_by_exactly_one_key(im, robot):
    im.reply_result({"userId": "u1", "name": "alice", "displayName": "Alice", "type": 0})

    user = robot.user_info(mobile="13800000000")

    assert user == UserInfo(user_id="u1", name="alice", display_name="Alice")
    assert im.last.body == {"mobile": "13800000000"}


@pytest.mark.parametrize("keys", [{}, {"user_id": "u1", "name": "alice"}])
def test_user_info_refuses_zero_or_two_keys_without_calling(im, robot, keys):
    with pytest.raises(ValueError, match="exactly one"):
        robot.user_info(**keys)

    assert im.received == []


def test_profile_reads_the_robot_fields(im, robot):
    im.reply_result({"userId": "cs_robot", "name": "cs_robot", "type": 1, "owner": "admin", "callback": "https://cb"})

    profile = robot.profile()

    assert (profile.user_id, profile.owner, profile.callback, profile.secret) == ("cs_robot", "admin", "https://cb", "")


def test_callbacks_are_set_read_and_deleted(im, robot):
    robot.set_callback("https://cs.example.com/wfc/callback/cs_robot?k=token")
    im.reply_result({"url": "https://cs.example.com/wfc/callback/cs_robot?k=token"})
    url = robot.get_callback()
    robot.delete_callback()

    assert [r.path for r in im.received] == ["/robot/set_callback", "/robot/get_callback", "/robot/delete_callback"]
    assert im.received[0].body == {"url": "https://cs.example.com/wfc/callback/cs_robot?k=token"}
    assert url == "https://cs.example.com/wfc/callback/cs_robot?k=token"


def test_replacing_a_callback_deletes_it_first(im, robot):
    robot.replace_callback("https://new")

    assert [r.path for r in im.received] == ["/robot/delete_callback", "/robot/set_callback"]


def test_create_robot_always_sends_the_secret_and_callback(im, admin):
    im.reply_result({"userId": "cs_robot", "secret": "kept-secret"})

    created = admin.create_robot(
        user_id="cs_robot", name="cs_robot", display_name="客服", secret="kept-secret", callback=""
    )

    assert created == ("cs_robot", "kept-secret")
    assert im.last.path == "/admin/robot/create"
    assert isinstance(im.last.body, dict)
    assert im.last.body["secret"] == "kept-secret"
    assert "callback" in im.last.body


def test_create_user_returns_the_id_and_name(im, admin):
    im.reply_result({"userId": "alice", "name": "alice"})

    assert admin.create_user(user_id="alice", name="alice", display_name="Alice") == ("alice", "alice")
    assert im.last.body == {
        "userId": "alice",
        "name": "alice",
        "displayName": "Alice",
        "portrait": "",
        "extra": "",
        "type": 0,
    }


def test_create_user_refuses_the_robot_type(im, admin):
    with pytest.raises(ValueError, match="type"):
        admin.create_user(user_id="r", name="r", type=1)


def test_get_robot_info_includes_the_secret(im, admin):
    im.reply_result({"userId": "cs_robot", "name": "cs_robot", "type": 1, "secret": ROBOT_SECRET, "owner": "cs_robot"})

    info = admin.get_robot_info(robot_id="cs_robot")

    assert isinstance(info, RobotInfo)
    assert info.secret == ROBOT_SECRET
    assert im.last.body == {"robotId": "cs_robot"}


def test_user_admin_paths_and_bodies(im, admin):
    im.reply_result({"userId": "alice", "name": "alice"})
    admin.get_user_info(user_id="alice")
    admin.destroy_user(user_id="bob")
    admin.set_friend_status(user_id="shadow1", friend_uid="alice")

    assert [(r.path, r.body) for r in im.received] == [
        ("/admin/user/get_info", {"userId": "alice"}),
        ("/admin/user/destroy", {"userId": "bob"}),
        ("/admin/friend/status", {"userId": "shadow1", "friendUid": "alice", "status": 0}),
    ]


def test_a_robot_may_not_send_recall_messages(im, robot):
    with pytest.raises(ValueError, match="80"):
        robot.send_message(Conversation(type=0, target="alice"), MessagePayload(type=80))

    assert im.received == []


def test_to_users_must_not_be_a_single_string(im, robot):
    with pytest.raises(TypeError, match="to_users"):
        robot.send_message(Conversation(type=0, target="alice"), text_payload("x"), to_users="alice")


# What the client makes of the answer (§3)


def test_code_zero_without_result_is_fine_for_calls_that_return_nothing(im, robot):
    im.reply_json({"code": 0, "msg": "success"})

    assert robot.delete_callback() is None


def test_code_zero_without_result_is_a_protocol_error_where_a_result_is_needed(im, robot):
    im.reply_json({"code": 0, "msg": "success"})

    with pytest.raises(WfcProtocolError) as caught:
        robot.send_message(Conversation(type=0, target="alice"), text_payload("hi"))

    assert caught.value.path == "/robot/message/send"
    assert not caught.value.retryable


def test_a_nested_pre_check_envelope_raises_the_auth_error(im, robot):
    im.reply_json({"code": 244, "msg": "auth failure", "result": {"code": 244, "msg": "auth failure"}})

    with pytest.raises(WfcAuthError) as caught:
        robot.send_message(Conversation(type=0, target="alice"), text_payload("hi"))

    error = caught.value
    assert (error.code, error.msg, error.http_status, error.path) == (244, "auth failure", 200, "/robot/message/send")
    assert not error.retryable


@pytest.mark.parametrize("code", [239, 243, 244, 248])
def test_signature_codes_are_auth_errors(im, robot, code):
    im.reply_json({"code": code, "msg": "x", "result": {"code": code, "msg": "x"}})

    with pytest.raises(WfcAuthError):
        robot.delete_callback()


def test_code_250_is_a_retryable_rate_limit(im, robot):
    im.reply_json({"code": 250, "msg": "over frequency", "result": {"code": 250, "msg": "over frequency"}})

    with pytest.raises(WfcRateLimited) as caught:
        robot.send_message(Conversation(type=0, target="alice"), text_payload("hi"))

    assert caught.value.retryable
    assert isinstance(caught.value, WfcApiError)


def test_code_253_is_not_found(im, robot):
    im.reply_json({"code": 253, "msg": "not exist"})

    with pytest.raises(WfcNotFound) as caught:
        robot.user_info(user_id="ghost")

    assert caught.value.code == 253
    assert not caught.value.retryable


def test_other_codes_are_api_errors_that_are_not_retried(im, admin):
    im.reply_json({"code": 251, "msg": "invalid parameter"})

    with pytest.raises(WfcApiError) as caught:
        admin.destroy_user(user_id="")

    assert type(caught.value) is WfcApiError
    assert not caught.value.retryable


def test_http_401_is_an_auth_error(im, robot):
    im.reply_json({"code": 244, "msg": "auth failure"}, status=401)

    with pytest.raises(WfcAuthError) as caught:
        robot.delete_callback()

    assert (caught.value.http_status, caught.value.code) == (401, 244)


def test_http_401_without_a_body_is_an_auth_error_too(im, robot):
    im.reply_raw(b"", status=401)

    with pytest.raises(WfcAuthError) as caught:
        robot.delete_callback()

    assert (caught.value.http_status, caught.value.code) == (401, None)


def test_http_500_without_json_is_an_http_error_worth_only_a_few_tries(im, robot):
    # The IM server answers 500 for what the same request meets again (UnknownErrorAction, an
    # exception while reading the body): a one-off is covered, a steady 500 must show.
    im.reply_raw(b"", status=500)

    with pytest.raises(WfcHttpError) as caught:
        robot.profile()

    assert caught.value.http_status == 500
    assert caught.value.code is None
    assert caught.value.retryable
    assert caught.value.attempts_allowed == 3


@pytest.mark.parametrize("status", [503, 521])
def test_a_proxy_s_5xx_is_transient_with_no_limit_of_its_own(im, robot, status):
    im.reply_raw(b"<html>bad gateway</html>", status=status, content_type="text/html")

    with pytest.raises(WfcHttpError) as caught:
        robot.profile()

    assert caught.value.http_status == status
    assert caught.value.retryable
    assert caught.value.attempts_allowed is None


@pytest.mark.parametrize("status", [502, 504])
def test_a_proxy_that_got_no_answer_leaves_the_outcome_unknown(im, robot, status):
    """A 502 or 504 from a proxy: the request may have reached the IM server, which may act on it."""
    im.reply_raw(b"<html>gateway timeout</html>", status=status, content_type="text/html")

    with pytest.raises(WfcOutcomeUnknown) as caught:
        robot.profile()

    assert caught.value.http_status == status
    assert caught.value.retryable


@pytest.mark.parametrize("status", [501, 505, 404, 413])
def test_other_http_statuses_are_permanent(im, robot, status):
    im.reply_raw(b"", status=status)

    with pytest.raises(WfcHttpError) as caught:
        robot.profile()

    assert not caught.value.retryable


def test_a_redirect_is_not_followed(im, robot):
    im.reply_raw(b"", status=302)

    with pytest.raises(WfcHttpError) as caught:
        robot.delete_callback()

    assert caught.value.http_status == 302
    assert not caught.value.retryable
    assert len(im.received) == 1


def test_a_body_that_is_not_json_is_a_transport_error(im, robot):
    im.reply_raw(b"<html>bad gateway</html>", content_type="text/html")

    with pytest.raises(WfcTransportError) as caught:
        robot.delete_callback()

    assert caught.value.retryable


@pytest.mark.parametrize(
    "document",
    [[0], {"msg": "success"}, {"code": "0"}, {"code": False}, {"code": 0.0}],
)
def test_an_envelope_without_an_integer_code_is_a_protocol_error(im, robot, document):
    im.reply_json(document)

    with pytest.raises(WfcProtocolError):
        robot.delete_callback()


@pytest.mark.parametrize(
    ("result", "field"),
    [
        ({"messageUid": 4.3e17, "timestamp": 1}, "messageUid"),
        ({"messageUid": True, "timestamp": 1}, "messageUid"),
        ({"messageUid": 1, "timestamp": "1"}, "timestamp"),
        ({"timestamp": 1}, "messageUid"),
        ("ok", ""),
    ],
)
def test_a_send_result_of_the_wrong_shape_is_a_protocol_error_naming_the_field(im, robot, result, field):
    im.reply_result(result)

    with pytest.raises(WfcProtocolError) as caught:
        robot.send_message(Conversation(type=0, target="alice"), text_payload("hi"))

    assert caught.value.msg.startswith(f"result.{field}:" if field else "result: expected an object")


def test_a_refused_connection_is_a_retryable_transport_error():
    # A bound socket that does not listen: the kernel refuses connections to it.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        client = RobotClient(f"http://127.0.0.1:{port}", "cs_robot", ROBOT_SECRET, timeout=2)

        with pytest.raises(WfcTransportError) as caught:
            client.delete_callback()
        client.close()

    assert caught.value.retryable
    assert caught.value.path == "/robot/delete_callback"
    assert "Connection refused" in caught.value.msg
    assert not isinstance(caught.value, WfcOutcomeUnknown), "never sent: sending again is safe"


def test_a_slow_server_is_a_retryable_transport_error(im):
    im.reply_raw(b'{"code":0}', content_type="application/json", delay=1.0)
    client = RobotClient(im.url, "cs_robot", ROBOT_SECRET, timeout=(2, 0.2))

    started = time.monotonic()
    with pytest.raises(WfcTransportError) as caught:
        client.delete_callback()
    client.close()

    assert time.monotonic() - started < 0.9
    assert caught.value.retryable
    assert "read timed out" in str(caught.value)
    assert isinstance(caught.value, WfcOutcomeUnknown), "sent, and the server may still act on it"


async def test_the_async_sender_tells_a_send_never_made_from_one_left_unanswered(im):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        async with aiohttp.ClientSession() as http:
            sender = AsyncRobotSender(f"http://127.0.0.1:{port}", session=http, timeout=(2, 2))
            with pytest.raises(WfcTransportError) as refused:
                await sender.send_message(
                    robot_id="cs_robot", secret=ROBOT_SECRET, conv=Conversation(0, "alice"), payload=text_payload("hi")
                )
    assert not isinstance(refused.value, WfcOutcomeUnknown)

    im.reply_raw(b'{"code":0}', content_type="application/json", delay=1.0)
    async with aiohttp.ClientSession() as http:
        sender = AsyncRobotSender(im.url, session=http, timeout=(2, 0.2))
        with pytest.raises(WfcOutcomeUnknown):
            await sender.send_message(
                robot_id="cs_robot", secret=ROBOT_SECRET, conv=Conversation(0, "alice"), payload=text_payload("hi")
            )


# Secrets stay out of messages, reprs and pickles


def test_secrets_and_signatures_never_appear_in_errors_or_reprs(im):
    robot = RobotClient(im.url, "cs_robot", ROBOT_SECRET, timeout=2)
    admin = AdminClient(im.url, ADMIN_SECRET, timeout=2)
    im.reply_json({"code": 244, "msg": "auth failure", "result": {"code": 244}})
    im.reply_raw(b"", status=500)
    im.reply_result({"userId": "r", "name": "r", "secret": 17})
    errors: list[WfcError] = []
    for call in (robot.delete_callback, robot.delete_callback, lambda: admin.get_robot_info(robot_id="r")):
        with pytest.raises(WfcError) as caught:
            call()
        errors.append(caught.value)
    robot.close()
    admin.close()

    signatures = [r.headers["sign"] for r in im.received]
    texts = [repr(robot), repr(admin)] + [f"{e} {e!r} {e.args}" for e in errors]
    for text in texts:
        assert ROBOT_SECRET not in text
        assert ADMIN_SECRET not in text
        assert not any(signature in text for signature in signatures)
    assert repr(robot) == f"RobotClient(base_url={im.url!r}, robot_id='cs_robot')"
    assert "result.secret: expected a string, got integer" in str(errors[2])


def test_errors_survive_pickling_with_their_fields():
    error = WfcRateLimited("over frequency", 250, 200, "/robot/message/send")

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)

    assert type(copy) is WfcRateLimited
    assert (copy.msg, copy.code, copy.http_status, copy.path, copy.retryable) == (
        "over frequency",
        250,
        200,
        "/robot/message/send",
        True,
    )


def test_a_shared_session_is_used_and_left_open(im):
    session = requests.Session()
    with RobotClient(im.url, "cs_robot", ROBOT_SECRET, session=session) as client:
        client.delete_callback()
    # Still usable after the client is closed: it belongs to the caller.
    client2 = RobotClient(im.url, "cs_robot", ROBOT_SECRET, session=session)
    client2.delete_callback()
    session.close()

    assert len(im.received) == 2
