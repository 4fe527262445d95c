"""§7 data model and §7.5/§8 payload builders: wire names, round trips, strict parsing."""

from __future__ import annotations

import json
import pickle

import pytest

from robots.wfprotocol import (
    CallbackFormatError,
    ContentType,
    Conversation,
    CsControl,
    MessagePayload,
    PersistFlag,
    RobotInfo,
    SendResult,
    ServicerNotice,
    UserInfo,
    WireFormatError,
    control_data,
    control_payload,
    extra_with_message_id,
    extra_without_cs,
    file_payload,
    image_payload,
    p_text_payload,
    servicer_copy_kind,
    servicer_echo_extra,
    servicer_extra,
    servicer_notice_extra,
    text_payload,
    tip_payload,
)

BIG_ID = 2**53 + 12345  # §5.3: message ids exceed 2^53


def full_payload() -> MessagePayload:
    return MessagePayload(
        type=1,
        searchable_content="你好",
        push_content="push",
        push_data="pd",
        content="c",
        base64ed_data="AAEC",
        media_type=1,
        remote_media_url="https://oss.example.com/a.jpg",
        persist_flag=3,
        expire_duration=60,
        mentioned_type=1,
        mentioned_target=("u1", "u2"),
        extra='{"k":1}',
    )


def test_payload_wire_names_are_those_of_the_server_api():
    assert full_payload().to_wire() == {
        "type": 1,
        "searchableContent": "你好",
        "pushContent": "push",
        "pushData": "pd",
        "content": "c",
        "base64edData": "AAEC",
        "mediaType": 1,
        "remoteMediaUrl": "https://oss.example.com/a.jpg",
        "persistFlag": 3,
        "expireDuration": 60,
        "mentionedType": 1,
        "mentionedTarget": ["u1", "u2"],
        "extra": '{"k":1}',
    }


def test_payload_round_trips_through_both_wire_forms_and_json():
    payload = full_payload()

    assert MessagePayload.from_wire(json.loads(json.dumps(payload.to_wire()))) == payload
    assert MessagePayload.from_wire(json.loads(json.dumps(payload.to_callback_wire()))) == payload


def test_compact_wire_form_omits_empty_fields_but_keeps_type_and_persist_flag():
    assert MessagePayload(type=1001, persist_flag=0).to_wire() == {"type": 1001, "persistFlag": 0}


def test_callback_wire_form_has_every_protobuf_string_and_no_empty_binary_data():
    wire = MessagePayload(type=1, searchable_content="hi").to_callback_wire()

    assert wire["pushContent"] == ""
    assert wire["extra"] == ""
    assert wire["mentionedTarget"] == []
    assert "base64edData" not in wire


def test_absent_fields_read_as_the_server_reads_them():
    payload = MessagePayload.from_wire({"type": 1, "searchableContent": "hi"})

    assert payload.persist_flag == 0  # Gson's missing int, not the constructor default
    assert payload.content == ""
    assert payload.mentioned_target == ()


def test_null_optional_fields_read_as_absent():
    payload = MessagePayload.from_wire({"type": 1, "content": None, "mentionedTarget": None, "persistFlag": None})

    assert (payload.content, payload.mentioned_target, payload.persist_flag) == ("", (), 0)


@pytest.mark.parametrize(
    ("wire", "field"),
    [
        ({"type": 1.0}, "payload.type"),
        ({"type": True}, "payload.type"),
        ({"type": "1"}, "payload.type"),
        ({}, "payload.type"),
        ({"type": 1, "persistFlag": False}, "payload.persistFlag"),
        ({"type": 1, "searchableContent": 5}, "payload.searchableContent"),
        ({"type": 1, "mentionedTarget": "u1"}, "payload.mentionedTarget"),
        ({"type": 1, "mentionedTarget": ["u1", 2]}, "payload.mentionedTarget[1]"),
    ],
)
def test_payload_parsing_rejects_wrong_types_naming_the_field(wire, field):
    with pytest.raises(WireFormatError) as caught:
        MessagePayload.from_wire(wire)

    assert caught.value.field == field


@pytest.mark.parametrize("wire", [[], "text", None, 1])
def test_payload_parsing_rejects_a_non_object(wire):
    with pytest.raises(WireFormatError) as caught:
        MessagePayload.from_wire(wire)

    assert caught.value.field == "payload"
    assert "expected an object" in caught.value.reason


def test_wire_format_errors_never_quote_the_value():
    with pytest.raises(WireFormatError) as caught:
        MessagePayload.from_wire({"type": "top-secret-value"})

    assert "top-secret-value" not in str(caught.value)
    assert str(caught.value) == "payload.type: expected an integer, got string"


def test_payload_parsing_ignores_unknown_keys():
    assert MessagePayload.from_wire(
        {"type": 1, "persistFlag": 3, "binaryContent": "x", "future": {}}
    ) == MessagePayload(type=1)


def test_conversation_round_trips_and_defaults_the_line_to_zero():
    conv = Conversation(type=0, target="alice", line=2)

    assert Conversation.from_wire(conv.to_wire()) == conv
    assert Conversation.from_wire({"type": 1, "target": "group"}) == Conversation(type=1, target="group", line=0)


def test_conversation_requires_a_target():
    with pytest.raises(WireFormatError) as caught:
        Conversation.from_wire({"type": 0, "target": ""})

    assert caught.value.field == "conv.target"


def test_send_result_keeps_big_ids_exact():
    result = SendResult.from_wire(json.loads(f'{{"messageUid": {BIG_ID}, "timestamp": 1700000000000}}'))

    assert result == SendResult(message_uid=BIG_ID, timestamp=1700000000000)
    assert type(result.message_uid) is int


def test_send_result_rejects_a_float_uid():
    with pytest.raises(WireFormatError) as caught:
        SendResult.from_wire(json.loads('{"messageUid": 4.3e17, "timestamp": 1}'))

    assert caught.value.field == "messageUid"


def test_send_result_rejects_an_id_beyond_int64():
    with pytest.raises(WireFormatError, match="int64"):
        SendResult.from_wire({"messageUid": 2**63, "timestamp": 1})


def test_text_payload_follows_the_recipe():
    assert text_payload("您好", extra="x").to_wire() == {
        "type": 1,
        "searchableContent": "您好",
        "persistFlag": 3,
        "extra": "x",
    }


def test_builders_produce_plain_ints_on_the_wire():
    wire = text_payload("hi").to_wire()

    assert type(wire["type"]) is int
    assert type(wire["persistFlag"]) is int


def test_image_payload_follows_the_recipe():
    assert image_payload("https://oss/a.jpg", thumbnail_b64="/9j/4AAQ").to_wire() == {
        "type": 3,
        "searchableContent": "[图片]",
        "base64edData": "/9j/4AAQ",
        "mediaType": 1,
        "remoteMediaUrl": "https://oss/a.jpg",
        "persistFlag": 3,
    }


def test_image_payload_refuses_a_thumbnail_that_is_not_base64():
    with pytest.raises(ValueError, match="base64"):
        image_payload("https://oss/a.jpg", thumbnail_b64="not base64!")


def test_file_payload_puts_the_name_in_searchable_content_and_the_size_in_content():
    assert file_payload("https://oss/r.pdf", name="报告.pdf", size=2048).to_wire() == {
        "type": 5,
        "searchableContent": "报告.pdf",
        "content": "2048",
        "mediaType": 4,
        "remoteMediaUrl": "https://oss/r.pdf",
        "persistFlag": 3,
    }


@pytest.mark.parametrize("size", [-1, True, 1.5])
def test_file_payload_refuses_a_size_that_is_not_a_byte_count(size):
    with pytest.raises(ValueError, match="size"):
        file_payload("https://oss/r.pdf", name="r.pdf", size=size)


def test_tip_payload_is_a_visible_notice_without_unread_count():
    assert tip_payload("客服已接入").to_wire() == {"type": 90, "content": "客服已接入", "persistFlag": 1}


def test_control_payload_is_invisible_and_carries_json_without_escaping_chinese():
    payload = control_payload(CsControl.RATING, {"score": 5, "comment": "很好"})

    assert payload.to_wire() == {"type": 1004, "content": '{"score": 5, "comment": "很好"}', "persistFlag": 0}
    assert control_data(payload) == {"score": 5, "comment": "很好"}


def test_control_payload_refuses_nan():
    with pytest.raises(ValueError, match="JSON"):
        control_payload(CsControl.RATING, {"score": float("nan")})


def test_control_data_reads_empty_content_as_an_empty_object():
    assert control_data(MessagePayload(type=CsControl.ENTER, persist_flag=0)) == {}


@pytest.mark.parametrize("content", ["{bad", "[1, 2]", '"text"', "NaN", '{"score": NaN}'])
def test_control_data_rejects_content_that_is_not_a_json_object(content):
    with pytest.raises(CallbackFormatError) as caught:
        control_data(MessagePayload(type=CsControl.RATING, content=content, persist_flag=0))

    assert caught.value.field == "payload.content"


def test_control_data_rejects_a_payload_that_is_not_a_control_type():
    with pytest.raises(CallbackFormatError) as caught:
        control_data(text_payload("{}"))

    assert caught.value.field == "payload.type"


def test_control_types_are_the_documented_numbers():
    assert {kind.name: int(kind) for kind in CsControl} == {
        "ENTER": 1001,
        "TRANSFER_TO_HUMAN": 1002,
        "EXIT": 1003,
        "RATING": 1004,
        "CANCEL_QUEUE": 1005,
        "SERVICER_ASSIGNED": 1101,
        "SESSION_CLOSED": 1102,
        "RATING_REQUEST": 1103,
        "QUEUE_POSITION": 1104,
    }
    assert all(kind > 1000 for kind in CsControl)
    assert CsControl.RATING.from_customer
    assert not CsControl.RATING_REQUEST.from_customer


def test_basic_content_types_and_persist_flags_have_the_reference_numbers():
    assert (ContentType.TEXT, ContentType.IMAGE, ContentType.FILE, ContentType.TIP, ContentType.TYPING) == (
        1,
        3,
        5,
        90,
        91,
    )
    assert [int(flag) for flag in PersistFlag] == [0, 1, 3, 4]


def test_servicer_extra_is_the_documented_json():
    extra = servicer_extra(name="小王", avatar="https://cs/a.png", servicer_id="7")

    assert json.loads(extra) == {"cs": {"v": 1, "servicer": {"id": "7", "name": "小王", "avatar": "https://cs/a.png"}}}
    assert "小王" in extra


USER_WIRE = {
    "userId": "u1",
    "name": "alice",
    "displayName": "Alice",
    "portrait": "https://p",
    "gender": 1,
    "mobile": "",
    "email": "a@example.com",
    "address": "",
    "company": "",
    "social": "",
    "extra": "",
    "type": 0,
    "updateDt": 1700000000000,
    "deleted": 0,
}


def test_user_info_reads_the_user_object():
    user = UserInfo.from_wire(USER_WIRE)

    assert user == UserInfo(
        user_id="u1",
        name="alice",
        display_name="Alice",
        portrait="https://p",
        gender=1,
        email="a@example.com",
        update_dt=1700000000000,
    )


def test_user_info_requires_the_user_id_and_name():
    with pytest.raises(WireFormatError) as caught:
        UserInfo.from_wire({"userId": "u1"})

    assert caught.value.field == "name"


def test_robot_info_reads_the_robot_fields_and_keeps_the_secret_out_of_its_repr():
    robot = RobotInfo.from_wire(
        {**USER_WIRE, "type": 1, "owner": "o", "secret": "hunter2-secret", "callback": "https://cb", "robotExtra": "re"}
    )

    assert (robot.owner, robot.secret, robot.callback, robot.robot_extra, robot.type) == (
        "o",
        "hunter2-secret",
        "https://cb",
        "re",
        1,
    )
    assert isinstance(robot, UserInfo)
    assert "hunter2-secret" not in repr(robot)


def test_wire_format_errors_survive_pickling():
    error = CallbackFormatError("payload.type", "is missing")

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)

    assert (type(copy), copy.field, copy.reason) == (CallbackFormatError, "payload.type", "is missing")


def test_every_message_we_send_carries_its_stable_id_in_extra() -> None:
    card = json.loads(extra_with_message_id(servicer_extra(name="小王", avatar="", servicer_id="7"), "42"))
    assert card["cs"]["mid"] == "42"
    assert card["cs"]["servicer"]["name"] == "小王", "the servicer card is kept"
    assert json.loads(extra_with_message_id("", "43")) == {"cs": {"v": 1, "mid": "43"}}
    assert json.loads(extra_with_message_id('{"app": 1}', "44")) == {"app": 1, "cs": {"v": 1, "mid": "44"}}


@pytest.mark.parametrize("extra", ["plain text", "[1, 2]", '{"cs": "theirs"}', "[" * 5000])
def test_an_extra_of_someone_elses_is_sent_as_it_is(extra: str) -> None:
    assert extra_with_message_id(extra, "45") == extra


def test_p_text_is_shown_without_counting_as_unread() -> None:
    assert p_text_payload("抄送").to_wire() == {"type": 9, "searchableContent": "抄送", "persistFlag": 1}


def test_a_console_reply_s_copy_says_so_in_extra() -> None:
    extra = servicer_echo_extra(session_id="12", servicer_id="7", name="小王", avatar="", prefix="【我（控制台）】")
    assert json.loads(extra) == {
        "cs": {
            "v": 1,
            "echo": "console",
            "session": "12",
            "servicer": {"id": "7", "name": "小王", "avatar": ""},
            "prefix": "【我（控制台）】",
        }
    }
    caption = servicer_echo_extra(session_id="12", servicer_id="7", name="小王", avatar="", prefix="", caption=True)
    assert json.loads(caption)["cs"]["caption"] is True
    assert servicer_copy_kind(extra_with_message_id(extra, "50")) == "echo", "the stable id does not hide the mark"


def test_a_notice_to_a_servicer_carries_its_kind_session_and_detail() -> None:
    extra = servicer_notice_extra(notice=ServicerNotice.RATED, session_id="12", detail={"score": 5, "comment": "好"})
    assert json.loads(extra) == {"cs": {"v": 1, "notice": "rated", "session": "12", "score": 5, "comment": "好"}}
    assert servicer_copy_kind(extra) == "notice"


@pytest.mark.parametrize(
    "extra",
    ["", "plain", "[1]", '{"cs": "x"}', '{"cs": {"v": 1, "mid": "3"}}', '{"cs": {"echo": 1}}', "{" * 5000],
)
def test_other_extras_are_no_copy_of_ours(extra: str) -> None:
    assert servicer_copy_kind(extra) is None


@pytest.mark.parametrize(
    ("extra", "relayed"),
    [
        ("", ""),
        ("plain", "plain"),
        ('{"cs": {"echo": "console"}}', ""),
        ('{"app": 1, "cs": {"notice": "closed"}}', '{"app": 1}'),
        ('{"\\u0063s": {"echo": "console"}}', ""),
        ('{"app": 1}', '{"app": 1}'),
        ("{" * 5000, "{" * 5000),
    ],
)
def test_a_customer_s_own_cs_object_is_not_relayed_to_the_servicer(extra: str, relayed: str) -> None:
    assert extra_without_cs(extra) == relayed
