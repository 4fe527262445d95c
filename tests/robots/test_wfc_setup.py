from __future__ import annotations

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
def im(sandbox: Sandbox, settings: SettingsWrapper) -> AdminClient:
    settings.WFC_ROBOT_API_URL = sandbox.robot_url
    settings.WFC_ADMIN_API_URL = sandbox.admin_url
    settings.WFC_ADMIN_SECRET = sandbox.admin_secret
    settings.CS_ROBOT_ID = "cs_setup_test"
    return AdminClient(sandbox.admin_url, sandbox.admin_secret)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("wfc_setup", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_cs_robot_with_our_callback_and_is_idempotent(im: AdminClient, sandbox: Sandbox) -> None:
    assert "verified" in _run()
    robot = Robot.objects.get(robot_id="cs_setup_test")
    info = im.get_robot_info(robot_id="cs_setup_test")
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


def test_it_adopts_the_secret_of_a_robot_that_already_exists_on_the_im_server(im: AdminClient) -> None:
    im.create_robot(user_id="cs_setup_test", name="cs_setup_test", display_name="x", secret="pre-existing", callback="")
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
