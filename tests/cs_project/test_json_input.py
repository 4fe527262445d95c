"""The project's policy for JSON from outside (cs_project/json_input.py), through the API's parser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from cs_project.json_input import MAX_DEPTH, JSONRefused, json_parse, json_problem
from seats.models import Seat
from sessions_app.models import CannedReply

pytestmark = pytest.mark.django_db

CREATE = "/api/canned-replies/create/"


def test_the_policy_names_what_is_wrong() -> None:
    assert json_problem({"a": ["fine", 1, None, {"b": "好"}]}) is None
    assert json_problem({"a": "x\x00"}) == "contains a NUL character"
    assert json_problem(["\ud800"]) == "contains a lone surrogate (not Unicode text)"
    assert json_problem({"\x00": 1}) == "contains a NUL character", "keys too"
    assert json_problem([1.5, float("inf")]) == "contains a number that is not finite"
    assert json_problem({"a": float("nan")}) == "contains a number that is not finite"
    nested: object = "leaf"
    for _ in range(MAX_DEPTH + 1):
        nested = [nested]
    assert json_problem(nested) == f"nested deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("[" * 5000 + "]" * 5000, f"JSON nested deeper than {MAX_DEPTH} levels."),
        ('{"shortcut": "a", "text": ' + "[" * 100 + "]" * 100 + "}", f"JSON nested deeper than {MAX_DEPTH} levels."),
        ('{"shortcut": "a", "text": "\\u0000"}', "JSON contains a NUL character."),
        ('{"shortcut": "a", "text": "\\udc00"}', "JSON contains a lone surrogate (not Unicode text)."),
        ('{"shortcut": "a", "text": ' + "7" * 5000 + "}", "JSON parse error - Exceeds the limit (4300 digits)"),
        ('{"shortcut": "a", "text": 1e400}', "JSON contains a number that is not finite."),
    ],
    ids=["nested-5000", "nested-100", "nul", "lone-surrogate", "huge-integer", "infinity"],
)
def test_the_api_answers_hostile_json_with_a_400_and_stores_nothing(
    servicer_seat: Seat, body: str, detail: str
) -> None:
    client = Client()
    client.force_login(servicer_seat.user)
    response = client.post(CREATE, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert not CannedReply.objects.exists()


def test_well_formed_json_still_works(supervisor: User, servicer_seat: Seat) -> None:
    client = Client()
    client.force_login(servicer_seat.user)
    response = client.post(CREATE, data={"shortcut": "tk", "text": "退款说明"}, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe{}", "is not JSON"),
        (b"{not json", "is not JSON"),
        (b"[" * 5000 + b"]" * 5000, f"nested deeper than {MAX_DEPTH} levels"),
        ('{"a": NaN}', "contains a number that is not finite"),
        ('["\\ud800"]', "contains a lone surrogate (not Unicode text)"),
    ],
    ids=["not-utf8", "not-json", "nested-5000", "nan", "lone-surrogate"],
)
def test_json_parse_reads_under_the_policy_or_says_why_not(raw: str | bytes, reason: str) -> None:
    """The one reader for callbacks, the console's frames and the App Server's bodies."""
    with pytest.raises(JSONRefused) as refused:
        json_parse(raw)
    assert refused.value.reason == reason
    assert json_parse(b'{"a": [1, "\xe5\xa5\xbd"]}') == {"a": [1, "好"]}
