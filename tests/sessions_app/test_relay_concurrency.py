"""A servicer replying while the customer writes, at the same moment, on real PostgreSQL: neither
side waits on the other's foreign keys, so no deadlock (the console reply locks the session, then
references the customer; the customer's message locks the customer, then the session)."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
import redis
from django.db import connection

from robots.callbacks import inbound_drain
from robots.models import InboundMessage
from robots.services import cs_robot_get
from robots.wfprotocol import text_payload
from seats.models import Seat
from sessions_app.flow.servicer import servicer_reply
from sessions_app.models import Message
from tests.factories import customer_make, session_make

ROUNDS = 40
_ids = itertools.count(7_000_000_000_000_000_000)


@pytest.mark.django_db(transaction=True)
def test_replies_and_customer_messages_at_once_never_deadlock(servicer_seat: Seat, redis_client: redis.Redis) -> None:
    assert connection.vendor == "postgresql"
    robot = cs_robot_get()
    customer = customer_make("busy-customer")
    session = session_make(customer=customer, seat=servicer_seat)
    Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.ONLINE, active_sessions=1)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def servicer() -> None:
        try:
            start.wait(timeout=10)
            for number in range(ROUNDS):
                servicer_reply(session_id=session.pk, seat=servicer_seat, payload=text_payload(f"reply {number}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    def customer_writes() -> None:
        try:
            start.wait(timeout=10)
            for number in range(ROUNDS):
                InboundMessage.objects.create(
                    robot=robot,
                    message_id=next(_ids),
                    sender=customer.im_user_id,
                    conv_type=0,
                    conv_target=robot.robot_id,
                    payload={"type": 1, "searchableContent": f"question {number}", "persistFlag": 3},
                    server_timestamp=int(time.time() * 1000),
                )
                inbound_drain(robot_pk=robot.pk, sender=customer.im_user_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=servicer), threading.Thread(target=customer_writes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    failed = list(InboundMessage.objects.filter(state=InboundMessage.State.FAILED).values_list("last_error", flat=True))
    assert failed == [], failed
    texts = Message.objects.filter(session=session).values_list("author", flat=True)
    assert list(texts).count(Message.Author.SERVICER) == ROUNDS
    assert list(texts).count(Message.Author.CUSTOMER) == ROUNDS
