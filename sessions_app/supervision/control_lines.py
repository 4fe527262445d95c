"""Control messages (the invisible 10xx/11xx commands, robots.wfprotocol.CsControl) as one readable
line for a supervisor reading a transcript, instead of their raw ``[1101] {json}``."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _

from robots.wfprotocol.content import CsControl
from sessions_app.models import ServiceSession


def _servicer_name(data: dict[str, object]) -> str:
    servicer = data.get("servicer")
    name = servicer.get("name") if isinstance(servicer, dict) else None
    return str(name) if name else "?"


def _close_reason(data: dict[str, object]) -> str:
    reason = data.get("reason")
    try:
        return str(ServiceSession.CloseReason(str(reason)).label)
    except ValueError:
        return str(reason or "?")


def _data(content: object) -> dict[str, object]:
    """The control's JSON object; anything else (bad JSON, a list) reads as ``{}``."""
    if not isinstance(content, str) or not content.strip():
        return {}
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def control_line(*, content_type: int, content: object) -> str | None:
    """The line for a control message, in the active language; ``None`` when ``content_type`` is
    not one of ours (the caller shows it raw)."""
    try:
        kind = CsControl(content_type)
    except ValueError:
        return None
    data = _data(content)
    match kind:
        case CsControl.ENTER:
            return _("The customer opened customer service")
        case CsControl.TRANSFER_TO_HUMAN:
            return _("The customer asked for a human servicer")
        case CsControl.EXIT:
            return _("The customer left the conversation")
        case CsControl.RATING:
            return _("The customer rated the service: %(score)s") % {"score": data.get("score", "?")}
        case CsControl.CANCEL_QUEUE:
            return _("The customer stopped waiting in the queue")
        case CsControl.SERVICER_ASSIGNED:
            return _("Handed to %(name)s") % {"name": _servicer_name(data)}
        case CsControl.SESSION_CLOSED:
            return _("Session ended: %(reason)s") % {"reason": _close_reason(data)}
        case CsControl.RATING_REQUEST:
            return _("The customer was asked to rate %(name)s") % {"name": _servicer_name(data)}
        case CsControl.QUEUE_POSITION:
            return _("Queue position told to the customer: %(position)s") % {"position": data.get("position", "?")}
