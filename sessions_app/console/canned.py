"""Canned replies a servicer keeps for themself (global ones are kept by supervisors in the admin)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from seats.models import Seat
from sessions_app.models import CannedReply


def _own(*, seat: Seat, reply_id: int) -> CannedReply:
    reply = CannedReply.objects.select_for_update(no_key=True).filter(pk=reply_id, owner=seat).first()
    if reply is None:
        # Global replies and other servicers' replies look the same as missing ones.
        raise ApplicationError(_("No such canned reply of yours."), code="not_found", status=404)
    return reply


def _save(reply: CannedReply) -> CannedReply:
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError:
        raise ApplicationError(_("You already have a reply with this shortcut."), code="shortcut_taken") from None
    return reply


@transaction.atomic
def canned_reply_create(*, seat: Seat, shortcut: str, text: str) -> CannedReply:
    return _save(CannedReply(owner=seat, shortcut=shortcut, text=text))


@transaction.atomic
def canned_reply_update(*, seat: Seat, reply_id: int, shortcut: str, text: str) -> CannedReply:
    reply = _own(seat=seat, reply_id=reply_id)
    reply.shortcut, reply.text = shortcut, text
    return _save(reply)


@transaction.atomic
def canned_reply_delete(*, seat: Seat, reply_id: int) -> None:
    _own(seat=seat, reply_id=reply_id).delete()
