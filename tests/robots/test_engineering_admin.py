"""The IM adapter's internal tables (robots, inbound callbacks, the outbox) in the admin: for the
ops group and superusers; supervisors neither see them listed nor reach them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = ("/admin/robots/robot/", "/admin/robots/inboundmessage/", "/admin/robots/outboundmessage/")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_a_supervisor_is_refused_the_internal_tables(supervisor: User, path: str) -> None:
    assert _client(supervisor).get(path).status_code == 403


def test_a_supervisor_does_not_see_them_on_the_admin_index(supervisor: User) -> None:
    page = _client(supervisor).get("/admin/").content.decode()
    assert "/admin/robots/" not in page
    assert "/admin/sessions_app/servicesession/" in page


@pytest.mark.parametrize("path", PAGES)
def test_an_ops_user_sees_the_internal_tables(ops_user: User, path: str) -> None:
    assert _client(ops_user).get(path).status_code == 200


def test_an_ops_user_does_not_see_the_customer_service_tables(ops_user: User) -> None:
    client = _client(ops_user)
    assert client.get("/admin/sessions_app/servicesession/").status_code == 403
    assert "/admin/robots/outboundmessage/" in client.get("/admin/").content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_a_superuser_sees_the_internal_tables(path: str) -> None:
    root = User.objects.create_superuser(username="root", password="root-password")
    assert _client(root).get(path).status_code == 200
