"""Routing by skill group (issue 16, point 3): a group is a queue, with its seats, positions, hours
and overflow rule; customers name a group by the menu, a keyword or a control (real PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from cs_project.errors import ApplicationError
from seats.models import Seat, SkillGroup
from seats.services import seat_create_with_user
from sessions_app.flow.assignment import queue_drain, queue_position, session_request_human
from sessions_app.flow.queue import queue_list, queue_take_next
from sessions_app.flow.routing import group_named, routable_groups
from sessions_app.models import Message, ServiceSession, ServiceSettings
from sessions_app.supervision.live import live_snapshot
from tests.factories import session_make

pytestmark = pytest.mark.django_db


def _seat(name: str, *groups: SkillGroup, load: int = 0, capacity: int = 3) -> Seat:
    seat = seat_create_with_user(username=name, password=f"{name}-password", display_name=name.title())
    seat.skill_groups.add(*groups)
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.ONLINE, active_sessions=load, capacity=capacity)
    seat.refresh_from_db()
    return seat


@pytest.fixture
def pre_sales() -> SkillGroup:
    return SkillGroup.objects.create(name="售前咨询", keywords="售前,购买", menu_order=1)


@pytest.fixture
def after_sales() -> SkillGroup:
    return SkillGroup.objects.create(name="售后服务", name_en="After-sales", keywords="售后,退货", menu_order=2)


def _ask(group: SkillGroup | None, *, customer_session: ServiceSession | None = None) -> ServiceSession:
    """A customer with the bot asks for a person of ``group``."""
    session = customer_session or session_make(state=ServiceSession.State.BOT)
    session.skill_group = group
    session.save(update_fields=["skill_group"])
    session_request_human(session=session, config=ServiceSettings.load())
    session.refresh_from_db()
    return session


def _queued(group: SkillGroup | None, minutes_ago: int) -> ServiceSession:
    session = session_make(state=ServiceSession.State.QUEUED)
    ServiceSession.objects.filter(pk=session.pk).update(
        skill_group=group, queued_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    session.refresh_from_db()
    return session


def _customer_texts(session: ServiceSession) -> list[str]:
    """What the customer was told in words (controls left out)."""
    sent = Message.objects.filter(session=session, direction=Message.Direction.OUT).order_by("seq")
    return [str(text) for text in sent.values_list("payload__searchableContent", flat=True) if text]


def test_a_customer_of_a_group_gets_the_least_busy_online_seat_of_that_group(
    pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    _seat("idle_outsider")  # fewest sessions of all, but in no group
    _seat("busy_after", after_sales, load=2)
    quiet_after = _seat("quiet_after", after_sales, pre_sales, load=1)
    _seat("offline_after", after_sales)
    Seat.objects.filter(user__username="offline_after").update(status=Seat.Status.OFFLINE)

    session = _ask(after_sales)

    assert (session.state, session.seat_id) == (ServiceSession.State.HUMAN, quiet_after.pk)


def test_the_last_servicer_is_kept_when_they_are_in_the_group_and_not_otherwise(after_sales: SkillGroup) -> None:
    last = _seat("last", after_sales, load=2)
    idle = _seat("idle", after_sales)
    first = session_make(state=ServiceSession.State.CLOSED, seat=last)

    again = _ask(after_sales, customer_session=session_make(customer=first.customer, state=ServiceSession.State.BOT))
    assert again.seat_id == last.pk, "sticky while the last servicer is in the group, online, with room"

    last.skill_groups.clear()
    ServiceSession.objects.filter(pk=again.pk).update(state=ServiceSession.State.CLOSED, closed_at=timezone.now())
    third = _ask(after_sales, customer_session=session_make(customer=first.customer, state=ServiceSession.State.BOT))
    assert third.seat_id == idle.pk, "the last servicer left the group: its least busy seat"


def test_a_full_group_queues_its_customer_while_other_seats_have_room(
    pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    _seat("after", after_sales, load=3)
    _seat("pre", pre_sales)

    session = _ask(after_sales)

    assert (session.state, session.seat_id, session.announced_position) == (ServiceSession.State.QUEUED, None, 1)
    assert "您前面还有 0 位" in _customer_texts(session)[-1]


def test_positions_count_the_groups_own_queue_and_the_older_customers_of_no_group(
    pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    first_after = _queued(after_sales, 9)
    first_pre = _queued(pre_sales, 8)
    ungrouped = _queued(None, 7)
    second_after = _queued(after_sales, 6)

    # second_after: first_after, and the older ungrouped customer the 售后 seats serve first too
    assert [queue_position(session=s) for s in (first_after, first_pre, ungrouped, second_after)] == [1, 1, 1, 3]
    entries = {entry["session_id"]: entry for entry in queue_list()}
    assert (entries[second_after.pk]["position"], entries[second_after.pk]["skill_group"]) == (3, "售后服务")
    assert (entries[ungrouped.pk]["position"], entries[ungrouped.pk]["skill_group"]) == (1, "")


def test_a_freed_seat_takes_the_oldest_customer_of_its_groups(pre_sales: SkillGroup, after_sales: SkillGroup) -> None:
    pre_seat = _seat("pre", pre_sales, load=3)
    after_seat = _seat("after", after_sales)
    older_pre = _queued(pre_sales, 10)
    younger_after = _queued(after_sales, 2)

    assert queue_drain() == 1

    older_pre.refresh_from_db()
    younger_after.refresh_from_db()
    assert older_pre.state == ServiceSession.State.QUEUED, "no seat of its group has room"
    assert (younger_after.state, younger_after.seat_id) == (ServiceSession.State.HUMAN, after_seat.pk)
    Seat.objects.filter(pk=pre_seat.pk).update(active_sessions=2)
    assert queue_drain() == 1
    older_pre.refresh_from_db()
    assert older_pre.seat_id == pre_seat.pk


def test_an_ungrouped_customer_is_served_by_any_seat_and_first_when_oldest(after_sales: SkillGroup) -> None:
    after_seat = _seat("after", after_sales, capacity=1)
    ungrouped = _queued(None, 10)
    grouped = _queued(after_sales, 5)

    assert queue_drain() == 1

    ungrouped.refresh_from_db()
    grouped.refresh_from_db()
    assert (ungrouped.seat_id, grouped.state) == (after_seat.pk, ServiceSession.State.QUEUED)


def test_after_the_overflow_time_any_seat_may_take_the_customer(pre_sales: SkillGroup, after_sales: SkillGroup) -> None:
    _seat("after", after_sales, load=3)
    pre_seat = _seat("pre", pre_sales)
    after_sales.overflow_minutes = 5
    after_sales.save()
    waited_long = _queued(after_sales, 6)
    waited_short = _queued(after_sales, 4)

    assert queue_drain() == 1

    waited_long.refresh_from_db()
    waited_short.refresh_from_db()
    assert waited_long.seat_id == pre_seat.pk
    assert waited_short.state == ServiceSession.State.QUEUED, "not yet overflowed"


def test_without_an_overflow_rule_the_customer_waits_for_the_group(
    pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    _seat("after", after_sales, load=3)
    _seat("pre", pre_sales)
    waited = _queued(after_sales, 120)

    assert queue_drain() == 0
    waited.refresh_from_db()
    assert waited.state == ServiceSession.State.QUEUED


def test_a_group_with_no_seat_online_offers_a_left_message_unless_it_overflows(
    pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    _seat("pre", pre_sales, load=3)

    session = _ask(after_sales)
    assert (session.state, session.leaving_message) == (ServiceSession.State.BOT, True)
    assert "现在没有客服在线" in _customer_texts(session)[-1]

    after_sales.overflow_minutes = 3
    after_sales.save()
    overflowing = _ask(after_sales)
    assert overflowing.state == ServiceSession.State.QUEUED, "another group's seat may take it after 3 minutes"


def test_a_group_with_its_own_hours_is_closed_outside_them(after_sales: SkillGroup) -> None:
    _seat("after", after_sales)
    tomorrow = timezone.localdate().isoweekday() % 7 + 1
    after_sales.own_hours = True
    after_sales.business_days = str(tomorrow)
    after_sales.hours_start = timezone.localtime().time().replace(hour=8, minute=30, second=0, microsecond=0)
    after_sales.save()

    closed = _ask(after_sales)
    assert (closed.state, closed.leaving_message) == (ServiceSession.State.BOT, True)
    assert "现在是非工作时间（08:30-18:00）" in _customer_texts(closed)[-1]

    after_sales.business_days = "1,2,3,4,5,6,7"
    after_sales.hours_start, after_sales.hours_end = (
        after_sales.hours_start.replace(hour=0, minute=0),
        (after_sales.hours_end.replace(hour=23, minute=59, second=59)),
    )
    after_sales.save()
    config = ServiceSettings.load()
    config.business_hours_enabled, config.business_days = True, str(tomorrow)  # the global hours are closed
    config.save()
    assert _ask(after_sales).state == ServiceSession.State.HUMAN, "the group's own hours win over the global ones"


def test_take_next_takes_the_oldest_customer_the_seat_serves(pre_sales: SkillGroup, after_sales: SkillGroup) -> None:
    after_seat = _seat("after", after_sales)
    outsider = _seat("outsider")
    _queued(pre_sales, 10)
    mine = _queued(after_sales, 5)

    assert queue_take_next(seat=after_seat).pk == mine.pk
    with pytest.raises(ApplicationError) as refused:
        queue_take_next(seat=outsider)
    assert refused.value.code == "queue_empty", "a seat of no group serves only customers of no group"


def test_a_group_name_or_keyword_in_a_message_names_the_group(pre_sales: SkillGroup, after_sales: SkillGroup) -> None:
    _seat("both", pre_sales, after_sales)
    SkillGroup.objects.create(name="售后服务VIP")  # no seat: not offered, never named
    groups = routable_groups()

    assert [group.name for group in groups] == ["售前咨询", "售后服务"]
    assert group_named("转售后", groups) == after_sales
    assert group_named("人工 售后服务！", groups) == after_sales
    assert group_named("我想购买", groups) == pre_sales
    assert group_named("after-sales please", groups) == after_sales
    assert group_named("转人工", groups) is None


def test_the_live_view_shows_each_sessions_group_and_the_waiting_per_group(
    supervisor: User, pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    _queued(after_sales, 3)
    _queued(after_sales, 2)
    _queued(None, 1)
    served = session_make(seat=_seat("pre", pre_sales, load=1))
    ServiceSession.objects.filter(pk=served.pk).update(skill_group=pre_sales)

    snapshot = live_snapshot()
    assert snapshot.queue_by_group == [
        {"group_id": after_sales.pk, "name": "售后服务", "waiting": 2},
        {"group_id": None, "name": "", "waiting": 1},
    ]
    client = Client()
    client.force_login(supervisor)
    page = client.get("/admin/live/panels/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "各技能组排队人数" in page
    assert f'data-group-queue="{after_sales.pk}">售后服务: <strong>2</strong>' in page
    assert '<td class="cs-group">售前咨询</td>' in page, "the group of a session in progress"


def test_the_skill_group_admin_lists_the_waiting_and_refuses_hours_that_end_before_they_start(
    supervisor: User, after_sales: SkillGroup
) -> None:
    _queued(after_sales, 2)
    client = Client()
    client.force_login(supervisor)
    listing = client.get("/admin/seats/skillgroup/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "排队中" in listing
    assert '<td class="field-waiting_count">1</td>' in listing

    form = {
        "name": "售后服务",
        "menu_order": "2",
        "own_hours": "on",
        "hours_start": "18:00",
        "hours_end": "09:00",
        "business_days": "1,2,8",
        "overflow_minutes": "5",
    }
    refused = client.post(f"/admin/seats/skillgroup/{after_sales.pk}/change/", form)
    assert refused.status_code == 200
    assert set(refused.context["adminform"].form.errors) == {"hours_end", "business_days"}
    form.update(hours_start="09:00", hours_end="18:00", business_days="1,2,3")
    assert client.post(f"/admin/seats/skillgroup/{after_sales.pk}/change/", form).status_code == 302
    after_sales.refresh_from_db()
    assert (after_sales.own_hours, after_sales.overflow_minutes) == (True, 5)


def test_an_ungrouped_customer_leaves_a_group_seat_to_the_waiting_customer_of_its_group(
    after_sales: SkillGroup,
) -> None:
    after_seat = _seat("after", after_sales, capacity=1)
    general = _seat("general", load=1)
    ungrouped = _queued(None, 10)
    grouped = _queued(after_sales, 5)

    assert queue_drain() == 2

    ungrouped.refresh_from_db()
    grouped.refresh_from_db()
    assert (ungrouped.seat_id, grouped.seat_id) == (general.pk, after_seat.pk)


def test_an_ungrouped_customer_still_takes_the_least_busy_seat_when_no_group_needs_it(
    pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    after_seat = _seat("after", after_sales)
    _seat("general", load=1)
    _queued(pre_sales, 20)  # waits for a seat of another group: does not hold the 售后 seat back

    session = _ask(None)

    assert session.seat_id == after_seat.pk


def test_a_grouped_customers_position_counts_the_older_customers_its_seats_take_first(
    pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    _seat("after", after_sales, load=3)
    _seat("general", load=3)
    ungrouped = [_queued(None, minutes) for minutes in (9, 8, 7)]
    _queued(pre_sales, 6)  # another group's customer: its seats are not the 售后 ones
    after_sales.overflow_minutes = 5
    after_sales.save()
    overflowed = _queued(after_sales, 5)  # any seat may take them now: ahead of every younger customer

    session = _ask(after_sales)

    assert (session.state, session.announced_position) == (ServiceSession.State.QUEUED, 5)
    assert "您前面还有 4 位" in _customer_texts(session)[-1]
    assert [queue_position(session=s) for s in (*ungrouped, overflowed)] == [1, 2, 3, 4]
    entries = {entry["session_id"]: entry["position"] for entry in queue_list()}
    assert entries[session.pk] == 5
    young_ungrouped = _queued(None, 0)
    assert queue_position(session=young_ungrouped) == 5, "the older ungrouped and overflowed, not the grouped"


def test_the_positions_told_after_a_drain_and_in_the_live_view_are_the_same(
    supervisor: User, pre_sales: SkillGroup, after_sales: SkillGroup
) -> None:
    _seat("after", after_sales, load=3)
    general = _seat("general", load=3)
    older = [_queued(None, minutes) for minutes in (10, 9, 8)]
    _queued(pre_sales, 7)  # another group's: not ahead of the 售后 customer
    grouped = _queued(after_sales, 6)
    Seat.objects.filter(pk=general.pk).update(active_sessions=2)

    assert queue_drain() == 1

    grouped.refresh_from_db()
    assert grouped.announced_position == 3, "two older ungrouped customers are still ahead"
    assert "您前面还有 2 位" in _customer_texts(grouped)[-1]
    assert ServiceSession.objects.get(pk=older[0].pk).seat_id == general.pk
    client = Client()
    client.force_login(supervisor)
    page = client.get("/admin/live/panels/", headers={"accept-language": "zh-hans"}).content.decode()
    assert f'<tr data-session="{grouped.pk}">\n        <td>3</td>' in page
