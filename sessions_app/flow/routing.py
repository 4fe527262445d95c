"""Which skill group a customer who asks for a person wants (docs/supervision.md, "Routing by skill group").

A customer names a group in one of three ways: by picking it from the numbered menu of services the
bot sends when the setting ``skill_group_menu_enabled`` is on (a digit, or the group's name); with a
keyword ("转售后", "人工 售后": a message asking for a person that names a group); or with the
TRANSFER_TO_HUMAN control carrying ``{"group": "<name or id>"}`` (docs/client-protocol.md). The
menu is a bot list like the others (``ServiceSession.bot_menu``, lines "group:<id>").

Nothing here runs for a bot message that neither asks for a person, starts with "转", nor answers
the menu: the groups are read only then (tests/sessions_app/test_statement_counts.py).
"""

from __future__ import annotations

import re

from robots.wfprotocol import CallbackFormatError, CsControl, MessagePayload, control_data, text_payload
from seats.models import SkillGroup
from sessions_app.bot.text import compact, normalise
from sessions_app.flow.assignment import session_request_human
from sessions_app.flow.transcript import customer_send
from sessions_app.models import Message, ServiceSession, ServiceSettings

GROUP_CHOICE_PREFIX = "group:"
# "转售后": a message that starts with this and names a group asks for that group's servicers.
TRANSFER_PREFIX = "转"
_LATIN_WORDS = re.compile(r"[a-z0-9]+")


def routable_groups() -> list[SkillGroup]:
    """The groups a customer may choose: those with at least one seat, in menu order."""
    return list(SkillGroup.objects.filter(seats__isnull=False).distinct().order_by("menu_order", "name", "pk"))


def group_menu(*, groups: list[SkillGroup], config: ServiceSettings, language: str) -> tuple[str, list[str]]:
    """The menu of services ("请选择服务类型（回复数字）：\\n1. 售前咨询\\n2. 售后服务") and its choices."""
    lines = [f"{number}. {group.name_for(language)}" for number, group in enumerate(groups, start=1)]
    title = config.text("skill_group_menu_text", language)
    return "\n".join([title, *lines]), [f"{GROUP_CHOICE_PREFIX}{group.pk}" for group in groups]


def group_named(text: str, groups: list[SkillGroup], *, at_start: bool = False) -> SkillGroup | None:
    """The group whose name or keyword appears in ``text`` (the longest such word wins: "售后服务"
    before "售后"); None when none does. Spaces, punctuation and case are ignored; a word in Latin
    letters must stand as a word ("sales" is not in "wholesales"). ``at_start``: the word must
    open the text ("售后" in "售后的问题", not in "转账后"), as after the "转" of "转售后"."""
    words = compact(text)
    padded = f" {' '.join(_LATIN_WORDS.findall(normalise(text)))} "
    best: tuple[int, SkillGroup] | None = None
    for group in groups:
        for name in group.names():
            name_words = compact(name)
            if not name_words or (best is not None and len(name_words) <= best[0]):
                continue
            if name_words.isascii():
                latin = " ".join(_LATIN_WORDS.findall(normalise(name)))
                found = padded.startswith(f" {latin} ") if at_start else f" {latin} " in padded
            else:
                found = words.startswith(name_words) if at_start else name_words in words
            if found:
                best = (len(name_words), group)
    return None if best is None else best[1]


def _group_of_choice(choice: str) -> SkillGroup | None:
    group_id = choice.removeprefix(GROUP_CHOICE_PREFIX)
    return SkillGroup.objects.filter(pk=int(group_id)).first() if group_id.isdigit() else None


def _group_of_control(payload: MessagePayload) -> SkillGroup | None:
    """The group a TRANSFER_TO_HUMAN control names: ``{"group": "售后服务"}`` or ``{"group": 2}``."""
    try:
        named = control_data(payload).get("group")
    except CallbackFormatError:
        return None
    if isinstance(named, int) and not isinstance(named, bool):
        return SkillGroup.objects.filter(pk=named).first()
    if isinstance(named, str) and named.strip():
        by_name = SkillGroup.objects.filter(name=named.strip()).first()
        return by_name or group_named(named, routable_groups())
    return None


def menu_shown(session: ServiceSession) -> bool:
    return any(str(choice).startswith(GROUP_CHOICE_PREFIX) for choice in session.bot_menu)


def group_requested(
    *,
    session: ServiceSession,
    text: str,
    control: CsControl | None,
    payload: MessagePayload,
    choice: str | None,
    person_wanted: bool,
) -> SkillGroup | None:
    """The group a customer's message asks for, or None. Only a session with the bot chooses one (a
    queued or served customer keeps theirs)."""
    if session.state != ServiceSession.State.BOT:
        return None
    if control == CsControl.TRANSFER_TO_HUMAN:
        return _group_of_control(payload)
    if control is not None or not text:
        return None
    if choice is not None:
        return _group_of_choice(choice) if choice.startswith(GROUP_CHOICE_PREFIX) else None
    if person_wanted or menu_shown(session):
        return group_named(text, routable_groups())
    if text.startswith(TRANSFER_PREFIX):
        # "转售后" names a group; "转账成功后还能退货吗" is a question for the bot, though "售后" is in it.
        return group_named(text.removeprefix(TRANSFER_PREFIX), routable_groups(), at_start=True)
    return None


def human_request_route(*, session: ServiceSession, config: ServiceSettings, group: SkillGroup | None = None) -> None:
    """The customer asked for a person, naming ``group`` or not.

    1. A group named: the session joins that group's queue (``session_request_human``).
    2. None named, the menu setting on, groups with seats to choose from, the customer with the bot:
       the bot sends the menu of services and waits for the pick.
    3. Otherwise: any seat, as without groups.
    """
    if group is not None:
        if session.skill_group_id != group.pk:
            session.skill_group = group
            session.save(update_fields=["skill_group"])
        session_request_human(session=session, config=config)
        if session.state == ServiceSession.State.BOT:
            # Refused (the group's hours, nobody of it online): the customer was offered a left
            # message. The choice does not stick: a later "转人工" naming no group is routed afresh.
            session.skill_group = None
            session.save(update_fields=["skill_group"])
        return
    if config.skill_group_menu_enabled and session.state == ServiceSession.State.BOT:
        groups = routable_groups()
        if groups:
            text, choices = group_menu(groups=groups, config=config, language=session.language)
            session.bot_menu = choices
            customer_send(
                session=session, payload=text_payload(text), author=Message.Author.BOT, session_fields=["bot_menu"]
            )
            return
    session_request_human(session=session, config=config)
