from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.im import callback_url
from robots.models import Robot
from robots.services import cs_robot_get
from robots.wfprotocol import AdminClient, RobotClient
from tests.support.sandbox import Sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def robot_id() -> str:
    """A CS Robot id of the test's own: the sandbox lives for the whole session."""
    return f"cs_setup_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def im(sandbox: Sandbox, settings: SettingsWrapper, robot_id: str) -> AdminClient:
    settings.WFC_ROBOT_API_URL = sandbox.robot_url
    settings.WFC_ADMIN_API_URL = sandbox.admin_url
    settings.WFC_ADMIN_SECRET = sandbox.admin_secret
    settings.CS_ROBOT_ID = robot_id
    return AdminClient(sandbox.admin_url, sandbox.admin_secret)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("wfc_setup", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_cs_robot_with_our_callback_and_is_idempotent(
    im: AdminClient, sandbox: Sandbox, robot_id: str
) -> None:
    assert "verified" in _run()
    robot = Robot.objects.get(robot_id=robot_id)
    info = im.get_robot_info(robot_id=robot_id)
    assert info.callback == callback_url(robot)
    assert info.secret == robot.secret
    secret = robot.secret
    _run()
    robot.refresh_from_db()
    assert robot.secret == secret, "a second run keeps the robot's secret (robot create is an upsert)"
    assert RobotClient(sandbox.robot_url, robot.robot_id, robot.secret).get_callback() == callback_url(robot)


def test_it_repairs_a_callback_changed_behind_its_back(im: AdminClient, sandbox: Sandbox) -> None:
    _run()
    robot = cs_robot_get()
    client = RobotClient(sandbox.robot_url, robot.robot_id, robot.secret)
    client.delete_callback()
    client.set_callback("http://elsewhere/cb")  # state 1 now: a plain set_callback could not undo this
    _run()
    assert client.get_callback() == callback_url(cs_robot_get())


# /admin/user/update bits: display name, portrait, gender, email, company, extra.
PROFILE_FLAGS = 0x1 | 0x2 | 0x4 | 0x10 | 0x40 | 0x100
PROFILE = {
    "displayName": "小助手",
    "portrait": "https://img.example.com/helper.png",
    "extra": '{"dept":"sales"}',
    "gender": 2,
    "email": "help@example.com",
    "company": "示例公司",
}


def test_a_new_cs_robot_gets_our_display_name_and_is_reported_created(im: AdminClient, robot_id: str) -> None:
    assert "created" in _run()
    assert im.get_robot_info(robot_id=robot_id).display_name == "在线客服"
    assert "updated" in _run()


def test_it_keeps_a_profile_changed_on_the_im_server_since_the_last_run(
    im: AdminClient, sandbox: Sandbox, robot_id: str
) -> None:
    _run()
    # The operator gives the robot a name, an avatar and more in the IM server's console (§6 user/update).
    sandbox.admin("/admin/user/update", {"userInfo": {"userId": robot_id, **PROFILE}, "flag": PROFILE_FLAGS})
    _run("--rotate-token")
    info = im.get_robot_info(robot_id=robot_id)
    held = {
        "displayName": info.display_name,
        "portrait": info.portrait,
        "extra": info.extra,
        "gender": info.gender,
        "email": info.email,
        "company": info.company,
    }
    assert held == PROFILE, "robot/create replaces every field: setup must send the profile back"
    assert info.callback == callback_url(cs_robot_get())


def test_it_keeps_the_profile_of_a_robot_that_already_exists_on_the_im_server(
    im: AdminClient, sandbox: Sandbox, robot_id: str
) -> None:
    body = {"userId": robot_id, "name": robot_id, "secret": "pre", "owner": "ops", **PROFILE}
    sandbox.admin("/admin/robot/create", {**body, "robotExtra": "kept too"})
    assert "updated" in _run()
    info = im.get_robot_info(robot_id=robot_id)
    assert (info.display_name, info.portrait, info.extra) == (
        PROFILE["displayName"],
        PROFILE["portrait"],
        '{"dept":"sales"}',
    )
    assert (info.owner, info.robot_extra, info.secret) == ("ops", "kept too", "pre")


def test_it_adopts_the_secret_of_a_robot_that_already_exists_on_the_im_server(im: AdminClient, robot_id: str) -> None:
    im.create_robot(user_id=robot_id, name=robot_id, display_name="x", secret="pre-existing", callback="")
    _run()
    assert cs_robot_get().secret == "pre-existing"


def test_rotating_the_token_changes_the_callback_url(im: AdminClient) -> None:
    _run()
    old = cs_robot_get().callback_token
    assert "new callback token" in _run("--rotate-token")
    robot = cs_robot_get()
    assert robot.callback_token != old
    assert im.get_robot_info(robot_id=robot.robot_id).callback == callback_url(robot)


def test_it_fails_clearly_with_a_wrong_admin_secret(im: AdminClient, settings: SettingsWrapper) -> None:
    settings.WFC_ADMIN_SECRET = "wrong"
    with pytest.raises(CommandError, match="WfcAuthError"):
        _run()
