"""Robots on the IM server: setting up the CS Robot, and each customer's shadow."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from robots.handlers import flow_handlers
from robots.im import callback_url, im_admin, robot_client
from robots.models import Robot, new_callback_token
from robots.robot_cache import robot_by_robot_id, robot_cache_forget, robot_remember
from robots.robot_ids import shadow_robot_id
from robots.wfprotocol import WfcNotFound

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

    1. Keep the robot's secret: ours if we have one, else the one the IM server holds, else a new
       one. ``/admin/robot/create`` is an upsert that regenerates an omitted secret (§6).
    2. Send the callback URL with the upsert: it resets the robot's state to 0, which sidesteps
       the ``set_callback`` no-op quirk (§4.1) and clears an omitted callback.
    3. Verify through the robot API, signed with the robot's own secret.
    """
    robot = _cs_robot_row()
    admin = im_admin()
    created_on_im = False
    if not robot.secret:
        try:
            robot.secret = admin.get_robot_info(robot_id=robot.robot_id).secret
        except WfcNotFound:
            created_on_im = True
        if not robot.secret:
            robot.secret = secrets.token_urlsafe(24)
    if rotate_token:
        robot.callback_token = new_callback_token()
    url = callback_url(robot)
    _user_id, returned_secret = admin.create_robot(
        user_id=robot.robot_id,
        name=robot.robot_id,
        display_name=CS_ROBOT_DISPLAY_NAME,
        secret=robot.secret,
        callback=url,
    )
    robot.secret = returned_secret or robot.secret
    robot.provisioned_at = timezone.now()
    robot.save()
    robot_cache_forget(robot.robot_id)
    if robot_client(robot).get_callback() != url:
        raise RobotSetupError("the IM server did not keep the CS Robot's callback URL")
    logger.info("CS Robot %s set up on the IM server (token rotated: %s)", robot.robot_id, rotate_token)
    return CsRobotSetupResult(robot.robot_id, url.split("?")[0], created_on_im, rotate_token)


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
    with transaction.atomic():
        robot = Robot.objects.select_for_update(no_key=True, of=("self",)).get(pk=robot.pk)
        if robot.provisioned_at is not None:
            return robot
        admin = im_admin()
        profile = admin.get_user_info(user_id=user_im_id)
        display_name = profile.display_name or profile.name
        flow_handlers().profile_read(im_user_id=user_im_id, display_name=display_name, avatar_url=profile.portrait)
        robot.secret = robot.secret or secrets.token_urlsafe(24)
        _user_id, returned_secret = admin.create_robot(
            user_id=robot.robot_id,
            name=robot.robot_id,
            display_name=display_name or user_im_id,
            portrait=profile.portrait,
            secret=robot.secret,
            callback=callback_url(robot),
            owner=settings.CS_ROBOT_ID,
        )
        robot.secret = returned_secret or robot.secret
        robot.provisioned_at = timezone.now()
        robot.save(update_fields=["secret", "provisioned_at"])
    robot_cache_forget(robot.robot_id)
    logger.info("shadow %s created for IM user %s", robot.robot_id, user_im_id)
    return robot


def robots_forget() -> None:
    """Drop every robot this process keeps in memory (a send was refused with 401: a secret may
    have changed elsewhere)."""
    _provisioned_shadows.clear()
    robot_cache_forget()


def friendship_ensure(*, robot: Robot, user_im_id: str) -> None:
    """Befriend a robot and a user, so ``message.disable_stranger_chat`` servers deliver (§4.1)."""
    im_admin().befriend(robot_id=robot.robot_id, user_id=user_im_id)
