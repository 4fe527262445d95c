"""One policy for JSON that comes in from outside (IM callbacks, the console's websocket, the API,
the App Server): what PostgreSQL cannot store, or what no honest client sends, is refused with a
reason before anything is written. ``json_parse`` reads a document under the policy; ``json_problem``
checks one already decoded (DRF's parser, in ``cs_project.api_parsers``).

Plain Python, no Django: the App Server (``robots.appserver``) runs without it and uses this too."""

from __future__ import annotations

import json
import math
import re

MAX_DEPTH = 32  # our documents are a few levels deep; far deeper is an attack
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONRefused(ValueError):
    """A document the policy refuses; ``reason`` completes "the body …" ("is not JSON").
    ``document`` is what was decoded when the text was JSON but broke the policy (else None), for a
    caller that answers to a part of it (the console echoes a clean ``request_id``)."""

    def __init__(self, reason: str, document: object = None) -> None:
        super().__init__(reason)
        self.reason, self.document = reason, document


def json_parse(raw: str | bytes) -> object:
    """The document in ``raw``, or ``JSONRefused``. ``json`` itself turns a pathological nesting
    into ``RecursionError`` and an integer of more than 4,300 digits (or bytes that are not UTF-8)
    into ``ValueError``; whatever it reads is then checked by ``json_problem``."""
    try:
        document = json.loads(raw)
    except RecursionError:
        raise JSONRefused(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise JSONRefused("is not JSON") from None
    if (reason := json_problem(document)) is not None:
        raise JSONRefused(reason, document)
    return document


def json_problem(value: object, depth: int = 0) -> str | None:
    """Why this decoded JSON is refused, or None: U+0000 (PostgreSQL text cannot hold it), a lone
    surrogate (JSON allows ``\\ud800``; UTF-8 cannot encode it), a number that is not finite (``NaN``,
    ``Infinity`` and ``1e400`` read as floats JSON cannot write back and PostgreSQL's jsonb refuses),
    nesting deeper than MAX_DEPTH."""
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
    if isinstance(value, float):
        return None if math.isfinite(value) else "contains a number that is not finite"
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
