"""Queueing a Celery task from a service, by the task's name.

A task module imports the services it runs; a service that queues a task names it instead of
importing it, so no import circle forms and no import hides inside a function to dodge one.
Every name given here is checked against the registered tasks by tests/cs_project/test_architecture.py.
"""

from __future__ import annotations

import importlib

from cs_project.celery import app


def task_enqueue(name: str, *args: object, countdown: float = 0) -> None:
    """Queue the task registered as ``name`` on the project's Celery app (eager where tests ask for it).

    The task's module is imported on first use (a no-op after that): in a web process nothing else
    has loaded it, and Celery's own autodiscovery would run Django's system checks on the way.
    """
    importlib.import_module(name.rpartition(".")[0])
    app.tasks[name].apply_async(args=args, countdown=countdown)
