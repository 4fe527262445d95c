"""Hypothesis against the App Server (robots/appserver/server.py): correctly signed bodies that are
arbitrary bytes, arbitrary JSON, or valid requests with fields replaced by hostile values. Never a
5xx; a refused body changes nothing on the IM server (the sandbox's users, robots, friendships)."""

from __future__ import annotations

import itertools
import json
import sqlite3
from typing import TYPE_CHECKING, Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_project.json_input import JSONRefused, json_parse
from robots.appserver.auth import signed_headers
from tests.support.appserver import APP_SERVER_KEY
from tests.support.hostile_json import hostile_values, json_values, nested_text

if TYPE_CHECKING:
    from tests.support.sandbox import Sandbox

ROUTES = ("/cs/robot/upsert", "/cs/robot/account", "/cs/robot/info", "/cs/user/info", "/cs/friend")
_numbers = itertools.count(1)


def _valid(path: str) -> dict[str, Any]:
    """A request the App Server carries out, for a robot (and a user) the IM server has not seen."""
    robot_id = f"fz{next(_numbers)}_csshadow"
    return {
        "/cs/robot/upsert": {
            "robot_id": robot_id,
            "display_name": "顾客",
            "secret": "s" * 20,
            "callback": "http://x/cb",
        },
        "/cs/robot/account": {
            "robot_id": robot_id,
            "display_name": "在线客服",
            "secret": "",
            "callback": "http://x/cb",
        },
        "/cs/robot/info": {"robot_id": robot_id},
        "/cs/user/info": {"user_id": f"fz-user-{next(_numbers)}"},
        "/cs/friend": {"robot_id": robot_id, "user_id": f"fz-user-{next(_numbers)}"},
    }[path]


@st.composite
def near_valid_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(ROUTES))
    body = _valid(path)
    for field in draw(st.lists(st.sampled_from(sorted(body)), min_size=1, max_size=2, unique=True)):
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            body.pop(field)
        else:
            body[field] = draw(hostile_values)
    return path, json.dumps(body).encode()


raw_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=1, max_value=20_000).map(lambda depth: nested_text(depth).encode()),
    st.integers(min_value=1, max_value=2_000).map(
        lambda depth: ('{"user_id": "someone", "extra": ' + nested_text(depth) + "}").encode()
    ),
)


def _im_state(sandbox: Sandbox) -> list[tuple[object, ...]]:
    """Every user, robot and friendship the sandbox stores (its own SQLite file, read-only)."""
    with sqlite3.connect(f"file:{sandbox.db_path}?mode=ro", uri=True) as db:
        return [
            *db.execute("SELECT * FROM users ORDER BY uid"),
            *db.execute("SELECT * FROM robots ORDER BY uid"),
            *db.execute("SELECT * FROM friends ORDER BY user_id, friend_uid"),
        ]


def _signed_post(app_server: str, path: str, data: bytes) -> requests.Response:
    headers = signed_headers(APP_SERVER_KEY, path=path, body=data)
    return requests.post(app_server + path, data=data, headers=headers, timeout=10)


def _policy_refuses(data: bytes) -> bool:
    try:
        json_parse(data)
    except JSONRefused:
        return True
    return False


def _answered_without_a_server_error(app_server: str, sandbox: Sandbox, path: str, data: bytes) -> None:
    before = _im_state(sandbox)
    answer = _signed_post(app_server, path, data)
    assert answer.status_code < 500, (answer.status_code, answer.text[:300], data[:300])
    if answer.status_code >= 400:
        assert answer.json()["error"], "a refusal says why"
        assert answer.status_code != 401, "signed correctly"
        assert _im_state(sandbox) == before, f"a refused body changed the IM server: {data[:300]!r}"
    if _policy_refuses(data):
        assert answer.status_code in (400, 413), "the project's input policy holds here too"


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=near_valid_requests())
def test_near_valid_requests_never_cause_a_server_error(
    app_server: str, sandbox: Sandbox, request: tuple[str, bytes]
) -> None:
    _answered_without_a_server_error(app_server, sandbox, *request)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(ROUTES), data=raw_bodies)
def test_arbitrary_signed_bodies_never_cause_a_server_error(
    app_server: str, sandbox: Sandbox, path: str, data: bytes
) -> None:
    _answered_without_a_server_error(app_server, sandbox, path, data)
