"""A shadow and its servicer are befriended only when ``CS_BEFRIEND_SHADOWS`` asks for it.

Wildfire's ``message.disable_stranger_chat`` exempts robots (``isAllowUserMessage``), so by default the
servicer's contact list does not fill with a shadow per customer. Befriending is seen where it happens:
the sandbox's access log names every admin call.
"""

from __future__ import annotations

from pathlib import Path

from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import Robot
from tests.support.cs_stack import Stack
from tests.support.sandbox import Sandbox


def _friend_calls_during_a_handover(stack: Stack, sandbox: Sandbox) -> int:
    log = Path(sandbox.log_path)
    start = log.stat().st_size
    seat = stack.online_seat("alice")
    customer = stack.new_customer()
    stack.im.say(customer, "转人工")
    handover = stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    assert handover["sender"] == Robot.objects.get(shadow_of=customer).robot_id
    with log.open("rb") as lines:
        lines.seek(start)
        return lines.read().decode(errors="replace").count("POST /admin/friend/status ")


def test_by_default_a_handover_befriends_nobody(cs_stack: Stack, sandbox: Sandbox) -> None:
    assert _friend_calls_during_a_handover(cs_stack, sandbox) == 0


def test_cs_befriend_shadows_befriends_the_shadow_and_the_servicer_both_ways(
    cs_stack: Stack, sandbox: Sandbox, settings: SettingsWrapper
) -> None:
    settings.CS_BEFRIEND_SHADOWS = True
    assert _friend_calls_during_a_handover(cs_stack, sandbox) == 2


def test_a_handover_reaches_a_servicer_on_a_server_that_disables_stranger_chat(
    cs_stack: Stack, sandbox: Sandbox
) -> None:
    sandbox.configure(disableStrangerChat=True)
    try:
        assert _friend_calls_during_a_handover(cs_stack, sandbox) == 0
    finally:
        sandbox.configure(disableStrangerChat=False)
