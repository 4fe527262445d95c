from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from robots.callbacks import CallbackOutcome, CallbackRejected, callback_accept
from robots.models import InboundMessage, Robot, new_callback_token
from robots.services import cs_robot_get
from sessions_app.models import Message, ServiceSession
from tests.support.im import callback_body

pytestmark = pytest.mark.django_db

BIG_ID = 430843814853214338  # above 2**53: a float anywhere on the way would change it


def _body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "messageId": BIG_ID,
        "sender": "customer-1",
        "conv": {"type": 0, "target": "cs_robot", "line": 0},
        "payload": {"type": 1, "searchableContent": "你好", "persistFlag": 3},
        "toUsers": [],
        "timestamp": 1700000000000,
    }
    body.update(overrides)
    return body


def _post(
    robot: Robot, body: object, *, token: str | None = None, raw: bytes | None = None
) -> tuple[int, dict[str, object]]:
    response = Client().post(
        f"/wfc/callback/{robot.robot_id}?k={robot.callback_token if token is None else token}",
        data=raw if raw is not None else json.dumps(body),
        content_type="application/json",
    )
    return response.status_code, response.json()


@pytest.fixture
def cs_robot() -> Robot:
    return cs_robot_get()


def test_it_stores_the_message_once_with_its_exact_id_and_opens_a_session(cs_robot: Robot) -> None:
    status, body = _post(cs_robot, _body())
    assert (status, body) == (200, {"status": "accepted", "messageId": str(BIG_ID)})
    inbound = InboundMessage.objects.get()
    assert inbound.message_id == BIG_ID
    assert inbound.state == InboundMessage.State.DONE
    session = ServiceSession.objects.get(customer__im_user_id="customer-1")
    assert session.messages.get(direction=Message.Direction.IN).im_message_id == BIG_ID


def test_a_repeated_message_is_answered_200_and_does_nothing(cs_robot: Robot) -> None:
    _post(cs_robot, _body())
    count = Message.objects.count()
    status, body = _post(cs_robot, _body())
    assert (status, body["status"]) == (200, "duplicate")
    assert InboundMessage.objects.count() == 1
    assert Message.objects.count() == count


def test_unknown_keys_from_newer_servers_are_accepted_and_ignored(cs_robot: Robot) -> None:
    status, _ = _post(
        cs_robot, _body(senderUserInfo={"userId": "customer-1"}, toRobotId="cs_robot", client={"platform": 5})
    )
    assert status == 200


def test_a_wrong_token_is_refused_and_nothing_is_stored(cs_robot: Robot) -> None:
    status, body = _post(cs_robot, _body(), token="not-the-token")
    assert (status, body) == (403, {"error": "unknown robot or wrong callback token"})
    status, _ = _post(cs_robot, _body(), token="")
    assert status == 403
    assert not InboundMessage.objects.exists()


def test_an_unknown_robot_gets_the_same_answer_as_a_wrong_token(cs_robot: Robot) -> None:
    """No oracle of which robots (shadows: customers who reached a human) exist."""
    response = Client().post("/wfc/callback/nobody?k=x", data=json.dumps(_body()), content_type="application/json")
    wrong = Client().post(
        f"/wfc/callback/{cs_robot.robot_id}?k=x", data=json.dumps(_body()), content_type="application/json"
    )
    assert (response.status_code, response.json()) == (wrong.status_code, wrong.json())
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_body(messageId=1.5e17), "messageId"),
        (_body(messageId="430843814853214338"), "messageId"),
        (_body(sender=7), "sender"),
        (_body(conv=None), "conv"),
        (_body(payload={"searchableContent": "no type"}), "payload.type"),
        (_body(timestamp=True), "timestamp"),
        (_body(conv={"type": 0, "target": "cs_robot", "line": 2**31}), "conv.line"),
        (_body(sender="x" * 65), "sender"),
        ({k: v for k, v in _body().items() if k != "sender"}, "sender"),
        ([1, 2, 3], ""),
    ],
)
def test_malformed_bodies_get_a_400_naming_the_field(cs_robot: Robot, body: object, field: str) -> None:
    status, answer = _post(cs_robot, body)
    assert status == 400
    assert str(answer["error"]).startswith(field)
    assert not InboundMessage.objects.exists()


def test_a_body_that_is_not_json_is_400(cs_robot: Robot) -> None:
    status, answer = _post(cs_robot, None, raw=b"{not json")
    assert (status, answer) == (400, {"error": "body is not JSON"})


def test_an_oversized_body_is_413(cs_robot: Robot) -> None:
    huge = _body(payload={"type": 1, "searchableContent": "x" * 300_000, "persistFlag": 3})
    status, answer = _post(cs_robot, huge)
    assert status == 413
    assert "larger than" in str(answer["error"])


def test_unknown_content_types_are_kept_in_the_transcript(cs_robot: Robot) -> None:
    status, _ = _post(cs_robot, _body(payload={"type": 2999, "content": "custom", "persistFlag": 3}))
    assert status == 200
    assert Message.objects.get(direction=Message.Direction.IN).content_type == 2999


def test_group_messages_are_stored_but_ignored(cs_robot: Robot) -> None:
    status, _ = _post(cs_robot, _body(conv={"type": 1, "target": "group-1", "line": 0}))
    assert status == 200
    assert InboundMessage.objects.get().state == InboundMessage.State.IGNORED
    assert not ServiceSession.objects.exists()


def test_only_post_is_allowed(cs_robot: Robot) -> None:
    response = Client().get(f"/wfc/callback/{cs_robot.robot_id}?k={cs_robot.callback_token}")
    assert response.status_code == 405


def test_a_nul_character_is_refused_not_half_stored(cs_robot: Robot) -> None:
    status, answer = _post(cs_robot, _body(sender="bad\u0000sender"))
    assert (status, answer) == (400, {"error": "body contains a NUL character"})
    response = Client().post("/wfc/callback/a%00b?k=x", data=json.dumps(_body()), content_type="application/json")
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_a_robot_is_looked_up_once_and_a_rotated_token_works_at_once() -> None:
    """The callback's robot lookup is kept in the process; a token that does not match is read again."""
    robot = Robot.objects.create(robot_id="cache_robot", kind=Robot.Kind.CS)

    def accept(token: str, text: str) -> CallbackOutcome:
        return callback_accept(
            robot_id=robot.robot_id, token=token, body=callback_body(robot_id=robot.robot_id, sender="u1", text=text)
        )

    assert accept(robot.callback_token, "一").status == "accepted"
    with CaptureQueriesContext(connection) as counted:
        accept(robot.callback_token, "二")
    assert not any(query["sql"].startswith('SELECT "robots_robot"') for query in counted.captured_queries)

    old_token = robot.callback_token
    robot.callback_token = new_callback_token()  # wfc_setup --rotate-token, in another process
    robot.save(update_fields=["callback_token"])
    assert accept(robot.callback_token, "三").status == "accepted"
    with pytest.raises(CallbackRejected) as refused:
        accept(old_token, "四")
    assert refused.value.status == 403


def _valid_with(fragment: str) -> bytes:
    """A well-formed callback body whose sender is replaced by a raw JSON fragment."""
    return json.dumps(_body()).replace('"customer-1"', fragment, 1).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "body nested deeper than 32 levels"),
        (_valid_with("[" * 100 + "]" * 100), "body nested deeper than 32 levels"),
        (_valid_with("9" * 5000), "body is not JSON"),  # beyond Python's 4,300-digit integers
        (_valid_with('"\\ud800"'), "body contains a lone surrogate (not Unicode text)"),
        (b"\xff\xfe not utf-8", "body is not JSON"),
        (_valid_with("1e400"), "body contains a number that is not finite"),
    ],
    ids=["nested-5000", "nested-100", "huge-integer", "lone-surrogate", "not-utf8", "infinity"],
)
def test_hostile_bodies_get_a_400_with_a_reason_and_nothing_is_stored(
    cs_robot: Robot, data: bytes, reason: str
) -> None:
    url = f"/wfc/callback/{cs_robot.robot_id}?k={cs_robot.callback_token}"
    response = Client().post(url, data=data, content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"error": reason})
    assert not InboundMessage.objects.exists()
