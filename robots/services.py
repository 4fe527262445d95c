"""Robots on the IM server: setting up the CS Robot, and each customer's shadow."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from robots.handlers import flow_handlers
from robots.im import callback_url, im_admin, robot_client
from robots.models import Robot, new_callback_token
from robots.robot_cache import robot_by_robot_id, robot_cache_forget, robot_remember
from robots.robot_ids import shadow_robot_id
from robots.wfprotocol import UserInfo

logger = logging.getLogger(__name__)

CS_ROBOT_DISPLAY_NAME = "在线客服"


class RobotSetupError(Exception):
    pass


@dataclass(frozen=True)
class CsRobotSetupResult:
    robot_id: str
    callback_url: str
    created_on_im: bool
    token_rotated: bool


def cs_robot_get() -> Robot:
    """The CS Robot's row, from this process's memory (robots.robot_cache): every send to a
    customer is signed by it. Read only; ``cs_robot_setup`` changes a row of its own."""
    robot = robot_by_robot_id(settings.CS_ROBOT_ID)
    if robot is None:
        robot = _cs_robot_row()
        robot_remember(robot)
    return robot


def _cs_robot_row() -> Robot:
    robot, _created = Robot.objects.get_or_create(robot_id=settings.CS_ROBOT_ID, defaults={"kind": Robot.Kind.CS})
    return robot


def cs_robot_setup(*, rotate_token: bool = False) -> CsRobotSetupResult:
    """Create or update the CS Robot on the IM server and check that its callback points at us.

    1. Send the robot's secret and our callback URL, and only those: ``/admin/robot/create`` is an
       upsert that replaces every field (§6), so the robot's profile (display name, avatar, extra,
       set in the IM server's console) is read first and sent back unchanged
       (``upsert_robot_keeping_profile``); a new robot is named ``CS_ROBOT_DISPLAY_NAME``.
    2. The secret is ours if we have one, else the one the IM server holds, else a new one the IM
       server makes. Sending the callback resets the robot's state to 0, which sidesteps the
       ``set_callback`` no-op quirk (§4.1).
    3. Verify through the robot API, signed with the robot's own secret.
    """
    robot = _cs_robot_row()
    if rotate_token:
        robot.callback_token = new_callback_token()
    url = callback_url(robot)
    upsert = im_admin().upsert_robot_keeping_profile(
        user_id=robot.robot_id,
        name=robot.robot_id,
        display_name=CS_ROBOT_DISPLAY_NAME,
        secret=robot.secret,
        callback=url,
    )
    robot.secret = upsert.secret
    robot.provisioned_at = timezone.now()
    robot.save()
    robot_cache_forget(robot.robot_id)
    if robot_client(robot).get_callback() != url:
        raise RobotSetupError("the IM server did not keep the CS Robot's callback URL")
    logger.info("CS Robot %s set up on the IM server (token rotated: %s)", robot.robot_id, rotate_token)
    return CsRobotSetupResult(robot.robot_id, url.split("?")[0], upsert.created, rotate_token)


def shadow_get_or_create(*, user_im_id: str) -> Robot:
    """The shadow's row (not yet on the IM server: ``shadow_ensure`` provisions it)."""
    robot, _created = Robot.objects.get_or_create(
        shadow_of=user_im_id, defaults={"robot_id": shadow_robot_id(user_im_id), "kind": Robot.Kind.SHADOW}
    )
    return robot


# Shadows already on the IM server, by the IM user they stand for: every relayed message is sent by
# one, and a provisioned shadow's id and secret do not change.
_provisioned_shadows: dict[str, tuple[float, Robot]] = {}
PROVISIONED_SHADOW_SECONDS = 60.0


def shadow_ensure(*, user_im_id: str) -> Robot:
    """The shadow robot of an IM user (a customer), created on the IM server the first time it is needed.

    The shadow carries the user's display name and avatar, copied from the IM server (and handed
    to the flow, which keeps the customer's), and its callback points at us so that servicers'
    replies from the IM app reach the CS server.
    """
    known = _provisioned_shadows.get(user_im_id)
    if known is not None and known[0] > time.monotonic():
        return known[1]
    robot = shadow_get_or_create(user_im_id=user_im_id)
    if robot.provisioned_at is not None:
        _provisioned_shadows[user_im_id] = (time.monotonic() + PROVISIONED_SHADOW_SECONDS, robot)
        return robot
    # No row lock is held across the IM admin calls (a slow admin API would hold every writer of
    # the row, and a lock holder's connection, for as long). Two deliverers provisioning the same
    # shadow at once make the same two idempotent calls: the secret is settled in the row first, so
    # both create the robot with the same one, and the last upsert leaves the IM server as the first.
    Robot.objects.filter(pk=robot.pk, secret="").update(secret=secrets.token_urlsafe(24))
    robot.secret, provisioned_at = Robot.objects.values_list("secret", "provisioned_at").get(pk=robot.pk)
    if provisioned_at is not None:  # another process finished meanwhile
        robot.provisioned_at = provisioned_at
        return robot
    admin = im_admin()
    profile = user_profile_read(user_im_id=user_im_id)
    display_name = profile.display_name or profile.name
    _user_id, returned_secret = admin.create_robot(
        user_id=robot.robot_id,
        name=robot.robot_id,
        display_name=display_name or user_im_id,
        portrait=profile.portrait,
        secret=robot.secret,
        callback=callback_url(robot),
        owner=settings.CS_ROBOT_ID,
    )
    if returned_secret and returned_secret != robot.secret:  # the server chose another: it signs
        robot.secret = returned_secret
        Robot.objects.filter(pk=robot.pk).update(secret=returned_secret)
    robot.provisioned_at = timezone.now()
    Robot.objects.filter(pk=robot.pk, provisioned_at__isnull=True).update(provisioned_at=robot.provisioned_at)
    robot_cache_forget(robot.robot_id)
    logger.info("shadow %s created for IM user %s", robot.robot_id, user_im_id)
    return robot


def user_profile_read(*, user_im_id: str) -> UserInfo:
    """Read an IM user's profile (display name, avatar) through the admin API and hand it to the
    flow, which keeps it on the customer (``FlowHandlers.profile_read``). Raises ``WfcNotFound``
    when the IM server has no such user; holds no lock while it waits for the IM server."""
    profile = im_admin().get_user_info(user_id=user_im_id)
    flow_handlers().profile_read(
        im_user_id=user_im_id, display_name=profile.display_name or profile.name, avatar_url=profile.portrait
    )
    return profile


def robots_forget() -> None:
    """Drop every robot this process keeps in memory (a send was refused with 401: a secret may
    have changed elsewhere)."""
    _provisioned_shadows.clear()
    robot_cache_forget()


def friendship_ensure(*, robot: Robot, user_im_id: str) -> None:
    """Befriend a robot and a user, when ``CS_BEFRIEND_SHADOWS`` says the IM server needs it. Wildfire's
    ``message.disable_stranger_chat`` lets robots message strangers (``isAllowUserMessage`` exempts
    every user that is not a normal one), so by default nobody's contact list fills with shadows."""
    if settings.CS_BEFRIEND_SHADOWS:
        im_admin().befriend(robot_id=robot.robot_id, user_id=user_im_id)
