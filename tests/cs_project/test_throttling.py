"""API throttles: counted in the real Redis cache, per login or per client address, proxies respected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cs_project.api import ApiView
from cs_project.throttling import client_address, rate_parse, throttle_hit
from robots.services import cs_robot_get
from seats.models import Seat


class _PublicPingApi(APIView):
    """An endpoint open to anonymous clients, as the project's throttles see one."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


# This module is also the URLconf of the anonymous tests: the project's URLs plus the endpoint above.
urlpatterns = [path("ping/", _PublicPingApi.as_view()), path("", include("cs_project.urls"))]


@pytest.fixture
def low_rates(settings: Any, redis_client: redis.Redis) -> None:
    # Hourly windows: a burst of a few requests never straddles a window's end in practice.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/hour", "user": "5/hour", "rating_form": "3/hour"},
    }


def test_the_client_is_remote_addr_when_no_proxy_is_trusted(settings: Any) -> None:
    settings.CS_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_address(request) == "198.51.100.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "client"),
    [
        (1, "203.0.113.1", "203.0.113.1"),
        (1, "10.6.6.6, 203.0.113.1", "203.0.113.1"),  # the client's own entry comes first and is ignored
        (2, "10.6.6.6, 203.0.113.1, 192.0.2.50", "203.0.113.1"),
        (2, "203.0.113.1", "203.0.113.1"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "not-an-address", "127.0.0.1"),
        (1, "", "127.0.0.1"),
    ],
)
def test_behind_proxies_the_client_is_the_entry_the_outermost_proxy_wrote(
    settings: Any, proxies: int, forwarded: str, client: str
) -> None:
    settings.CS_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == client


def test_rates_are_read_in_drfs_format() -> None:
    assert rate_parse("30/min") == (30, 60)
    assert rate_parse("5/s") == (5, 1)
    assert rate_parse("2/hour") == (2, 3600)
    assert rate_parse("1000/day") == (1000, 86400)


def test_the_counter_is_shared_through_redis(redis_client: redis.Redis) -> None:
    assert [throttle_hit(key="throttle_test_x", rate="2/hour") for _ in range(2)] == [None, None]
    wait = throttle_hit(key="throttle_test_x", rate="2/hour")
    assert wait is not None
    assert 1 <= wait <= 3600
    assert any(b"throttle_test_x" in key for key in redis_client.keys("*")), "the count lives in Redis"
    assert throttle_hit(key="throttle_test_y", rate="2/hour") is None


@pytest.mark.django_db
@pytest.mark.usefixtures("low_rates")
def test_a_servicers_burst_on_an_api_endpoint_gets_429_after_the_limit(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    client = Client(REMOTE_ADDR="203.0.113.10")
    client.force_login(servicer_seat.user)
    statuses = [client.get("/api/seats/transfer-targets/").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    refused = client.get("/api/seats/transfer-targets/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "detail" in refused.json()
    # Another servicer, from another address, is not affected.
    other = Client(REMOTE_ADDR="203.0.113.11")
    other.force_login(other_servicer_seat.user)
    assert other.get("/api/seats/transfer-targets/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("low_rates")
@pytest.mark.urls(__name__)
def test_anonymous_api_requests_are_counted_per_client_address() -> None:
    first = Client(REMOTE_ADDR="203.0.113.20")
    assert [first.get("/ping/").status_code for _ in range(5)] == [200, 200, 200, 429, 429]
    assert Client(REMOTE_ADDR="203.0.113.21").get("/ping/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("low_rates")
@pytest.mark.urls(__name__)
def test_behind_nginx_the_real_client_is_throttled_not_the_proxy(settings: Any) -> None:
    settings.CS_TRUSTED_PROXY_COUNT = 1
    nginx = Client(REMOTE_ADDR="127.0.0.1")

    def ping(forwarded: str) -> int:
        return nginx.get("/ping/", headers={"x-forwarded-for": forwarded}).status_code

    assert [ping("203.0.113.30") for _ in range(3)] == [200, 200, 200]
    assert ping("203.0.113.30") == 429
    # A forged entry in front of the one nginx appended changes nothing ...
    assert ping("198.51.100.1, 203.0.113.30") == 429
    # ... and other customers behind the same proxy still get through.
    assert ping("203.0.113.31") == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("low_rates")
@pytest.mark.parametrize("endpoint", ["/api/seats/transfer-targets/", "/api/schema/?format=json"])
def test_an_anonymous_flood_of_an_endpoint_that_needs_a_login_gets_429_after_the_anonymous_rate(endpoint: str) -> None:
    flood = Client(REMOTE_ADDR="203.0.113.40")
    statuses = [flood.get(endpoint).status_code for _ in range(5)]
    assert statuses == [403, 403, 403, 429, 429], "refused requests count too (DRF checked permissions first)"
    refused = flood.get(endpoint)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "json" in refused["Content-Type"]
    assert refused.json()["detail"], "a JSON reason"
    # Another address is refused for its missing login, not throttled.
    assert Client(REMOTE_ADDR="203.0.113.41").get(endpoint).status_code == 403


@pytest.mark.django_db
@pytest.mark.usefixtures("low_rates")
def test_the_im_servers_callbacks_stay_unthrottled_after_an_anonymous_flood_from_its_address() -> None:
    robot = cs_robot_get()
    im_server = Client(REMOTE_ADDR="192.0.2.81")
    assert [im_server.get("/api/seats/transfer-targets/").status_code for _ in range(4)][-1] == 429
    body = {
        "messageId": 7_100_000_000,
        "sender": "customer-after-flood",
        "conv": {"type": 0, "target": robot.robot_id, "line": 0},
        "payload": {"type": 1, "searchableContent": "你好", "persistFlag": 3},
        "toUsers": [],
        "timestamp": 1700000000000,
    }
    callback = im_server.post(
        f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert (callback.status_code, callback.json()["status"]) == (200, "accepted")


def _api_views(patterns: list[URLPattern | URLResolver]) -> Iterator[tuple[str, type[APIView]]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns)
            continue
        view_class = getattr(pattern.callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            yield str(pattern.pattern), view_class


def test_every_throttled_api_view_counts_a_request_before_checking_its_permissions() -> None:
    views = list(_api_views(get_resolver().url_patterns))
    assert len(views) > 10
    unthrottled = {name for name, view in views if not view.throttle_classes}
    assert unthrottled == {"callback/<str:robot_id>"}, "only the IM server's callbacks are never throttled"
    assert [name for name, view in views if view.throttle_classes and not issubclass(view, ApiView)] == []
