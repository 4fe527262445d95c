"""Supervisors manage seats in the admin: new seats bring their own servicer login, status
actions go through the service, and the list shows live load, status and skill groups."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from seats.models import Seat, SkillGroup
from sessions_app.models import ServiceSession
from tests.factories import session_make

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/seats/seat/add/"
LIST_URL = "/admin/seats/seat/"


@pytest.fixture
def client(supervisor: User) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def _can_log_in(username: str, password: str) -> bool:
    return authenticate(RequestFactory().post("/admin/login/"), username=username, password=password) is not None


def _new_seat(**changes: object) -> dict[str, object]:
    return {
        "username": "carol",
        "password": "a-long-Pass-phrase-7",
        "display_name": "Carol",
        "avatar_url": "",
        "im_user_id": "",
        "capacity": "4",
        **changes,
    }


def test_adding_a_seat_creates_a_servicer_login_that_is_not_staff(client: Client) -> None:
    group = SkillGroup.objects.create(name="售后服务")
    response = client.post(ADD_URL, _new_seat(skill_groups=[group.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    seat = Seat.objects.select_related("user").get(display_name="Carol")
    assert (seat.user.username, seat.user.is_staff, seat.user.is_superuser, seat.capacity) == ("carol", False, False, 4)
    assert list(seat.skill_groups.all()) == [group]
    assert _can_log_in("carol", "a-long-Pass-phrase-7")


def test_an_existing_login_is_refused_not_taken_over(client: Client, supervisor: User) -> None:
    response = client.post(ADD_URL, _new_seat(username="sup", password="Another-pass-99"))
    assert response.status_code == 200
    assert not Seat.objects.filter(display_name="Carol").exists()
    assert _can_log_in("sup", "sup-password"), "the supervisor's password is untouched"


def test_a_weak_password_is_refused(client: Client) -> None:
    response = client.post(ADD_URL, _new_seat(password="123"))
    assert response.status_code == 200
    assert not User.objects.filter(username="carol").exists()


def _change_data(seat: Seat, password: str) -> dict[str, str]:
    return {
        "new_password": password,
        "display_name": seat.display_name,
        "avatar_url": "",
        "im_user_id": seat.im_user_id,
        "capacity": str(seat.capacity),
        "sessions-TOTAL_FORMS": "0",
        "sessions-INITIAL_FORMS": "0",
    }


def test_a_supervisor_can_reset_a_servicers_password(client: Client, servicer_seat: Seat) -> None:
    response = client.post(
        f"/admin/seats/seat/{servicer_seat.pk}/change/", _change_data(servicer_seat, "Fresh-pass-phrase-8")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _can_log_in("alice", "Fresh-pass-phrase-8")


def test_a_staff_members_password_is_out_of_reach(client: Client, servicer_seat: Seat) -> None:
    User.objects.filter(pk=servicer_seat.user_id).update(is_staff=True)
    client.post(f"/admin/seats/seat/{servicer_seat.pk}/change/", _change_data(servicer_seat, "Fresh-pass-phrase-8"))
    assert _can_log_in("alice", "alice-password")
    assert not _can_log_in("alice", "Fresh-pass-phrase-8")


def test_the_list_shows_load_status_and_groups_and_filters_by_them(
    client: Client, servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    group = SkillGroup.objects.create(name="售前咨询")
    servicer_seat.skill_groups.add(group)
    Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.ONLINE, active_sessions=2)
    page = client.get(LIST_URL).content.decode()
    assert "2/3" in page
    assert "cs-status-online" in page
    assert "售前咨询" in page
    online = client.get(LIST_URL, {"status__exact": "online"}).content.decode()
    assert "Alice" in online
    assert "Bob" not in online
    in_group = client.get(LIST_URL, {"skill_groups__id__exact": group.pk}).content.decode()
    assert "Alice" in in_group
    assert "Bob" not in in_group


def test_status_actions_go_through_the_service(client: Client, servicer_seat: Seat) -> None:
    Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.ONLINE)
    response = client.post(LIST_URL, {"action": "set_offline", "_selected_action": [servicer_seat.pk]})
    assert response.status_code == 302
    servicer_seat.refresh_from_db()
    assert servicer_seat.status == Seat.Status.OFFLINE
    assert servicer_seat.status_changed_at is not None


@pytest.mark.parametrize("choice", ["requeue", "stay"])
def test_a_seat_with_chats_set_away_gets_the_choice_first(client: Client, servicer_seat: Seat, choice: str) -> None:
    Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.ONLINE, active_sessions=1)
    session = session_make(seat=servicer_seat)
    page = client.post(LIST_URL, {"action": "set_away", "_selected_action": [servicer_seat.pk]})
    assert page.status_code == 200
    assert 'name="requeue"' in page.content.decode()
    assert Seat.objects.get(pk=servicer_seat.pk).status == Seat.Status.ONLINE
    done = client.post(
        LIST_URL,
        {"action": "set_away", "_selected_action": [servicer_seat.pk], "confirm": "yes", "requeue": choice},
    )
    assert done.status_code == 302
    assert Seat.objects.get(pk=servicer_seat.pk).status == Seat.Status.AWAY
    session.refresh_from_db()
    expected = ServiceSession.State.QUEUED if choice == "requeue" else ServiceSession.State.HUMAN
    assert session.state == expected


def test_the_seat_page_lists_its_sessions_in_progress(client: Client, servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    page = client.get(f"/admin/seats/seat/{servicer_seat.pk}/change/").content.decode()
    assert f"/admin/sessions_app/servicesession/{session.pk}/change/" in page
