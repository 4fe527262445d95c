from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from seats.models import Seat
from sessions_app.models import ServiceSession


class Rating(models.Model):
    """The customer's rating of one human session, credited to the seat fixed at prompt time."""

    class Channel(models.TextChoices):
        FORM = "form", _("Rating form")
        CHAT_DIGIT = "chat_digit", _("Digit in the chat")
        CONTROL = "control", _("Client control message")

    session = models.OneToOneField(
        ServiceSession, on_delete=models.CASCADE, related_name="rating", verbose_name=_("session")
    )
    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="ratings", verbose_name=_("seat"))
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True, max_length=1000)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.score}"
