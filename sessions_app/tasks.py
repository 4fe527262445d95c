from __future__ import annotations

from celery import shared_task

from sessions_app.flow import assignment, closing, inbound


@shared_task(acks_late=True, ignore_result=True)
def bot_answer_task(session_id: int, question: str, fallback: bool = True) -> None:  # noqa: FBT001, FBT002
    inbound.bot_answer(session_id=session_id, question=question, fallback=fallback)


@shared_task(ignore_result=True)
def queue_drain_task() -> None:
    assignment.queue_drain()


@shared_task(ignore_result=True)
def idle_sweep_task() -> None:
    closing.idle_sweep()
