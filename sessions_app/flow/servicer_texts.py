"""The texts the flow sends servicers on the Wildfire app, in the site's language.

A seat has no language of its own, so these are in ``LANGUAGE_CODE`` whatever language is active
where they are built (a customer's callback, an English console's action). The customers' texts are
editable settings instead (``ServiceSettings.text``), in the customer's language.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from robots.wfprotocol import TEXT_MAX_LENGTH
from seats.models import Seat
from sessions_app.models import Customer, Message


def handover_heading_new(*, session_id: int, customer: Customer) -> str:
    """The first line of the notice of a session assigned to a seat."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("[New session #%(id)s] Customer %(customer)s asks for a servicer.") % {
            "id": session_id,
            "customer": customer,
        }


def handover_heading_transfer(
    *, session_id: int, customer: Customer, from_seat: Seat, note: str, take_over: bool = False
) -> str:
    """The first line of the notice of a session transferred to a seat (or taken over by a
    supervisor, ``take_over``), with the note if any."""
    values = {"id": session_id, "from": from_seat.display_name, "customer": customer}
    with translation.override(settings.LANGUAGE_CODE):
        if take_over:
            heading = _("[Taken-over session #%(id)s] You take over customer %(customer)s from %(from)s.") % values
        else:
            heading = _("[Transferred session #%(id)s] %(from)s transfers customer %(customer)s to you.") % values
        if note:
            heading += _(" Note: %(note)s.") % {"note": note}
        return heading


def handover_summary_lines(*, heading: str, messages: list[Message]) -> list[str]:
    """The notice: the heading, then who said what, oldest first."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [_("%(heading)s Recent messages:") % {"heading": heading}]
        for message in messages:
            who = Message.Author(message.author).label if message.author in Message.Author.values else ""
            text = message.payload.get("searchableContent") or f"[{message.content_type}]"
            lines.append(f"{who}: {text}")
        return lines


def relay_refused_text(*, is_servicer: bool, serving: bool, too_long: bool) -> str:
    """Why a message a servicer sent to a customer's shadow was not relayed."""
    with translation.override(settings.LANGUAGE_CODE):
        if not is_servicer:
            return _("You are not a servicer and cannot reach the customer through this chat.")
        if not serving:
            return _("You are not serving this customer at the moment; the message was not relayed.")
        if too_long:
            return _("The message is too long (at most %(max)s characters) and was not relayed; send it in parts.") % {
                "max": f"{TEXT_MAX_LENGTH:,}"
            }
        return _("This kind of message cannot be relayed yet (only text, images and files).")


def service_command_reply(*, command: str, start_command: str, stop_command: str) -> str:
    """The robot's answer to a servicer's command: start, stop, or how to use them."""
    with translation.override(settings.LANGUAGE_CODE):
        if command == start_command:
            return _("Service started: new customers will be assigned to you.")
        if command == stop_command:
            return _("You no longer receive new customers; chats in progress go on.")
        return _("You are a servicer. Send “%(start)s” to start serving, “%(stop)s” to pause.") % {
            "start": start_command,
            "stop": stop_command,
        }
