"""What a message from the IM server means: the customer-service flow's entry point.

Called by ``robots.callbacks`` inside a transaction that holds the stored message's row lock,
once per message.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, Q
from django.utils import timezone

from cs_project.task_queue import task_enqueue
from robots.models import InboundMessage, OutboundMessage, Robot
from robots.outbox import outbox_enqueue
from robots.wfprotocol import CsControl, MessagePayload, extra_without_cs, text_payload
from seats.models import Seat
from seats.services import seat_status_set
from sessions_app.bot.intent import asks_for_person
from sessions_app.bot.text import ZH, language_of
from sessions_app.flow.autoanswer import UNKNOWN as UNKNOWN_DECISION
from sessions_app.flow.autoanswer import BotDecision, FaqAnswerer, autoanswer_is_local, autoanswerer_get
from sessions_app.flow.bot import (
    HUMAN_CHOICE,
    bot_reply,
    decision_for_choice,
    menu_pick,
    no_question,
    person_asked,
    welcome_text,
)
from sessions_app.flow.closing import session_close
from sessions_app.flow.customers import customer_profile_fetch_soon
from sessions_app.flow.left_messages import left_message_created
from sessions_app.flow.routing import group_requested, human_request_route
from sessions_app.flow.servicer import servicer_reply_from_im
from sessions_app.flow.servicer_texts import service_command_reply
from sessions_app.flow.transcript import customer_tell, customer_text, transcript_in_from_im
from sessions_app.hooks import rating_hooks
from sessions_app.models import Customer, LeftMessage, Message, ServiceSession, ServiceSettings, SessionEvent

logger = logging.getLogger(__name__)

PRIVATE_CHAT = 0


def inbound_dispatch(*, robot: Robot, inbound: InboundMessage) -> bool:
    """Act on one message; False when it is well-formed but not for us (it is kept, ignored)."""
    if inbound.conv_type != PRIVATE_CHAT:
        return False  # group messages reach robots in groups (§5.1); the CS flow is private chats only
    payload = MessagePayload.from_wire(inbound.payload)
    if robot.kind == Robot.Kind.SHADOW:
        if robot.shadow_of is None:  # pragma: no cover - the table's check constraint forbids it
            raise ValueError(f"shadow {robot.robot_id} stands for no IM user")
        servicer_reply_from_im(customer_im_id=robot.shadow_of, sender_im_id=inbound.sender, payload=payload)
        return True
    # The common case in one statement: the sender's open session (locked), with its customer and
    # seat, and whether the sender is a servicer (who never counts as a customer).
    session = (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .filter(customer__im_user_id=inbound.sender)
        .exclude(state=ServiceSession.State.CLOSED)
        .select_related("customer", "seat")
        .annotate(sender_is_seat=Exists(Seat.objects.filter(im_user_id=inbound.sender)))
        .first()
    )
    if session is None or getattr(session, "sender_is_seat", False):
        seat = Seat.objects.filter(im_user_id=inbound.sender).first()
        if seat is not None:
            _servicer_command(seat=seat, payload=payload)
            return True
    customer_message(inbound=inbound, payload=payload, open_session=session)
    return True


def _servicer_command(*, seat: Seat, payload: MessagePayload) -> None:
    config = ServiceSettings.load()
    text = customer_text(payload)
    if text == config.start_service_command:
        seat_status_set(seat=seat, status=Seat.Status.ONLINE)
    elif text == config.stop_service_command:
        seat_status_set(seat=seat, status=Seat.Status.AWAY)
    reply = service_command_reply(
        command=text, start_command=config.start_service_command, stop_command=config.stop_service_command
    )
    outbox_enqueue(
        sender_kind=OutboundMessage.SenderKind.CS_ROBOT, target_user_id=seat.im_user_id, payload=text_payload(reply)
    )


def _control_kind(payload: MessagePayload) -> CsControl | None:
    try:
        return CsControl(payload.type)
    except ValueError:
        return None


def _left_message_keep(*, session: ServiceSession, payload: MessagePayload, config: ServiceSettings) -> None:
    left = LeftMessage.objects.create(
        customer=session.customer, session=session, text=customer_text(payload) or f"[{payload.type}]"
    )
    left_message_created(left_message=left)  # the consoles' left-message panels, live
    session.leaving_message = False
    session.bot_menu = []  # the bot's last list is no longer the last thing said: "1" picks nothing now
    session.save(update_fields=["leaving_message", "bot_menu"])
    customer_tell(session=session, text=config.text("left_message_received_text", session.language))


def _left_message_after_queue_timeout(
    *,
    customer: Customer,
    inbound: InboundMessage,
    payload: MessagePayload,
    control: CsControl | None,
    config: ServiceSettings,
    language: str | None,
) -> bool:
    """A queue timeout offered to leave a message: the next message is kept as one, on the closed
    session, unless it asks for something else (a control or a keyword: a new session opens). The
    receipt is in the language of that message (``language``; None: the session's).

    The offer lasts as long as one made in a bot session would (until the bot idle timer and its
    grace would close that session)."""
    text = customer_text(payload)
    keywords = config.transfer_keyword_set | config.exit_keyword_set | config.cancel_queue_keyword_set
    if control is not None or text in keywords:
        return False
    window = timedelta(minutes=config.bot_idle_minutes + config.human_idle_close_minutes)
    offered = (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .filter(
            customer=customer,
            state=ServiceSession.State.CLOSED,
            leaving_message=True,
            closed_at__gte=timezone.now() - window,
        )
        .order_by("-closed_at")
        .first()
    )
    if offered is None:
        return False
    offered.customer = customer
    changed: tuple[str, ...] = ()
    if language is not None and language != offered.language:
        offered.language, changed = language, ("language",)
    transcript_in_from_im(session=offered, inbound=inbound, payload=payload, session_fields=changed)
    _left_message_keep(session=offered, payload=payload, config=config)
    return True


def _session_open(*, customer: Customer, line: int, config: ServiceSettings, language: str) -> ServiceSession:
    # What the customer's earlier sessions offered (rate by digit, leave a message) ends here: a
    # digit or a text is now for this session.
    ServiceSession.objects.filter(customer=customer, state=ServiceSession.State.CLOSED).filter(
        Q(awaiting_rating_digit=True) | Q(leaving_message=True)
    ).update(awaiting_rating_digit=False, leaving_message=False)
    _welcome, menu = welcome_text(config, language)
    session = ServiceSession.objects.create(customer=customer, conv_line=line, language=language, bot_menu=menu)
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.OPENED)
    return session


def _welcome(*, session: ServiceSession, config: ServiceSettings) -> None:
    """The welcome of a session opened now: after the customer's first message in the transcript,
    as it was in the chat."""
    welcome, _menu = welcome_text(config, session.language)
    customer_tell(session=session, text=welcome, author=Message.Author.BOT)


def customer_message(
    *, inbound: InboundMessage, payload: MessagePayload, open_session: ServiceSession | None = None
) -> None:
    """A customer wrote to the CS Robot: one message at a time each (the inbound drain takes a
    conversation's messages in order, one at a time). ``open_session``: the customer's open session,
    already locked, when the caller found one."""
    config = ServiceSettings.load()
    control = _control_kind(payload)
    language = language_of(customer_text(payload)) if control is None else None
    session = open_session
    if session is not None:
        customer = session.customer
    else:
        customer = _customer_locked(inbound.sender)
        session = (
            ServiceSession.objects.select_for_update(no_key=True, of=("self",))
            .filter(customer=customer)
            .exclude(state=ServiceSession.State.CLOSED)
            .select_related("customer", "seat")
            .first()
        )
    opened_now = session is None
    if session is None:
        ratings = rating_hooks()
        if ratings is not None and ratings.reply_after_close(
            customer=customer, inbound=inbound, payload=payload, control=control
        ):
            return
        if _left_message_after_queue_timeout(
            customer=customer, inbound=inbound, payload=payload, control=control, config=config, language=language
        ):
            return
        if control in (CsControl.EXIT, CsControl.CANCEL_QUEUE, CsControl.RATING):
            return  # nothing open to leave or rate
        session = _session_open(customer=customer, line=inbound.conv_line, config=config, language=language or ZH)
        session.customer = customer
    if control == CsControl.ENTER:
        if opened_now:
            _welcome(session=session, config=config)
        return  # never shown to anyone
    now = timezone.now()
    session.last_customer_activity_at = now
    session.idle_warned_at = None
    # The idle clock runs while the customer owes the reply. The bot answers at once, so it runs
    # from this message; in human mode the servicer owes the reply now, so it stops until theirs.
    # In the queue the timeout runs from entering it, whatever the customer writes.
    if session.state == ServiceSession.State.BOT:
        session.idle_since = now
    elif session.state == ServiceSession.State.HUMAN:
        session.idle_since = None
    activity: tuple[str, ...] = ("last_customer_activity_at", "idle_warned_at", "idle_since")
    if language is not None and language != session.language:
        session.language = language  # what the customer is sent from now on follows their language
        activity += ("language",)
    if control is None:
        transcript_in_from_im(session=session, inbound=inbound, payload=payload, session_fields=activity)
    else:
        session.save(update_fields=list(activity))
    if opened_now:
        _welcome(session=session, config=config)
    _act(session=session, payload=payload, control=control, config=config, opened_now=opened_now)


def _customer_locked(im_user_id: str) -> Customer:
    """The customer's row, locked (created at a first contact: of two first messages, one creates).

    FOR NO KEY UPDATE (as everywhere here: no key ever changes): a transaction that merely writes a
    row referencing the customer (a session, a left message) takes only a key-share lock on it and
    does not wait for this one, so no such writer can deadlock against this message
    (tests/sessions_app/test_relay_concurrency.py)."""
    locked = Customer.objects.select_for_update(no_key=True, of=("self",))
    customer = locked.filter(im_user_id=im_user_id).first()
    if customer is None:
        _row, created = Customer.objects.get_or_create(im_user_id=im_user_id)
        if created:  # the IM profile is read after commit, by a worker: never in this transaction
            customer_profile_fetch_soon(im_user_id=im_user_id)
        customer = locked.get(im_user_id=im_user_id)
    return customer


def _act(
    *,
    session: ServiceSession,
    payload: MessagePayload,
    control: CsControl | None,
    config: ServiceSettings,
    opened_now: bool,
) -> None:
    text = customer_text(payload)
    with_bot = session.state == ServiceSession.State.BOT and not session.leaving_message and control is None
    choice = menu_pick(session, text) if with_bot and not opened_now else None
    faq = _faq_view(session=session, text=text, config=config, opening=opened_now) if with_bot and not choice else None
    person_wanted = (
        control == CsControl.TRANSFER_TO_HUMAN
        or choice == HUMAN_CHOICE
        or person_asked(text, config, faq if faq is not None else UNKNOWN_DECISION)
    )
    group = group_requested(
        session=session, text=text, control=control, payload=payload, choice=choice, person_wanted=person_wanted
    )
    if person_wanted or group is not None:
        human_request_route(session=session, config=config, group=group)
    elif control == CsControl.EXIT or text in config.exit_keyword_set:
        session_close(session=session, reason=ServiceSession.CloseReason.CUSTOMER_EXIT, config=config)
    elif session.state == ServiceSession.State.QUEUED and (
        control == CsControl.CANCEL_QUEUE or text in config.cancel_queue_keyword_set
    ):
        session_close(session=session, reason=ServiceSession.CloseReason.QUEUE_CANCELLED, config=config)
    elif control is not None:
        return  # a control message that does not apply in this state
    elif session.state == ServiceSession.State.BOT and session.leaving_message:
        _left_message_keep(session=session, payload=payload, config=config)
    elif session.state == ServiceSession.State.BOT:
        _bot_turn(session=session, text=text, choice=choice, faq=faq, config=config, opened_now=opened_now)
    elif session.state == ServiceSession.State.HUMAN and session.seat is not None and session.seat.im_user_id:
        # The customer's own "cs" marks would pass for ours in the servicer's app (flow.servicer_im).
        outbox_enqueue(
            sender_kind=OutboundMessage.SenderKind.SHADOW,
            shadow_of=session.customer.im_user_id,
            target_user_id=session.seat.im_user_id,
            payload=replace(payload, extra=extra_without_cs(payload.extra)),
        )


def _faq_view(*, session: ServiceSession, text: str, config: ServiceSettings, opening: bool) -> BotDecision | None:
    """What the FAQ makes of a message in bot mode: the bot's answer when the FAQ answers here, and
    also, with a remote answerer, whether a message with a "转人工" phrase is a question the FAQ
    answers outright (see ``person_asked``). None when there is nothing to ask it."""
    if not text or no_question(text, opening=opening):
        return None
    if autoanswer_is_local() or asks_for_person(text, config.human_intent_phrase_set):
        return FaqAnswerer.configured(config).decide(text, customer_id=session.customer.im_user_id)
    return None


def _bot_turn(
    *,
    session: ServiceSession,
    text: str,
    choice: str | None,
    faq: BotDecision | None,
    config: ServiceSettings,
    opened_now: bool,
) -> None:
    """The bot answers a customer's message: a line picked from its last list, or a question. The
    opening message was answered by the welcome: it gets more only when it asks something; later,
    thanks and greetings get no answer, and a picture or a sticker gets "I don't know"."""
    if choice is not None and (picked := decision_for_choice(choice)) is not None:
        bot_reply(session=session, decision=picked, config=config)
        return
    if not text:  # a picture, a file, a sticker: the bot reads text only
        if not opened_now:
            bot_reply(session=session, decision=UNKNOWN_DECISION, config=config)
    elif no_question(text, opening=opened_now):
        return
    elif autoanswer_is_local():  # the FAQ answered at once, in this transaction
        bot_reply(session=session, decision=faq or UNKNOWN_DECISION, config=config)
    else:  # a remote answerer may take seconds: a worker waits for it
        session_id = session.pk
        transaction.on_commit(lambda: task_enqueue("sessions_app.tasks.bot_answer_task", session_id, text))


def bot_answer(*, session_id: int, question: str, fallback: bool = True) -> None:
    """Answer in bot mode, unless a human took the session meanwhile (the bot then stays silent).

    The answer is computed before the session is locked: a remote answerer may take seconds.
    ``fallback`` off: say nothing when the bot does not know.
    """
    config = ServiceSettings.load()
    customer_id = (
        ServiceSession.objects.filter(pk=session_id).values_list("customer__im_user_id", flat=True).first() or ""
    )
    decision = autoanswerer_get(config).decide(question, customer_id=customer_id)
    with transaction.atomic():
        session = (
            ServiceSession.objects.select_for_update(no_key=True, of=("self",))
            .filter(pk=session_id, state=ServiceSession.State.BOT)
            .select_related("customer")
            .first()
        )
        if session is not None:
            bot_reply(session=session, decision=decision, config=config, quiet_if_unknown=not fallback)
