"""Reading request bodies the way the server's Gson binding does, and the wire shapes of §7.

Gson ignores unknown keys, turns missing keys into null/0/false, accepts numbers where strings are
expected (and numeric strings where numbers are), and throws on anything else. A throw becomes
HTTP 500 with no envelope (§1), which ``BadRequestBody`` stands for here.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from wfsandbox.errors import BadRequestBody

JsonObject = dict[str, Any]
_INT_RANGE = (-(2**31), 2**31 - 1)


def parse_body(raw: bytes) -> JsonObject | None:
    """The JSON object of a body; None for an empty body or ``null`` (Gson's ``fromJson`` gives null)."""
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise BadRequestBody("body is not JSON") from None
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequestBody("body is not a JSON object")
    return value


def opt_str(obj: JsonObject, key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise BadRequestBody(f"{key} is not a string")


def get_str(obj: JsonObject, key: str) -> str:
    """A string field, "" when missing (the protobuf-backed fields the server echoes are never null)."""
    return opt_str(obj, key) or ""


def get_int(obj: JsonObject, key: str, *, bits: int = 32) -> int:
    value = obj.get(key)
    if value is None:
        return 0
    if isinstance(value, bool):
        raise BadRequestBody(f"{key} is not a number")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise BadRequestBody(f"{key} is not a number") from None
    if isinstance(value, float):
        if not value.is_integer():
            raise BadRequestBody(f"{key} is not an integer")
        value = int(value)
    if not isinstance(value, int):
        raise BadRequestBody(f"{key} is not a number")
    low, high = _INT_RANGE if bits == 32 else (-(2**63), 2**63 - 1)
    if not low <= value <= high:
        raise BadRequestBody(f"{key} is out of range")
    return value


def opt_obj(obj: JsonObject, key: str) -> JsonObject | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequestBody(f"{key} is not an object")
    return value


def get_str_list(obj: JsonObject, key: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequestBody(f"{key} is not a list")
    return [item for item in (opt_str({"item": v}, "item") for v in value) if item is not None]


@dataclass(frozen=True)
class Conversation:
    type: int
    target: str
    line: int

    @classmethod
    def from_json(cls, obj: JsonObject) -> Conversation:
        return cls(type=get_int(obj, "type"), target=get_str(obj, "target"), line=get_int(obj, "line"))

    def to_json(self) -> JsonObject:
        return {"type": self.type, "target": self.target, "line": self.line}


def normalize_payload(obj: JsonObject) -> JsonObject:
    """§7.2: a MessagePayload as the server stores and echoes it (protobuf round trip).

    Strings come back as "" rather than absent; ``base64edData`` appears only when there are bytes
    (re-encoded canonically; invalid base64 makes Java's decoder throw, hence a 500).
    """
    data = get_str(obj, "base64edData")
    try:
        raw = base64.b64decode(data, validate=True) if data else b""
    except (binascii.Error, ValueError):
        raise BadRequestBody("base64edData is not base64") from None
    payload: JsonObject = {
        "type": get_int(obj, "type"),
        "searchableContent": get_str(obj, "searchableContent"),
        "pushContent": get_str(obj, "pushContent"),
        "pushData": get_str(obj, "pushData"),
        "content": get_str(obj, "content"),
    }
    if raw:
        payload["base64edData"] = base64.b64encode(raw).decode("ascii")
    payload.update(
        {
            "mediaType": get_int(obj, "mediaType"),
            "remoteMediaUrl": get_str(obj, "remoteMediaUrl"),
            "persistFlag": get_int(obj, "persistFlag"),
            "expireDuration": get_int(obj, "expireDuration"),
            "mentionedType": get_int(obj, "mentionedType"),
            "mentionedTarget": get_str_list(obj, "mentionedTarget"),
            "extra": get_str(obj, "extra"),
        }
    )
    return payload


@dataclass(frozen=True)
class SendMessageData:
    """``SendMessageData``: the body of both send APIs; ``sender`` only counts on the admin one."""

    sender: str
    conv: Conversation
    payload: JsonObject
    to_users: list[str]

    @classmethod
    def from_body(cls, body: JsonObject | None) -> SendMessageData | None:
        """The message, or None when ``SendMessageData.isValide`` fails: conv missing, conv.type outside
        0..6, empty target or payload missing (→ 251)."""
        if body is None:
            return None
        conv_obj, payload_obj = opt_obj(body, "conv"), opt_obj(body, "payload")
        to_users = get_str_list(body, "toUsers")
        sender = get_str(body, "sender")
        if conv_obj is None or payload_obj is None:
            return None
        conv = Conversation.from_json(conv_obj)
        if not 0 <= conv.type <= 6 or not conv.target:
            return None
        return cls(sender=sender, conv=conv, payload=normalize_payload(payload_obj), to_users=to_users)


def dumps(value: object) -> str:
    """Compact JSON like Gson's, UTF-8 rather than ASCII escapes."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
