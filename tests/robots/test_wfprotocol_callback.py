"""§5.3: the body the IM server posts to a robot's callback URL, parsed strictly."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest

from robots.wfprotocol import (
    CallbackFormatError,
    CallbackMessage,
    Conversation,
    MessagePayload,
    UserType,
    parse_callback,
)

BIG_ID = 430843814853214338  # > 2^53, as in the reference's example

# The example of §5.3, as text so the big id goes through the JSON parser.
EXAMPLE = """
{"messageId": 430843814853214338,
 "sender": "customerUid",
 "conv": {"type": 0, "target": "cs_robot", "line": 0},
 "payload": {"type": 1, "searchableContent": "hi", "pushContent": "", "pushData": "",
             "content": "", "mediaType": 0, "remoteMediaUrl": "", "persistFlag": 3,
             "expireDuration": 0, "mentionedType": 0, "mentionedTarget": [], "extra": ""},
 "toUsers": [],
 "timestamp": 1700000000000}
"""


def example() -> dict[str, object]:
    body: dict[str, object] = json.loads(EXAMPLE)
    return body


def test_it_parses_the_reference_example():
    message = parse_callback(example())

    assert message == CallbackMessage(
        message_id=BIG_ID,
        sender="customerUid",
        conv=Conversation(type=0, target="cs_robot", line=0),
        payload=MessagePayload(type=1, searchable_content="hi", persist_flag=3),
        to_users=(),
        timestamp=1700000000000,
    )


def test_it_keeps_ids_above_two_to_the_53_exact():
    message = parse_callback(example())

    assert message.message_id == BIG_ID
    assert message.message_id > 2**53
    assert type(message.message_id) is int


def test_it_ignores_keys_that_newer_servers_add_but_the_senders_user_type():
    body = example() | {
        "senderUserInfo": {"userId": "customerUid", "name": "c"},
        "targetUserInfo": {"userId": "cs_robot"},
        "targetGroupInfo": None,
        "toRobotId": "cs_robot",
    }

    assert parse_callback(body) == replace(parse_callback(example()), sender_type=0)
    assert parse_callback(example()).sender_type is None, "a server without callback_with_sender_info"


def test_it_reads_that_the_sender_is_a_robot_and_writes_it_back():
    message = parse_callback(example() | {"senderUserInfo": {"userId": "customerUid", "type": 1}})

    assert message.sender_type == UserType.ROBOT
    assert parse_callback(message.to_wire()) == message


@pytest.mark.parametrize(
    ("sender_info", "field"),
    [("robot", "senderUserInfo"), ({"type": "1"}, "senderUserInfo.type"), ({"type": 2**31}, "senderUserInfo.type")],
)
def test_a_malformed_sender_user_info_names_its_field(sender_info: object, field: str):
    with pytest.raises(CallbackFormatError) as raised:
        parse_callback(example() | {"senderUserInfo": sender_info})

    assert raised.value.field == field


def test_absent_protobuf_strings_and_lists_read_as_empty():
    body = example()
    body["payload"] = {"type": 1001, "persistFlag": 0, "content": "{}"}
    del body["toUsers"]

    message = parse_callback(body)

    assert message.payload.searchable_content == ""
    assert message.payload.base64ed_data == ""
    assert message.to_users == ()


def test_it_keeps_the_client_info_when_the_server_sends_it():
    body = example() | {"client": {"platform": 2, "clientId": "abc"}}

    assert parse_callback(body).client == {"platform": 2, "clientId": "abc"}


def test_a_private_chat_is_answered_to_the_sender_on_the_same_line():
    body = example()
    body["conv"] = {"type": 0, "target": "cs_robot", "line": 3}

    assert parse_callback(body).reply_conversation() == Conversation(type=0, target="customerUid", line=3)


def test_a_group_chat_is_answered_in_the_group():
    body = example()
    body["conv"] = {"type": 1, "target": "group1", "line": 0}

    assert parse_callback(body).reply_conversation() == Conversation(type=1, target="group1", line=0)


def test_it_round_trips_through_the_server_shape():
    message = parse_callback(example() | {"client": {"platform": 2, "clientId": "abc"}})

    assert parse_callback(json.loads(json.dumps(message.to_wire()))) == message


def without(key: str) -> dict[str, object]:
    body = example()
    del body[key]
    return body


def with_value(path: str, value: object) -> dict[str, object]:
    body = copy.deepcopy(example())
    *parents, last = path.split(".")
    node: dict[str, object] = body
    for parent in parents:
        child = node[parent]
        assert isinstance(child, dict)
        node = child
    node[last] = value
    return body


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (with_value("messageId", 4.308438148532143e17), "messageId", "expected an integer, got number"),
        (with_value("messageId", str(BIG_ID)), "messageId", "expected an integer, got string"),
        (with_value("messageId", 2**64), "messageId", "int64"),
        (with_value("timestamp", True), "timestamp", "expected an integer, got boolean"),
        (without("messageId"), "messageId", "is missing"),
        (without("sender"), "sender", "is missing"),
        (with_value("sender", ""), "sender", "is empty"),
        (without("conv"), "conv", "is missing"),
        (without("payload"), "payload", "is missing"),
        (without("timestamp"), "timestamp", "is missing"),
        (with_value("payload", "hi"), "payload", "expected an object, got string"),
        (with_value("payload", [1]), "payload", "expected an object, got array"),
        (with_value("conv.type", False), "conv.type", "expected an integer, got boolean"),
        (with_value("conv.line", 0.0), "conv.line", "expected an integer"),
        (with_value("conv.target", None), "conv.target", "expected a string, got null"),
        (with_value("payload.type", 1.0), "payload.type", "expected an integer"),
        (with_value("payload.persistFlag", True), "payload.persistFlag", "expected an integer, got boolean"),
        (with_value("payload.mentionedTarget", [1]), "payload.mentionedTarget[0]", "expected a string"),
        (with_value("toUsers", "alice"), "toUsers", "expected an array"),
        (with_value("client", "web"), "client", "expected an object"),
    ],
)
def test_it_rejects_a_malformed_body_naming_the_field(body, field, reason):
    with pytest.raises(CallbackFormatError) as caught:
        parse_callback(body)

    assert caught.value.field == field
    assert reason in caught.value.reason


@pytest.mark.parametrize("body", [None, [], "text", 42])
def test_it_rejects_a_body_that_is_not_an_object(body):
    with pytest.raises(CallbackFormatError, match="expected an object"):
        parse_callback(body)


def test_callback_format_errors_are_value_errors():
    with pytest.raises(ValueError, match="sender"):
        parse_callback(without("sender"))
