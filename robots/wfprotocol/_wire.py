"""Strict readers for JSON objects that come off the wire (§5.3, §7).

Every reader names the offending field by its wire path (``payload.mentionedTarget[2]``) and
never quotes the value: results such as ``/admin/user/get_robot_info`` carry secrets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

# The field name of a whole document that is not an object.
DOCUMENT = "(document)"


class WireFormatError(ValueError):
    """A JSON document does not have the shape the reference gives it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"

    def located_in(self, prefix: str) -> str:
        """The field's path inside an enclosing document, e.g. ``result.messageUid``."""
        return prefix if self.field == DOCUMENT else f"{prefix}.{self.field}"


class CallbackFormatError(WireFormatError):
    """A robot callback body (§5.3) or a control message's content (§8) is malformed."""


def loads_strict(document: str | bytes) -> object:
    """``json.loads`` that refuses NaN and Infinity (not JSON). Integers stay exact however
    large: message ids exceed 2^53 (§5.3). Raises ValueError.
    """
    return json.loads(document, parse_constant=_reject_constant)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def json_kind(value: object) -> str:
    """The JSON name of a value's type, for error messages that must not quote the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number with a fraction or exponent"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class WireObject:
    """A JSON object read field by field.

    Optional fields treat an explicit ``null`` like an absent key: the IM server serialises with
    Gson, for which the two are the same (§1, §3). Unknown keys are ignored (§1, §5.3).
    """

    def __init__(self, value: object, path: str = "") -> None:
        if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
            raise WireFormatError(path or DOCUMENT, f"expected an object, got {json_kind(value)}")
        self._fields: Mapping[str, object] = value
        self.path = path

    def _required(self, key: str) -> object:
        if key not in self._fields:
            raise WireFormatError(child_path(self.path, key), "is missing")
        return self._fields[key]

    def _optional(self, key: str) -> object:
        return self._fields.get(key)

    def req_int(self, key: str, *, int64: bool = False) -> int:
        return self._int(key, self._required(key), int64=int64)

    def opt_int(self, key: str, default: int = 0, *, int64: bool = False) -> int:
        value = self._optional(key)
        return default if value is None else self._int(key, value, int64=int64)

    def _int(self, key: str, value: object, *, int64: bool) -> int:
        # bool is an int subclass in Python and 1.0 == 1: neither is an integer on this wire.
        if not isinstance(value, int) or isinstance(value, bool):
            raise WireFormatError(child_path(self.path, key), f"expected an integer, got {json_kind(value)}")
        # Java's long for ids and times, Java's int for everything else (§5.3, §7.2).
        if int64 and not INT64_MIN <= value <= INT64_MAX:
            raise WireFormatError(child_path(self.path, key), "is outside the int64 range")
        if not int64 and not INT32_MIN <= value <= INT32_MAX:
            raise WireFormatError(child_path(self.path, key), "is outside the int32 range")
        return value

    def req_str(self, key: str, *, non_empty: bool = False) -> str:
        value = self._required(key)
        if not isinstance(value, str):
            raise WireFormatError(child_path(self.path, key), f"expected a string, got {json_kind(value)}")
        if non_empty and not value:
            raise WireFormatError(child_path(self.path, key), "is empty")
        return value

    def opt_str(self, key: str) -> str:
        # §5.3: protobuf strings arrive as "", but absent and null read the same.
        value = self._optional(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise WireFormatError(child_path(self.path, key), f"expected a string, got {json_kind(value)}")
        return value

    def opt_str_tuple(self, key: str) -> tuple[str, ...]:
        value = self._optional(key)
        if value is None:
            return ()
        path = child_path(self.path, key)
        if not isinstance(value, list):
            raise WireFormatError(path, f"expected an array, got {json_kind(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise WireFormatError(f"{path}[{index}]", f"expected a string, got {json_kind(item)}")
        return tuple(value)

    def req_value(self, key: str) -> object:
        """A required field of any type, for a nested parser (which checks it)."""
        return self._required(key)

    def opt_dict(self, key: str) -> dict[str, object] | None:
        value = self._optional(key)
        if value is None:
            return None
        return dict(WireObject(value, child_path(self.path, key))._fields)
