"""Queueing a Celery task from a service, by the task's name.

A task module imports the services it runs; a service that queues a task names it instead of
importing it, so no import circle forms and no import hides inside a function to dodge one.
Every name given here is checked against the registered tasks by tests/cs_project/test_architecture.py.
"""

from __future__ import annotations

import functools

from celery.app.registry import TaskRegistry

from cs_project.celery import app


@functools.cache
def _registry() -> TaskRegistry:
    # The apps' tasks modules are found lazily by autodiscovery: load them once per process.
    app.loader.import_default_modules()
    return app.tasks


def task_enqueue(name: str, *args: object, countdown: float = 0) -> None:
    """Queue the task registered as ``name`` on the project's Celery app (eager where tests ask for it)."""
    _registry()[name].apply_async(args=args, countdown=countdown)
