"""What servicers keep about a customer, shared by all of them and kept across chats: notes and tags.

The caller has checked that the servicer may see the customer (``selectors.customer_known_to``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from seats.models import Seat
from sessions_app.flow.customers import tag_name_clean, tags_resolve
from sessions_app.models import Customer, CustomerNote, Tag

CUSTOMER_TAGS_MAX = 20


def customer_note_create(*, customer: Customer, seat: Seat, text: str) -> CustomerNote:
    return CustomerNote.objects.create(customer=customer, author=seat, text=text.strip())


def _own_note(*, seat: Seat, note_id: int) -> CustomerNote:
    note = CustomerNote.objects.select_for_update(no_key=True).filter(pk=note_id).first()
    if note is None:
        raise ApplicationError(_("This note does not exist any more."), code="not_found", status=404)
    if note.author_id != seat.pk:
        raise ApplicationError(_("Only the note's author can change it."), code="not_author", status=403)
    return note


@transaction.atomic
def customer_note_update(*, note_id: int, seat: Seat, text: str) -> CustomerNote:
    note = _own_note(seat=seat, note_id=note_id)
    note.text, note.edited_at = text.strip(), timezone.now()
    note.save(update_fields=["text", "edited_at"])
    return note


@transaction.atomic
def customer_note_delete(*, note_id: int, seat: Seat) -> None:
    _own_note(seat=seat, note_id=note_id).delete()


@transaction.atomic
def customer_tag_add(*, customer: Customer, name: str) -> Tag:
    """Tag the customer (a new tag is created; an existing one is matched whatever its case)."""
    (tag,) = tags_resolve([name])
    if customer.tags.count() >= CUSTOMER_TAGS_MAX and not customer.tags.filter(pk=tag.pk).exists():
        raise ApplicationError(
            _("A customer may have at most %(count)d tags.") % {"count": CUSTOMER_TAGS_MAX}, code="too_many_tags"
        )
    customer.tags.add(tag)
    return tag


def customer_tag_remove(*, customer: Customer, name: str) -> None:
    """Untag the customer; a tag they do not have is no error. The tag itself stays for others."""
    customer.tags.remove(*Tag.objects.filter(name__iexact=tag_name_clean(name)))
