"""Actions raced from threads, each on its own database connection, for the concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection

from cs_project.errors import ApplicationError


def _in_thread(action: Callable[..., object], barrier: threading.Barrier, outcomes: list[str]) -> None:
    try:
        barrier.wait(timeout=30)
        action()
        outcomes.append("ok")
    except ApplicationError as exc:
        outcomes.append(exc.code)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        outcomes.append(repr(exc))
    finally:
        connection.close()


def run_together(*actions: Callable[..., object]) -> list[str]:
    """Start ``actions`` at the same instant (a barrier), each in a thread; their outcomes in the order
    they ended: "ok", a refusal's code, or the repr of anything else raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []
    threads = [threading.Thread(target=_in_thread, args=(action, barrier, outcomes)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
