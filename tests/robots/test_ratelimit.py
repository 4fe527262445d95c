"""The client-side robot rate limiter on the real Redis of the test settings (emptied per test)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import redis
from django.conf import settings

from robots.ratelimit import RobotRateLimiter
from wfsandbox.ratelimit import RateLimiter as ImServerBucket


def _limiter(limit: int) -> RobotRateLimiter:
    # A client of its own, as another worker process would have.
    return RobotRateLimiter(redis.Redis.from_url(settings.REDIS_URL), limit=limit)


def test_a_burst_of_the_limit_goes_at_once_and_the_rest_queues_one_interval_apart(redis_client: redis.Redis) -> None:
    limiter = _limiter(20)  # bursts of 20, then 2 per second
    assert [limiter.acquire(robot_id="cs_robot", ticket=f"t{i}") for i in range(20)] == [0.0] * 20
    waits = [limiter.acquire(robot_id="cs_robot", ticket=f"t{i}") for i in range(20, 24)]
    for number, wait in enumerate(waits, start=1):
        assert wait == pytest.approx(0.5 * number, abs=0.05), waits


def test_asking_again_with_the_same_ticket_takes_no_second_slot(redis_client: redis.Redis) -> None:
    limiter = _limiter(20)
    for i in range(20):
        limiter.acquire(robot_id="cs_robot", ticket=f"t{i}")
    first = limiter.acquire(robot_id="cs_robot", ticket="late")
    again = limiter.acquire(robot_id="cs_robot", ticket="late")
    assert 0 < again <= first
    assert limiter.acquire(robot_id="cs_robot", ticket="later") == pytest.approx(first + 0.5, abs=0.05)
    time.sleep(first)
    assert limiter.acquire(robot_id="cs_robot", ticket="late") == 0.0, "its reserved slot is due"


def test_a_sender_that_honours_the_waits_is_never_refused_by_the_im_servers_bucket(redis_client: redis.Redis) -> None:
    limiter = _limiter(50)  # 50 at once, then 5 per second
    server = ImServerBucket(10, 50)
    refused = 0
    started = time.monotonic()
    for i in range(62):
        while (wait := limiter.acquire(robot_id="cs_robot", ticket=f"t{i}")) > 0:
            time.sleep(wait)
        refused += not server.is_granted("cs_robot")
    elapsed = time.monotonic() - started
    assert refused == 0
    assert 12 / 5 - 0.3 < elapsed < 12 / 5 + 1.5, "the 12 beyond the burst are paced at 5 per second"


def test_two_limiters_on_the_same_redis_share_the_budget(redis_client: redis.Redis) -> None:
    one, other = _limiter(20), _limiter(20)
    granted = sum((one if i % 2 else other).acquire(robot_id="cs_robot", ticket=f"t{i}") == 0.0 for i in range(40))
    assert granted == 20


def test_concurrent_workers_never_take_more_than_the_burst(redis_client: redis.Redis) -> None:
    granted: list[int] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        limiter = _limiter(40)
        mine = sum(limiter.acquire(robot_id="cs_robot", ticket=f"w{number}-{i}") == 0.0 for i in range(20))
        with lock:
            granted.append(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 40, granted


def test_each_robot_has_its_own_budget(redis_client: redis.Redis) -> None:
    limiter = _limiter(5)
    for i in range(5):
        limiter.acquire(robot_id="cs_robot", ticket=f"t{i}")
    assert limiter.acquire(robot_id="cs_robot", ticket="t5") > 0
    assert limiter.acquire(robot_id="cust-1_csshadow", ticket="s0") == 0.0
    assert limiter.acquire(robot_id="cust-2_csshadow", ticket="s0") == 0.0


def test_a_refusal_by_the_im_server_fills_the_bucket_for_every_worker(redis_client: redis.Redis) -> None:
    one, other = _limiter(20), _limiter(20)
    assert one.server_refused(robot_id="cs_robot", ticket="refused") == pytest.approx(0.5, abs=0.05)
    assert other.acquire(robot_id="cs_robot", ticket="next") == pytest.approx(1.0, abs=0.05), "queued behind it"
    assert other.acquire(robot_id="cust-1_csshadow", ticket="next") == 0.0


def test_limit_zero_never_waits_and_backs_off_one_second_on_a_refusal(redis_client: redis.Redis) -> None:
    limiter = _limiter(0)
    assert all(limiter.acquire(robot_id="cs_robot", ticket=f"t{i}") == 0.0 for i in range(100))
    assert limiter.server_refused(robot_id="cs_robot", ticket="t0") == 1.0
    assert redis_client.keys("cs:robot-rate:*") == []


def test_an_idle_robot_leaves_nothing_behind(redis_client: redis.Redis) -> None:
    limiter = _limiter(1000)
    limiter.acquire(robot_id="cs_robot", ticket="t0")
    ttl_ms = redis_client.pttl("cs:robot-rate:{cs_robot}")
    assert 0 < ttl_ms <= 10 + 120_000, "expires once drained, plus the reservations' grace"


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        RobotRateLimiter(redis.Redis.from_url(settings.REDIS_URL), limit=-1)


def _settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    code = "from django.conf import settings; print(settings.WFC_ROBOT_RATE_LIMIT)"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "cs_project.settings",
            "DJANGO_DEBUG": "1",
            "REDIS_URL": "redis://127.0.0.1:6379/5",
            **env,
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_setting_defaults_to_the_im_servers_default_and_refuses_malformed_values() -> None:
    assert _settings_with().stdout.strip() == "1000"
    assert _settings_with(WFC_ROBOT_RATE_LIMIT="0").stdout.strip() == "0"
    for value, problem in (("-1", "must be at least 0"), ("100/s", "expected a whole number")):
        result = _settings_with(WFC_ROBOT_RATE_LIMIT=value)
        assert result.returncode != 0
        assert f"WFC_ROBOT_RATE_LIMIT: {problem}" in result.stderr
