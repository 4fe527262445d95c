"""Hypothesis against the console's REST API (sessions_app/console/apis.py): the endpoints that take a
body (canned replies create, update and delete, handling a left message) with valid bodies whose
fields are replaced by hostile values, arbitrary bytes and JSON under several content types, and
the listing endpoints with arbitrary query strings. Never a 5xx; a 4xx carries a JSON reason; a
refused request stores nothing; a body the project's JSON policy refuses is a 400."""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings as SettingsWrapper

from cs_project.json_input import JSONRefused, json_parse
from seats.models import Seat
from sessions_app.models import CannedReply, LeftMessage, ServiceSession
from tests.factories import customer_make, message_make, session_make
from tests.support.hostile_json import hostile_values, json_values, nested_text

pytestmark = pytest.mark.django_db

CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=fuzz",
    "text/plain",
)
_numbers = itertools.count(1)


class Scene:
    """Rows every example works on: the servicer's own reply, a global one, another servicer's, a
    left message nobody handled, a session of the servicer's with a message."""

    def __init__(self, seat: Seat, other: Seat) -> None:
        self.own = CannedReply.objects.create(owner=seat, shortcut=f"own{next(_numbers)}", text="您好")
        self.global_reply = CannedReply.objects.create(shortcut=f"all{next(_numbers)}", text="欢迎")
        self.others = CannedReply.objects.create(owner=other, shortcut=f"bob{next(_numbers)}", text="Bob 的")
        self.left = LeftMessage.objects.create(customer=customer_make(), text="请回电")
        self.session: ServiceSession = session_make(seat=seat)
        message_make(self.session, "我的订单")

    def paths(self) -> dict[str, str]:
        return {
            "create": "/api/canned-replies/create/",
            "update": f"/api/canned-replies/{self.own.pk}/update/",
            "update_global": f"/api/canned-replies/{self.global_reply.pk}/update/",
            "update_others": f"/api/canned-replies/{self.others.pk}/update/",
            "delete_global": f"/api/canned-replies/{self.global_reply.pk}/delete/",
            "delete_others": f"/api/canned-replies/{self.others.pk}/delete/",
            "delete_missing": f"/api/canned-replies/{2**70}/delete/",
            "handle": f"/api/left-messages/{self.left.pk}/handle/",
            "handle_missing": f"/api/left-messages/{2**63 - 1}/handle/",
        }


def _stored() -> list[tuple[Any, ...]]:
    """What a refused request must leave as it was: the canned replies and the left messages."""
    return [
        *CannedReply.objects.order_by("pk").values_list("pk", "owner_id", "shortcut", "text"),
        *LeftMessage.objects.order_by("pk").values_list("pk", "handled_by_id", "handled_at"),
    ]


def _policy_refuses(data: bytes) -> bool:
    try:
        json_parse(data)
    except JSONRefused:
        return True
    return False


@pytest.fixture(autouse=True)
def _unthrottled(settings: SettingsWrapper) -> None:
    """The endpoints answer, not the per-login throttle (600 a minute; cs_project.throttling)."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "1000000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def client(servicer_seat: Seat) -> Client:
    logged_in = Client()
    logged_in.force_login(servicer_seat.user)
    return logged_in


def _post_is_answered(client: Client, endpoint: str, path: str, data: bytes, content_type: str) -> None:
    before = _stored()
    response = client.post(path, data=data, content_type=content_type)
    assert response.status_code < 500, (response.status_code, path, data[:300])
    if response.status_code >= 400:
        reason = response.json()
        assert isinstance(reason, dict), reason
        assert reason, "a refusal says why"
        assert _stored() == before, f"a refused request stored something: {path} {data[:300]!r}"
    if endpoint in READS_A_BODY and content_type.startswith("application/json") and _policy_refuses(data):
        assert response.status_code == 400, "the project's JSON policy"


# Deleting and handling take no body: whatever is sent is never read.
READS_A_BODY = frozenset({"create", "update", "update_global", "update_others"})
ENDPOINTS = (
    "create",
    "update",
    "update_global",
    "update_others",
    "delete_global",
    "delete_others",
    "delete_missing",
    "handle",
    "handle_missing",
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    fields=st.lists(st.sampled_from(["shortcut", "text", "extra"]), min_size=1, max_size=2, unique=True),
    replacements=st.lists(st.one_of(st.none(), hostile_values), min_size=2, max_size=2),
)
def test_near_valid_bodies_never_cause_a_server_error(
    servicer_seat: Seat,
    other_servicer_seat: Seat,
    client: Client,
    endpoint: str,
    fields: list[str],
    replacements: list[object],
) -> None:
    scene = Scene(servicer_seat, other_servicer_seat)
    body: dict[str, Any] = {"shortcut": f"tk{next(_numbers)}", "text": "退款将在 3 个工作日内原路退回。"}
    for field, value in zip(fields, replacements, strict=False):
        if value is None:
            body.pop(field, None)
        else:
            body[field] = value
    _post_is_answered(client, endpoint, scene.paths()[endpoint], json.dumps(body).encode(), "application/json")


raw_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=1, max_value=20_000).map(lambda depth: nested_text(depth).encode()),
    st.integers(min_value=1, max_value=2_000).map(
        lambda depth: ('{"shortcut": "tk", "text": ' + nested_text(depth) + "}").encode()
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), data=raw_bodies, content_type=st.sampled_from(CONTENT_TYPES))
def test_arbitrary_bodies_of_any_content_type_never_cause_a_server_error(
    servicer_seat: Seat, other_servicer_seat: Seat, client: Client, endpoint: str, data: bytes, content_type: str
) -> None:
    scene = Scene(servicer_seat, other_servicer_seat)
    _post_is_answered(client, endpoint, scene.paths()[endpoint], data, content_type)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    listing=st.sampled_from(["messages", "left", "history", "canned", "targets", "sessions"]),
    params=st.dictionaries(
        st.sampled_from(["after_seq", "limit", "page", "page_size", "x"]),
        st.binary(max_size=30) | st.sampled_from([b"-1", b"0", b"501", b"9" * 30, b"1e400", b"NaN", b"\x00"]),
        max_size=3,
    ),
)
def test_listings_never_cause_a_server_error_whatever_the_query_string(
    servicer_seat: Seat, other_servicer_seat: Seat, client: Client, listing: str, params: dict[str, bytes]
) -> None:
    scene = Scene(servicer_seat, other_servicer_seat)
    path = {
        "messages": f"/api/sessions/{scene.session.pk}/messages/",
        "left": "/api/left-messages/",
        "history": f"/api/customers/{scene.session.customer_id}/history/",
        "canned": "/api/canned-replies/",
        "targets": "/api/seats/transfer-targets/",
        "sessions": "/api/console/sessions/",
    }[listing]
    query = "&".join(f"{name}={quote_from_bytes(value)}" for name, value in params.items())
    response = client.get(f"{path}?{query}")
    assert response.status_code < 500, (response.status_code, path, query)
    if response.status_code >= 400:
        assert response.json(), "a refusal says why"
