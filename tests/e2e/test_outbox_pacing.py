"""Real Celery workers pace a burst to the robot rate limit, re-scheduling the paused key themselves."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import transaction
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import OutboundMessage
from sessions_app.flow.transcript import customer_tell
from sessions_app.models import ServiceSession
from tests.factories import customer_make
from tests.support.processes import wait_until
from tests.support.sandbox import Sandbox
from tests.support.stack import stack_running

pytestmark = pytest.mark.e2e

LIMIT = 20  # bursts of 20, then 2 per second, on both sides


def test_a_burst_is_paced_by_the_workers_at_the_limits_pace_not_the_sweeps(
    fresh_sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    extra = {"WFC_ROBOT_RATE_LIMIT": str(LIMIT)}
    with stack_running(sandbox=fresh_sandbox, settings=settings, tmp_path=tmp_path, extra_env=extra) as stack:
        fresh_sandbox.configure(robotRateLimit=LIMIT)  # empty buckets: cs_robot_setup used one request
        customer = stack.new_customer()
        texts = [f"回复{i}" for i in range(30)]
        started = time.monotonic()
        with transaction.atomic():
            session = ServiceSession.objects.create(customer=customer_make(customer))
            for text in texts:
                customer_tell(session=session, text=text)

        def received() -> list[str]:
            return stack.im.texts(customer, sender="cs_robot")

        wait_until(lambda: len(received()) >= len(texts), timeout=40, what="the whole burst")
        elapsed = time.monotonic() - started
        assert received() == texts
        rows = OutboundMessage.objects.filter(target_user_id=customer)
        assert [row.attempts for row in rows] == [1] * len(texts), "no 250 was answered"
        assert fresh_sandbox.log_path.read_text().count("code=250") == 0
        # 10 beyond the burst at 2 per second: about 5 s. Left to the 2-second sweep, one would go per sweep.
        assert 3 < elapsed < 12, f"took {elapsed:.1f}s"
        print(f"30 replies at http.robot.rate_limit {LIMIT}: delivered in {elapsed:.1f}s, no 250")  # noqa: T201
