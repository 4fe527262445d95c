"""DRF's JSON parser under the project's input policy (``cs_project.json_input``)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from cs_project.json_input import MAX_DEPTH, json_problem


class CheckedJSONParser(JSONParser):
    """A 400 with the policy's reason, never a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # DRF answers every ValueError (an integer of 4,300+ digits too) itself
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        if (reason := json_problem(data)) is not None:
            raise ParseError(f"JSON {reason}.")
        return data
