"""Content types, persist flags and the payloads a CS server sends (§7.3–§7.5, §8).

The customer-service control types (``CsControl``) are our own: the reference says no official
numbers or schemas exist (§9), so they are defined here and documented for client developers
in ``docs/client-protocol.md``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from enum import IntEnum, StrEnum

from robots.wfprotocol._wire import CallbackFormatError, json_kind, loads_strict
from robots.wfprotocol.messages import MessagePayload


class ContentType(IntEnum):
    """§7.3, the basic types. Robots cannot send 80, 81 or 100–199 (§4.1)."""

    UNKNOWN = 0
    TEXT = 1
    VOICE = 2
    IMAGE = 3
    LOCATION = 4
    FILE = 5
    VIDEO = 6
    STICKER = 7
    LINK = 8
    P_TEXT = 9
    CARD = 10
    COMPOSITE = 11
    RICH_NOTIFICATION = 12
    ARTICLES = 13
    STREAMING_TEXT_GENERATING = 14
    STREAMING_TEXT_GENERATED = 15
    RECALL = 80
    DELETE = 81
    TIP = 90
    TYPING = 91


class PersistFlag(IntEnum):
    """§7.4."""

    NOT_PERSIST = 0  # stored and delivered reliably, reaches robot callbacks, never shown
    PERSIST = 1  # shown, no unread count
    PERSIST_AND_COUNT = 3  # shown, counts as unread
    TRANSPARENT = 4  # best effort, online only, never reaches robot callbacks (§5.1)


class MediaType(IntEnum):
    """§7.2 ``mediaType``."""

    GENERAL = 0
    IMAGE = 1
    VOICE = 2
    VIDEO = 3
    FILE = 4
    PORTRAIT = 5
    FAVORITE = 6
    STICKER = 7
    MOMENTS = 8


class CsControl(IntEnum):
    """Our control messages: custom types above 1000 (§7.3), persistFlag 0 (§8), ``content`` a
    JSON object. 10xx go from the customer to the CS Robot, 11xx from the CS server to the customer.
    """

    ENTER = 1001
    TRANSFER_TO_HUMAN = 1002
    EXIT = 1003
    RATING = 1004
    CANCEL_QUEUE = 1005
    SERVICER_ASSIGNED = 1101
    SESSION_CLOSED = 1102
    RATING_REQUEST = 1103
    QUEUE_POSITION = 1104

    @property
    def from_customer(self) -> bool:
        return self.value < 1100


# §7.5: what the image recipe puts in searchableContent (and what clients show in lists).
IMAGE_SEARCHABLE_TEXT = "[图片]"

# The longest text message, in characters (code points, Python's ``len``), either way: what a
# servicer may send (console, API, IM app), what a bot may answer, and what a customer can send.
# It is the IM server's own limit. im-server (c4421fc9) checks no length when it takes a message
# (SendMessageHandler, the robot API's SendMessageAction; only the MQTT frame is capped, 256 KB).
# On MySQL it stores the content as protobuf bytes in a ``BLOB`` (``_data``, at most 65,535 bytes)
# and the text again in a ``TEXT`` (``_searchable_key``, the same), after delivery
# (DatabaseStore.persistMessage): a longer message reaches the recipient once and is missing from
# the history and from the other devices. 16,000 characters fit in 65,535 bytes even when every one
# takes four bytes in UTF-8 (emoji), with room left for the servicer card in ``extra``. A
# customer's text up to this length is stored whole by the IM server; a longer one may be too
# (65,535 ASCII letters fit), and is kept whole in our transcript.
TEXT_MAX_LENGTH = 16_000

_CONTROL_TYPES = frozenset(int(kind) for kind in CsControl)


def robot_may_send(content_type: int) -> bool:
    """§4.1: the IM server refuses recall, delete and group notifications from robots (251)."""
    return content_type not in (ContentType.RECALL, ContentType.DELETE) and not 100 <= content_type <= 199


def text_payload(text: str, *, extra: str = "") -> MessagePayload:
    """§7.5 text: ``{type:1, persistFlag:3, searchableContent}``."""
    return MessagePayload(
        type=int(ContentType.TEXT),
        searchable_content=text,
        persist_flag=int(PersistFlag.PERSIST_AND_COUNT),
        extra=extra,
    )


def p_text_payload(text: str, *, extra: str = "") -> MessagePayload:
    """§7.3 type 9, "P-text": a text that stock clients show like any other (their text cell) but
    do not count as unread; persistFlag 1, as its client class declares (§7.2)."""
    return MessagePayload(
        type=int(ContentType.P_TEXT),
        searchable_content=text,
        persist_flag=int(PersistFlag.PERSIST),
        extra=extra,
    )


def image_payload(url: str, *, thumbnail_b64: str = "", extra: str = "") -> MessagePayload:
    """§7.5 image; the thumbnail is a base64 JPEG of about 120×120 (quality ≈45%)."""
    if thumbnail_b64:
        try:
            base64.b64decode(thumbnail_b64, validate=True)
        except binascii.Error:
            raise ValueError("thumbnail_b64 is not valid base64 (§7.2 base64edData)") from None
    return MessagePayload(
        type=int(ContentType.IMAGE),
        searchable_content=IMAGE_SEARCHABLE_TEXT,
        base64ed_data=thumbnail_b64,
        media_type=int(MediaType.IMAGE),
        remote_media_url=url,
        persist_flag=int(PersistFlag.PERSIST_AND_COUNT),
        extra=extra,
    )


def file_payload(url: str, *, name: str, size: int, extra: str = "") -> MessagePayload:
    """§7.5 file: the name in ``searchableContent``, the size in bytes as a decimal ``content``."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError("size must be a non-negative number of bytes")
    return MessagePayload(
        type=int(ContentType.FILE),
        searchable_content=name,
        content=str(size),
        media_type=int(MediaType.FILE),
        remote_media_url=url,
        persist_flag=int(PersistFlag.PERSIST_AND_COUNT),
        extra=extra,
    )


def tip_payload(text: str) -> MessagePayload:
    """§7.5 tip (grey bar): ``{type:90, content}``.

    persistFlag 1, not the 4 of the docs' example (§7.3 gap): the stock client class declares 1
    and the flag must match it (§7.2); §8 recommends 1 for visible notices; and 4 would be lost
    for a customer who is offline (§7.4).
    """
    return MessagePayload(type=int(ContentType.TIP), content=text, persist_flag=int(PersistFlag.PERSIST))


def control_payload(kind: CsControl, data: Mapping[str, object]) -> MessagePayload:
    """§8: an invisible, reliable command: persistFlag 0, ``content`` = the JSON object."""
    content = json.dumps(dict(data), ensure_ascii=False, allow_nan=False)
    return MessagePayload(type=int(CsControl(kind)), content=content, persist_flag=int(PersistFlag.NOT_PERSIST))


def control_data(payload: MessagePayload) -> dict[str, object]:
    """The JSON object in a control payload's ``content``; empty content reads as ``{}``.

    Raises ``CallbackFormatError`` (field ``payload.content``) for bad JSON or a non-object.
    """
    if payload.type not in _CONTROL_TYPES:
        raise CallbackFormatError("payload.type", "is not a customer-service control type")
    if not payload.content.strip():
        return {}
    try:
        data = loads_strict(payload.content)
    except ValueError:
        raise CallbackFormatError("payload.content", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise CallbackFormatError("payload.content", f"expected a JSON object, got {json_kind(data)}")
    return data


def servicer_extra(*, name: str, avatar: str, servicer_id: str) -> str:
    """``payload.extra`` of a servicer's message relayed by the CS Robot, so a modified client can
    show the servicer instead of the robot (§9, Blog A "agent display"; schema is ours).
    """
    card = {"cs": {"v": 1, "servicer": {"id": servicer_id, "name": name, "avatar": avatar}}}
    return json.dumps(card, ensure_ascii=False)


def extra_with_message_id(extra: str, message_id: str) -> str:
    """``payload.extra`` carrying our stable id for one message we send (``cs.mid``), the same on
    every try, so that a client can drop a copy that a retried send delivered twice (the robot API
    has no idempotency key; docs/client-protocol.md). An ``extra`` that is text of someone else's
    (not a JSON object, or whose ``cs`` is not an object) is left as it is."""
    data: object = {}
    if extra.strip():
        try:
            data = loads_strict(extra)
        except (ValueError, RecursionError):
            return extra
    if not isinstance(data, dict):
        return extra
    ours = data.get("cs", {"v": 1})
    if not isinstance(ours, dict):
        return extra
    data["cs"] = {**ours, "mid": message_id}
    return json.dumps(data, ensure_ascii=False)


class ServicerNotice(StrEnum):
    """What a notice from a customer's shadow tells the servicer (``cs.notice``; schema is ours)."""

    ASSIGNED = "assigned"
    TRANSFERRED_OUT = "transferred_out"
    CLOSED = "closed"
    RATED = "rated"


# ``cs.echo`` of a copy of a reply the servicer wrote in the CS server's web console.
ECHO_FROM_CONSOLE = "console"


def servicer_echo_extra(
    *, session_id: str, servicer_id: str, name: str, avatar: str, prefix: str, caption: bool = False
) -> str:
    """``payload.extra`` of a copy of a servicer's console reply, sent by the customer's shadow to
    the servicer's own IM account, so that a modified client shows it as theirs (``cs.echo``). A
    text's copy starts with ``prefix`` for stock clients; ``caption``: the text line that names an
    image or a file for stock clients, followed by the copy of that image or file.
    """
    card: dict[str, object] = {
        "v": 1,
        "echo": ECHO_FROM_CONSOLE,
        "session": session_id,
        "servicer": {"id": servicer_id, "name": name, "avatar": avatar},
        "prefix": prefix,
    }
    if caption:
        card["caption"] = True
    return json.dumps({"cs": card}, ensure_ascii=False)


def servicer_notice_extra(*, notice: ServicerNotice, session_id: str, detail: Mapping[str, object]) -> str:
    """``payload.extra`` of a notice to a servicer about one of their sessions (``cs.notice``),
    with what a modified client needs to show it its own way (``detail``)."""
    card = {"v": 1, "notice": ServicerNotice(notice).value, "session": session_id, **detail}
    return json.dumps({"cs": card}, ensure_ascii=False)


def servicer_copy_kind(extra: str) -> str | None:
    """``"echo"`` or ``"notice"`` when ``extra`` marks a message the CS server wrote to a servicer
    itself (``servicer_echo_extra``, ``servicer_notice_extra``), None otherwise: such a message,
    sent back to a shadow (a forward), is never relayed to the customer."""
    if not extra.strip():
        return None
    try:
        data = loads_strict(extra)
    except (ValueError, RecursionError):
        return None
    ours = data.get("cs") if isinstance(data, dict) else None
    if not isinstance(ours, dict):
        return None
    if isinstance(ours.get("echo"), str):
        return "echo"
    if isinstance(ours.get("notice"), str):
        return "notice"
    return None


def extra_without_cs(extra: str) -> str:
    """A customer's ``extra`` as relayed to a servicer: without a ``cs`` object of its own, which
    could pass the message off as the servicer's own console reply or as a notice; anything else
    in it is kept, and an ``extra`` that is not a JSON object is left as it is."""
    if not extra.strip():
        return extra
    try:
        data = loads_strict(extra)
    except (ValueError, RecursionError):
        return extra
    if not isinstance(data, dict) or "cs" not in data:
        return extra
    del data["cs"]
    return json.dumps(data, ensure_ascii=False) if data else ""
