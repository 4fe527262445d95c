"""Small helpers for the few statements written in SQL (set-based writes of a batch)."""

from __future__ import annotations

import json


def json_param(value: object) -> str:
    """A JSON document for a ``%s::jsonb`` parameter: a batch's rows as one string, however many
    there are (``jsonb_array_elements`` reads them back), instead of thousands of parameters."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
