"""What the live view's controls send, checked and turned into calls of the supervisor flow
(``sessions_app.flow.supervisor`` and ``closing``). Every refusal is an ``ApplicationError``
with a code the page shows as a reason."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext_lazy
from redis.exceptions import RedisError

from cs_project.errors import ApplicationError
from seats.models import Seat
from seats.presence import presence_connection_count
from sessions_app.flow.closing import session_supervisor_end
from sessions_app.flow.supervisor import (
    seat_supervisor_status_set,
    session_supervisor_reassign,
    session_supervisor_take_over,
    session_supervisor_whisper,
)
from sessions_app.flow.transfer import NOTE_MAX_LENGTH
from sessions_app.models import ServiceSession

logger = logging.getLogger(__name__)


class ReassignForm(forms.Form):
    # Empty: back to the front of the queue. The labels name the field in a refusal's reason.
    seat = forms.IntegerField(label=_lazy("seat"), required=False, min_value=1)
    note = forms.CharField(label=_lazy("Note for the servicer"), required=False, max_length=NOTE_MAX_LENGTH)
    force = forms.BooleanField(label=_lazy("Even if the seat is full (over its capacity)"), required=False)


class EndForm(forms.Form):
    note = forms.CharField(
        label=_lazy("Reason (the customer and the servicer see it)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SeatChatsForm(forms.Form):
    """The admin's choice for a seat set offline or away with open chats."""

    requeue = forms.ChoiceField(
        label=_lazy("Its open chats"),
        choices=[
            ("stay", _lazy("Stay with the seat")),
            ("requeue", _lazy("Go back to the queue (at its front, in their order)")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_lazy("Note for the servicer"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AdminReassignForm(forms.Form):
    """The admin's reassign page: a seat (or the queue), a note, and forcing over capacity."""

    seat = forms.ModelChoiceField(
        label=pgettext_lazy("reassign a session to", "To"),
        queryset=Seat.objects.order_by("display_name"),
        required=False,
        empty_label=_lazy("Back to the queue (at its front)"),
    )
    note = forms.CharField(
        label=_lazy("Note for the servicer"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    force = forms.BooleanField(label=_lazy("Even if the seat is full (over its capacity)"), required=False)


def admin_reassign(*, session_ids: list[int], cleaned: dict[str, Any]) -> tuple[int, list[str]]:
    """Reassign each session; returns how many moved and the reasons of those refused."""
    seat = cleaned["seat"]
    moved, refusals = 0, []
    for session_id in session_ids:
        try:
            session_supervisor_reassign(
                session_id=session_id,
                to_seat_id=seat.pk if seat is not None else None,
                note=cleaned["note"],
                force=cleaned["force"],
            )
            moved += 1
        except ApplicationError as error:
            refusals.append(f"#{session_id}: {error.message}")
    return moved, refusals


def action_confirm_page(
    request: HttpRequest,
    model_admin: admin.ModelAdmin[Any],
    queryset: QuerySet[Any],
    *,
    action: str,
    form: forms.Form,
    title: str | Promise,
    question: str | Promise,
    submit_label: str | Promise,
) -> TemplateResponse:
    """An admin action's intermediate page: what is selected, a form, and a confirm button that
    posts the same action again."""
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "question": question,
        "submit_label": submit_label,
        "items": [str(row) for row in queryset[:100]],
        "selected": list(queryset.values_list("pk", flat=True)),
        "action": action,
        "form": form,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "admin/sessions_app/action_confirm.html", context)


class SeatStatusForm(forms.Form):
    status = forms.ChoiceField(label=_lazy("status"), choices=Seat.Status.choices)
    requeue = forms.BooleanField(required=False)
    note = forms.CharField(label=_lazy("Note for the servicer"), required=False, max_length=NOTE_MAX_LENGTH)


class WhisperForm(forms.Form):
    # Emptiness and length are the service's to refuse (with their own codes).
    text = forms.CharField(required=False, strip=False)


class TakeOverForm(forms.Form):
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)


@dataclass(frozen=True)
class ActionOutcome:
    done: bool
    requeued: int = 0
    # A whisper's place in the transcript, and whether the servicer has a console open to see it now.
    seq: int | None = None
    console_open: bool = True


def _cleaned(form: forms.Form) -> dict[str, object]:
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        label = form.fields[field].label if field in form.fields else None
        raise ApplicationError(f"{label}: {errors[0]}" if label else str(errors[0]), code="invalid_input")
    return form.cleaned_data


def live_reassign(*, session_id: int, data: dict[str, object]) -> ActionOutcome:
    cleaned = _cleaned(ReassignForm(data))
    seat = cleaned["seat"]
    session_supervisor_reassign(
        session_id=session_id,
        to_seat_id=seat if isinstance(seat, int) else None,
        note=str(cleaned["note"]),
        force=bool(cleaned["force"]),
    )
    return ActionOutcome(done=True)


def live_end(*, session_id: int, data: dict[str, object]) -> ActionOutcome:
    cleaned = _cleaned(EndForm(data))
    if not session_supervisor_end(session_id=session_id, note=str(cleaned["note"])):
        if not ServiceSession.objects.filter(pk=session_id).exists():
            raise ApplicationError(_("No such session."), code="not_found", status=404)
        raise ApplicationError(_("This session has ended."), code="closed", status=409)
    return ActionOutcome(done=True)


def live_seat_status(*, seat_id: int, data: dict[str, object]) -> ActionOutcome:
    cleaned = _cleaned(SeatStatusForm(data))
    requeued = seat_supervisor_status_set(
        seat_id=seat_id,
        status=Seat.Status(str(cleaned["status"])),
        requeue=bool(cleaned["requeue"]),
        note=str(cleaned["note"]),
    )
    return ActionOutcome(done=True, requeued=requeued)


def live_whisper(*, session_id: int, supervisor: AbstractBaseUser, data: dict[str, object]) -> ActionOutcome:
    cleaned = _cleaned(WhisperForm(data))
    message = session_supervisor_whisper(session_id=session_id, supervisor=supervisor, text=str(cleaned["text"]))
    return ActionOutcome(done=True, seq=message.seq, console_open=_console_open(message.seat_id))


def _console_open(seat_id: int | None) -> bool:
    """Whether the seat has a console open now: a servicer who works only in the IM app sees a
    whisper when they next open the console (its resync brings it), and the supervisor is told so.
    Taken as open when presence cannot be read (Redis down): the whisper is stored either way."""
    if seat_id is None:
        return False
    try:
        return presence_connection_count(seat_id=seat_id) > 0
    except RedisError:
        logger.warning("whisper to seat %s: its console presence could not be read", seat_id)
        return True


def live_take_over(*, session_id: int, supervisor: AbstractBaseUser, data: dict[str, object]) -> ActionOutcome:
    cleaned = _cleaned(TakeOverForm(data))
    session_supervisor_take_over(session_id=session_id, supervisor=supervisor, note=str(cleaned["note"]))
    return ActionOutcome(done=True)
