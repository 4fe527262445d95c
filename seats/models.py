from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class SkillGroup(models.Model):
    """A team of seats that share a skill (技能组): after-sales, billing, a language; and its queue.

    A customer who chose a group waits for a seat of that group (sessions_app.flow.routing and
    assignment), within the group's business hours, until its overflow rule lets any seat take them.
    """

    name = models.CharField(_("name"), max_length=64, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    name_en = models.CharField(
        _("name (English)"), max_length=64, blank=True, help_text=_("Shown to customers who write English.")
    )
    menu_order = models.PositiveSmallIntegerField(
        _("menu order"), default=100, help_text=_("Position in the customers' menu of services (lower first).")
    )
    keywords = models.CharField(
        _("keywords"),
        max_length=200,
        blank=True,
        help_text=_(
            "Comma-separated words that name this group in a customer's message (“售后,退货”): “转售后” or “人工 售后”"
            " reaches it. Its name always does."
        ),
    )
    own_hours = models.BooleanField(
        _("own business hours"),
        default=False,
        help_text=_("Off: the business hours of the customer-service settings apply to this group."),
    )
    hours_start = models.TimeField(_("opens at"), default=time(9, 0), help_text=_("Local time."))
    hours_end = models.TimeField(_("closes at"), default=time(18, 0), help_text=_("Local time; after the opening."))
    business_days = models.CharField(
        _("business days"), max_length=20, default="1,2,3,4,5", help_text=_("ISO weekdays, 1 = Monday.")
    )
    overflow_minutes = models.PositiveIntegerField(
        _("overflow after (minutes)"),
        null=True,
        blank=True,
        help_text=_(
            "Empty: customers wait for a seat of this group. A number: after that many minutes in the queue, any"
            " online seat may take them."
        ),
    )

    class Meta:
        verbose_name = _("skill group")
        verbose_name_plural = _("skill groups")
        ordering = ["menu_order", "name"]

    def __str__(self) -> str:
        return self.name

    def name_for(self, language: str) -> str:
        return self.name_en.strip() or self.name if language == "en" else self.name

    def names(self) -> list[str]:
        """What names the group in a customer's message: its names and keywords."""
        words = [self.name, self.name_en, *self.keywords.replace("，", ",").split(",")]
        return [word.strip() for word in words if word.strip()]


class Seat(models.Model):
    """A servicer's place in the customer-service team: who they are to customers, and their load."""

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seat", verbose_name=_("user")
    )
    display_name = models.CharField(_("display name"), max_length=64)
    avatar_url = models.URLField(_("avatar URL"), blank=True)
    im_user_id = models.CharField(
        _("IM account"),
        max_length=64,
        blank=True,
        help_text=_("The servicer's Wildfire IM user id, for answering from the IM app. Optional."),
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OFFLINE)
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now_add=True)
    # Set when presence (seats.presence) made the seat away because its last console connection
    # dropped; such a seat comes back online by itself when the console reconnects.
    away_automatic = models.BooleanField(_("away automatically"), default=False)
    # Changed only by the assignment services under a row lock, together with the session rows.
    active_sessions = models.PositiveSmallIntegerField(_("active sessions"), default=0)
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)
    skill_groups = models.ManyToManyField(SkillGroup, blank=True, related_name="seats", verbose_name=_("skill groups"))

    class Meta:
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        constraints = [
            models.UniqueConstraint(
                fields=["im_user_id"], condition=~models.Q(im_user_id=""), name="seat_unique_im_user_id"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class ApiToken(models.Model):
    """A servicer's key for a custom client (the history and message APIs), issued and revoked in the console.

    The key is shown once, when it is issued; only its SHA-256 is kept. A slow password hash buys
    nothing here: the key is 32 random bytes, not something a person chose, so it cannot be guessed
    from its digest, and the digest is looked up directly on every request.
    """

    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("seat"))
    name = models.CharField(_("name"), max_length=64, blank=True)
    # The key's first characters, so that its owner can tell their tokens apart; not enough to use it.
    prefix = models.CharField(_("prefix"), max_length=16)
    digest = models.CharField(_("SHA-256 of the key"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["seat", "revoked_at"], name="api_token_seat_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})" if self.name else f"{self.prefix}…"
