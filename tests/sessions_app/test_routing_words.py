"""How a customer's words name a skill group (sessions_app.flow.routing.group_named): plain Python
over the groups' names and keywords."""

from __future__ import annotations

from seats.models import SkillGroup
from sessions_app.flow.routing import group_named

AFTER = SkillGroup(name="售后服务", name_en="After-sales", keywords="售后,退货")
SALES = SkillGroup(name="销售", name_en="Sales")
GROUPS = [AFTER, SALES]


def test_the_longest_name_or_keyword_anywhere_in_the_text_wins() -> None:
    assert group_named("人工 售后服务", GROUPS) is AFTER
    assert group_named("我要退货，找人工", GROUPS) is AFTER
    assert group_named("找人工", GROUPS) is None


def test_a_latin_name_must_stand_as_a_word() -> None:
    assert group_named("I want a human for sales", GROUPS) is SALES
    assert group_named("Human please, AFTER-SALES", GROUPS) is AFTER
    assert group_named("human, about wholesales", GROUPS) is None


def test_after_the_transfer_prefix_the_group_must_open_the_text() -> None:
    assert group_named("售后", GROUPS, at_start=True) is AFTER
    assert group_named(" 售后的问题", GROUPS, at_start=True) is AFTER
    assert group_named("sales team", GROUPS, at_start=True) is SALES
    # "转账成功后还能退货吗": a question for the bot about a transfer of money, though "退货" is in it.
    assert group_named("账成功后还能退货吗", GROUPS, at_start=True) is None
