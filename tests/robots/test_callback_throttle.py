"""The IM server's robot callbacks are never throttled: a refused callback is a lost customer message."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from django.test import Client

from robots.models import InboundMessage
from robots.services import cs_robot_get

pytestmark = pytest.mark.django_db


def test_more_callbacks_than_any_limit_from_one_address_are_all_accepted(
    settings: Any, redis_client: redis.Redis
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/hour", "user": "2/hour", "rating_form": "2/hour"},
    }
    robot = cs_robot_get()
    im_server = Client(REMOTE_ADDR="192.0.2.80")  # the IM server posts from its one address
    statuses = []
    for number in range(12):
        body = {
            "messageId": 7_000_000_000 + number,
            "sender": f"customer-{number}",
            "conv": {"type": 0, "target": robot.robot_id, "line": 0},
            "payload": {"type": 1, "searchableContent": "你好", "persistFlag": 3},
            "toUsers": [],
            "timestamp": 1700000000000 + number,
        }
        response = im_server.post(
            f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}",
            data=json.dumps(body),
            content_type="application/json",
        )
        statuses.append((response.status_code, response.json()["status"]))
    assert statuses == [(200, "accepted")] * 12
    assert InboundMessage.objects.count() == 12
