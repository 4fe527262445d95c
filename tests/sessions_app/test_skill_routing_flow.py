"""A customer names a skill group as they would in the chat (through the IM sandbox): from the menu of
services, by a keyword, or with the client's control; and they reach a seat of that group."""

from __future__ import annotations

import pytest

from robots.wfprotocol import CsControl
from seats.models import Seat, SkillGroup
from sessions_app.models import ServiceSession, ServiceSettings
from tests.support.cs_stack import Stack
from tests.support.processes import wait_until


@pytest.fixture
def two_groups(cs_stack: Stack) -> dict[str, Seat]:
    """售前咨询 served by Presale, 售后服务 by Aftersale: each seat in one group."""
    pre_sales = SkillGroup.objects.create(name="售前咨询", keywords="售前", menu_order=1)
    after_sales = SkillGroup.objects.create(name="售后服务", name_en="After-sales", keywords="售后,退货", menu_order=2)
    seats = {"pre": cs_stack.online_seat("presale"), "after": cs_stack.online_seat("aftersale")}
    seats["pre"].skill_groups.add(pre_sales)
    seats["after"].skill_groups.add(after_sales)
    return seats


def _menu_on() -> None:
    config = ServiceSettings.load()
    config.skill_group_menu_enabled = True
    config.save()


def _served_by(customer: str) -> ServiceSession:
    wait_until(
        lambda: ServiceSession.objects.filter(customer__im_user_id=customer, state=ServiceSession.State.HUMAN).exists(),
        timeout=15,
        what="the customer to be assigned",
    )
    return ServiceSession.objects.select_related("skill_group", "seat").get(customer__im_user_id=customer)


def test_the_menu_of_services_is_offered_and_a_number_picks_the_group(
    cs_stack: Stack, two_groups: dict[str, Seat]
) -> None:
    _menu_on()
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    menu = cs_stack.im.wait_for_text(customer, "请选择服务类型")
    assert menu["payload"]["searchableContent"] == "请选择服务类型（回复数字）：\n1. 售前咨询\n2. 售后服务"
    assert ServiceSession.objects.get(customer__im_user_id=customer).state == ServiceSession.State.BOT

    cs_stack.im.say(customer, "2")

    session = _served_by(customer)
    assert (session.skill_group.name if session.skill_group else None, session.seat) == (
        "售后服务",
        two_groups["after"],
    )
    cs_stack.im.wait_for_text(customer, "客服 Aftersale 为您服务")


def test_the_groups_name_answers_the_menu_and_english_customers_get_it_in_english(
    cs_stack: Stack, two_groups: dict[str, Seat]
) -> None:
    _menu_on()
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "I need a human agent")
    menu = cs_stack.im.wait_for_text(customer, "Which service")
    assert menu["payload"]["searchableContent"].endswith("\n1. 售前咨询\n2. After-sales")

    cs_stack.im.say(customer, "after-sales")

    assert _served_by(customer).seat == two_groups["after"]


def test_a_keyword_names_the_group_without_the_menu(cs_stack: Stack, two_groups: dict[str, Seat]) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转售后")

    session = _served_by(customer)
    assert session.seat == two_groups["after"]
    assert not any("请选择服务类型" in text for text in cs_stack.im.texts(customer, sender=cs_stack.cs_robot))


def test_the_clients_control_names_the_group(cs_stack: Stack, two_groups: dict[str, Seat]) -> None:
    _menu_on()
    customer = cs_stack.new_customer()
    cs_stack.im.control(customer, CsControl.ENTER)
    cs_stack.im.wait_for_text(customer, "欢迎")
    cs_stack.im.control(customer, CsControl.TRANSFER_TO_HUMAN, {"group": "售前咨询"})

    assert _served_by(customer).seat == two_groups["pre"]


def test_without_the_menu_and_without_a_group_named_any_seat_serves(
    cs_stack: Stack, two_groups: dict[str, Seat]
) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")

    session = _served_by(customer)
    assert session.skill_group is None
    assert session.seat in two_groups.values()


def test_a_question_that_starts_with_zhuan_stays_with_the_bot(cs_stack: Stack, two_groups: dict[str, Seat]) -> None:
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转账成功后还能退货吗")
    cs_stack.im.wait_for_text(customer, "欢迎")  # the bot has taken the message in
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert (session.state, session.skill_group_id) == (ServiceSession.State.BOT, None)


def test_a_group_with_nobody_online_offers_a_left_message_and_the_choice_does_not_stick(
    cs_stack: Stack, two_groups: dict[str, Seat]
) -> None:
    Seat.objects.filter(pk=two_groups["after"].pk).update(status=Seat.Status.OFFLINE)
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转售后")
    cs_stack.im.wait_for_text(customer, "留言")
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert (session.state, session.skill_group_id) == (ServiceSession.State.BOT, None)
