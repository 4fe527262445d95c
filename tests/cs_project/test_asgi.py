"""The ASGI application: callbacks take the lean Django handler, everything else the full one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator

from cs_project.asgi import application
from robots.models import InboundMessage
from robots.services import cs_robot_get

pytestmark = pytest.mark.django_db(transaction=True)


def _callback(message_id: int) -> bytes:
    return json.dumps(
        {
            "messageId": message_id,
            "sender": "asgi-customer",
            "conv": {"type": 0, "target": "cs_robot", "line": 0},
            "payload": {"type": 1, "searchableContent": "你好", "persistFlag": 3},
            "toUsers": [],
            "timestamp": 1700000000000,
        }
    ).encode()


async def _post(path: str, body: bytes) -> Any:
    communicator = HttpCommunicator(
        application, "POST", path, body=body, headers=[(b"content-type", b"application/json"), (b"host", b"localhost")]
    )
    return await communicator.get_response(timeout=10)


async def test_a_callback_is_accepted_without_the_browser_middlewares() -> None:
    robot = await sync_to_async(cs_robot_get)()
    response = await _post(f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}", _callback(430843814853214338))
    assert response["status"] == 200, response
    assert json.loads(response["body"]) == {"status": "accepted", "messageId": "430843814853214338"}
    headers = {name.lower() for name, _value in response["headers"]}
    # LocaleMiddleware, XFrameOptionsMiddleware and SecurityMiddleware would have added these.
    assert not headers & {b"content-language", b"x-frame-options", b"x-content-type-options"}
    stored = await sync_to_async(InboundMessage.objects.get)(message_id=430843814853214338)
    assert stored.state == InboundMessage.State.DONE  # acted on in the request, once stored


async def test_a_wrong_token_is_refused_on_the_lean_path_too() -> None:
    robot = await sync_to_async(cs_robot_get)()
    response = await _post(f"/wfc/callback/{robot.robot_id}?k=wrong", _callback(1))
    assert response["status"] == 403
    assert json.loads(response["body"]) == {"error": "unknown robot or wrong callback token"}
    assert not await sync_to_async(InboundMessage.objects.exists)()


async def test_other_pages_keep_every_middleware() -> None:
    communicator = HttpCommunicator(application, "GET", "/healthz", headers=[(b"host", b"localhost")])
    response: Any = await communicator.get_response(timeout=10)
    headers = {name.lower(): value for name, value in response["headers"]}
    assert headers.get(b"x-frame-options") == b"DENY", (response["status"], headers)
    assert headers[b"content-language"] == b"zh-hans"
