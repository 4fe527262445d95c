"""One policy for JSON that comes in from outside (IM callbacks, the API, the App Server): what
PostgreSQL cannot store, or what no honest client sends, is refused with a reason before anything is
written. A body is parsed with ``json`` (whose own recursion limit turns a pathological nesting into
``RecursionError``, and whose integer limit into ``ValueError``), then checked by ``json_problem``."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # our documents are a few levels deep; far deeper is an attack
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_problem(value: object, depth: int = 0) -> str | None:
    """Why this decoded JSON is refused, or None: U+0000 (PostgreSQL text cannot hold it), a lone
    surrogate (JSON allows ``\\ud800``; UTF-8 cannot encode it), nesting deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate (not Unicode text)"
        return None
    if isinstance(value, dict):
        items: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        if (reason := json_problem(item, depth + 1)) is not None:
            return reason
    return None


def storable_text(text: str) -> str:
    """Free text from outside (a rating's comment) made storable: U+0000 dropped, a lone surrogate
    replaced by U+FFFD. For text worth keeping whole where refusing it would lose more (the rating)."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


class CheckedJSONParser(JSONParser):
    """DRF's JSON parser under the same policy: a 400 with the reason, never a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # DRF answers every ValueError (an integer of 4,300+ digits too) itself
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        if (reason := json_problem(data)) is not None:
            raise ParseError(f"JSON {reason}.")
        return data
