"""The supervisors' group: exactly its permissions, kept right by `ensure_roles`; servicers and
anonymous visitors never get into the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.test import Client

from seats.models import Seat
from seats.services import OPS_GROUP, OPS_PERMISSIONS, SUPERVISOR_GROUP, SUPERVISOR_PERMISSIONS

pytestmark = pytest.mark.django_db


def _codenames(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def _expected(table: dict[str, tuple[str, ...]] = SUPERVISOR_PERMISSIONS) -> set[str]:
    return {
        f"{label.split('.')[0]}.{action}_{label.split('.')[1]}"
        for label, actions in table.items()
        for action in actions
    }


def test_ensure_roles_gives_the_group_exactly_its_permissions() -> None:
    call_command("ensure_roles", stdout=None)
    group = Group.objects.get(name=SUPERVISOR_GROUP)
    assert _codenames(group) == _expected()


def test_ensure_roles_gives_the_ops_group_the_internal_tables_and_supervisors_none_of_them() -> None:
    call_command("ensure_roles", stdout=None)
    assert _codenames(Group.objects.get(name=OPS_GROUP)) == _expected(OPS_PERMISSIONS)
    assert not any(code.startswith("robots.") for code in _expected())


def test_ensure_roles_removes_what_was_added_by_hand_and_restores_what_was_removed() -> None:
    call_command("ensure_roles")
    group = Group.objects.get(name=SUPERVISOR_GROUP)
    group.permissions.add(Permission.objects.get(codename="change_user"))
    group.permissions.remove(Permission.objects.get(codename="view_rating"))
    call_command("ensure_roles")
    assert _codenames(group) == _expected()


def test_history_is_never_deletable_and_accounts_never_editable_by_supervisors() -> None:
    expected = _expected()
    for model in ("servicesession", "message", "sessionevent", "rating", "leftmessage", "outboundmessage"):
        assert not any(code.endswith(f".delete_{model}") for code in expected), model
    assert "sessions_app.add_servicesession" not in expected
    assert not any(code.startswith(("auth.", "admin.", "axes.")) for code in expected)


def test_a_supervisor_logs_into_the_admin(supervisor: User) -> None:
    client = Client()
    response = client.post("/admin/login/", {"username": "sup", "password": "sup-password", "next": "/admin/"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_supervisor_cannot_touch_user_accounts(supervisor: User) -> None:
    client = Client()
    client.force_login(supervisor)
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403


@pytest.mark.parametrize("path", ["/admin/", "/admin/seats/seat/", "/admin/sessions_app/servicesession/"])
def test_a_servicer_is_sent_to_the_login_page(servicer_seat: Seat, path: str) -> None:
    client = Client()
    client.force_login(servicer_seat.user)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_servicer_cannot_log_into_the_admin(servicer_seat: Seat) -> None:
    client = Client()
    response = client.post("/admin/login/", {"username": "alice", "password": "alice-password", "next": "/admin/"})
    assert response.status_code == 200, "the login form is shown again"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/admin/", "/admin/seats/seat/", "/admin/ratings/rating/"])
def test_anonymous_visitors_are_sent_to_the_login_page(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
