"""Thousands of malformed callbacks: always a clear 4xx (or 200 when well-formed), never a 5xx."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robots.models import InboundMessage
from robots.services import cs_robot_get

pytestmark = pytest.mark.django_db

json_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12,
)
_client_numbers = itertools.count(1)
FIELDS = ("messageId", "sender", "conv", "payload", "toUsers", "timestamp")


def _valid() -> dict[str, Any]:
    return {
        "messageId": 430843814853214338,
        "sender": "fuzz-customer",
        "conv": {"type": 0, "target": "cs_robot", "line": 0},
        "payload": {"type": 1, "searchableContent": "hi", "persistFlag": 3},
        "toUsers": [],
        "timestamp": 1700000000000,
    }


@st.composite
def near_valid_bodies(draw: st.DrawFn) -> object:
    """A valid body with some fields, or fields of its parts, replaced by arbitrary JSON or removed."""
    body: dict[str, Any] = _valid()
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            body.pop(field)
        else:
            body[field] = draw(json_values)
    for part in ("conv", "payload"):
        if isinstance(body.get(part), dict) and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(body[part]) or ["type"]))
            body[part] = {**body[part], key: draw(json_values)}
    body["messageId"] = (
        draw(st.integers(min_value=1, max_value=2**63 - 1))
        if "messageId" in body and draw(st.booleans())
        else body.get("messageId")
    )
    return body


def _post(client: Client, path: str, data: bytes) -> int:
    return client.post(path, data=data, content_type="application/json").status_code


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=near_valid_bodies())
def test_near_valid_bodies_never_cause_a_server_error(body: object) -> None:
    robot = cs_robot_get()
    status = _post(Client(), f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}", json.dumps(body).encode())
    assert status in (200, 400), (status, body)
    failed = InboundMessage.objects.filter(state=InboundMessage.State.FAILED).values_list("last_error", flat=True)
    assert not failed, f"an accepted body crashed its processing: {list(failed)}"


@settings(max_examples=500, deadline=None)
@given(body=json_values)
def test_arbitrary_json_never_causes_a_server_error(body: object) -> None:
    robot = cs_robot_get()
    before = InboundMessage.objects.count()
    status = _post(Client(), f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}", json.dumps(body).encode())
    assert status in (200, 400)
    if status == 400:
        assert InboundMessage.objects.count() == before, "nothing half-written"


@settings(max_examples=500, deadline=None)
@given(raw=st.binary(max_size=300), robot_id=st.text(min_size=1, max_size=20), token=st.text(max_size=40))
def test_garbage_bytes_wrong_robots_and_tokens_get_4xx(raw: bytes, robot_id: str, token: str) -> None:
    robot = cs_robot_get()
    client = Client()
    assert _post(client, f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}", raw) in (200, 400)
    from urllib.parse import quote

    status = _post(client, f"/wfc/callback/{quote(robot_id, safe='')}?k={quote(token, safe='')}", raw)
    assert 400 <= status < 500


@settings(max_examples=300, deadline=None)
@given(token=st.text(max_size=80), score=st.text(max_size=5))
def test_the_rating_form_never_errors_on_forged_links(token: str, score: str) -> None:
    from urllib.parse import quote

    # A client address per example, so the form itself answers, not its throttle.
    address = ".".join(str(part) for part in (10, *next(_client_numbers).to_bytes(3, "big")))
    client = Client(REMOTE_ADDR=address)
    path = f"/rate/{quote(token, safe='') or 'x'}/"
    shown = client.get(path).status_code
    assert shown < 500
    assert shown != 429, "the throttle answered, not the form"
    assert client.post(path, {"score": score}).status_code < 500
