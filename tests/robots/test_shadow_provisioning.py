"""A customer's shadow is created on the IM server on first use (robots.services.shadow_ensure),
without holding a row lock across the IM admin calls, and once whatever the concurrency."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from robots.models import Robot
from robots.services import shadow_ensure, shadow_get_or_create
from tests.support.cs_stack import Stack
from tests.support.sandbox import Sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_lock_is_held_on_the_shadow_while_the_admin_api_is_slow(cs_stack: Stack, sandbox: Sandbox) -> None:
    customer = cs_stack.new_customer()
    shadow = shadow_get_or_create(user_im_id=customer)
    sandbox.configure(failMode="delay", failDelaySeconds=2, failScope="admin", failCount=1)
    errors: list[BaseException] = []

    def provision() -> None:
        try:
            shadow_ensure(user_im_id=customer)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=provision)
    worker.start()
    try:
        time.sleep(0.8)  # the worker waits on the delayed admin call now
        assert worker.is_alive()
        with transaction.atomic():  # raises (55P03) if the row were locked
            Robot.objects.select_for_update(nowait=True).get(pk=shadow.pk)
    finally:
        worker.join(timeout=20)
        sandbox.configure(failMode="none")
    assert not errors, errors
    assert Robot.objects.get(pk=shadow.pk).provisioned_at is not None


def test_two_deliverers_provisioning_one_shadow_agree_on_its_secret(cs_stack: Stack, sandbox: Sandbox) -> None:
    customer = cs_stack.new_customer()
    shadow_get_or_create(user_im_id=customer)
    results: list[Robot] = []

    def provision() -> None:
        try:
            results.append(shadow_ensure(user_im_id=customer))
        finally:
            connection.close()

    workers = [threading.Thread(target=provision) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=20)
    stored = Robot.objects.get(shadow_of=customer)
    assert {robot.secret for robot in results} == {stored.secret}
    info = cs_stack.admin.get_robot_info(robot_id=stored.robot_id)
    assert info.secret == stored.secret, "the IM server signs with the secret we keep"
