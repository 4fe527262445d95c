from __future__ import annotations

import copy
from datetime import time
from time import monotonic
from typing import Any

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models, transaction
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_project.shared_cache import shared_cached, shared_forget
from seats.models import Seat, SkillGroup

# The languages customers are answered in (texts the bot and the flow send): the first is the default.
CUSTOMER_LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]


class Tag(models.Model):
    """A label servicers put on customers and on chats' wrap-ups ("VIP", "退款"): one shared list,
    so that the console offers the tags already in use and the same word is one tag whatever its case."""

    name = models.CharField(_("name"), max_length=32)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tag_name_unique_ignoring_case",
                violation_error_message=_("A tag with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A Wildfire IM user who talks to the CS Robot."""

    im_user_id = models.CharField(_("IM user id"), max_length=64, unique=True)
    display_name = models.CharField(_("display name"), max_length=128, blank=True)
    avatar_url = models.URLField(_("avatar URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("first contact"), auto_now_add=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.display_name or self.im_user_id


class CustomerNote(models.Model):
    """What a servicer wrote down about a customer: every servicer who serves them reads it, in every chat."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes", verbose_name=_("customer"))
    # Only the author edits or deletes a note; a deleted seat's notes stay, unsigned.
    author = models.ForeignKey(
        Seat, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("written by")
    )
    text = models.TextField(_("text"), max_length=2000)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="customer_note_newest_idx")]

    def __str__(self) -> str:
        return self.text[:40]


class ServiceSession(models.Model):
    """One customer-service conversation, from the first message to its close."""

    class State(models.TextChoices):
        BOT = "bot", _("Bot")
        QUEUED = "queued", _("Queued")
        HUMAN = "human", _("Human")
        CLOSED = "closed", _("Closed")

    class CloseReason(models.TextChoices):
        CUSTOMER_EXIT = "customer_exit", _("Customer left")
        SERVICER_END = "servicer_end", _("Ended by the servicer")
        IDLE_TIMEOUT = "idle_timeout", _("Idle timeout")
        QUEUE_TIMEOUT = "queue_timeout", _("Queue timeout")
        QUEUE_CANCELLED = "queue_cancelled", _("Left the queue")
        SUPERVISOR_END = "supervisor_end", _("Ended by a supervisor")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("customer")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.BOT)
    seat = models.ForeignKey(
        Seat, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions", verbose_name=_("seat")
    )
    conv_line = models.IntegerField(default=0)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    first_human_reply_at = models.DateTimeField(_("first human reply at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=32, choices=CloseReason.choices, blank=True)
    # The customer's last message (shown in the live view).
    last_customer_activity_at = models.DateTimeField(_("last customer activity"), auto_now_add=True)
    # Idle handling: when the idle clock started, and when the idle warning went out. The clock runs
    # only while the customer owes the reply: from their last message with the bot, from entering the
    # queue, from the servicer's last reply in human mode; None while the servicer owes the reply.
    idle_since = models.DateTimeField(_("idle since"), null=True, blank=True, default=timezone.now)
    idle_warned_at = models.DateTimeField(_("idle warning sent at"), null=True, blank=True)
    # Sequence numbers of the transcript (the console resyncs on them after a reconnect).
    last_seq = models.PositiveIntegerField(default=0)
    # Fixed when the rating prompt is sent: the seat a rating is credited to.
    rated_seat = models.ForeignKey(
        Seat,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rated_sessions",
        verbose_name=_("rated seat"),
    )
    # True while the customer may answer the rating prompt with a single digit in the chat.
    awaiting_rating_digit = models.BooleanField(default=False)
    # The customer's next text is kept as a left message: out of business hours or with no servicer
    # online (the session stays with the bot), and after a queue timeout (on the closed session).
    leaving_message = models.BooleanField(default=False)
    # The queue position last told to the customer (re-announced only when it changes).
    announced_position = models.PositiveIntegerField(null=True, blank=True)
    # The language the customer writes in (the texts they are sent follow it): "zh-hans" or "en".
    language = models.CharField(
        _("language"), max_length=8, choices=CUSTOMER_LANGUAGES, default="zh-hans", db_default="zh-hans"
    )
    # The numbered choices of the bot's last message ("faq:<id>", "human", or "group:<id>" in the menu of
    # services: flow.routing), for as long as it is the last thing the bot said: a reply "2" picks the
    # second. Empty when that message had no list.
    bot_menu = models.JSONField(default=list, db_default=[], blank=True)
    # The bot's "I don't know" answers in a row (after two it offers a person itself).
    bot_misses = models.PositiveSmallIntegerField(default=0, db_default=0)
    # The skill group the customer asked for (its queue, its seats); None: any seat. SET_NULL, not
    # PROTECT: a supervisor may delete a group that served customers; its waiting customers then
    # wait for any seat, and the reports count its past sessions as ungrouped.
    skill_group = models.ForeignKey(
        SkillGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("skill group"),
    )

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=~models.Q(state="closed"), name="one_open_session_per_customer"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="human") | models.Q(seat__isnull=False), name="human_session_has_seat"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "queued_at"], name="session_queue_idx"),
            models.Index(fields=["state", "idle_since"], name="session_idle_clock_idx"),
            models.Index(fields=["seat", "state"], name="session_seat_idx"),
            models.Index(fields=["seat", "-opened_at"], name="session_seat_newest_idx"),  # the console's search
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer}"

    @property
    def is_open(self) -> bool:
        return self.state != self.State.CLOSED


class SessionWrapUp(models.Model):
    """How a chat ended, in its servicer's words: tags and a short summary, written when it ends.

    A row of its own rather than columns on the session: the session row is read and written by
    every customer message, and most sessions (bot-only ones) never get a wrap-up."""

    session = models.OneToOneField(
        ServiceSession, on_delete=models.CASCADE, primary_key=True, related_name="wrap_up", verbose_name=_("session")
    )
    summary = models.TextField(_("summary"), max_length=1000, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="wrap_ups", verbose_name=_("tags"))
    seat = models.ForeignKey(
        Seat, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("written by")
    )
    written_at = models.DateTimeField(_("written at"), auto_now=True)

    class Meta:
        verbose_name = _("wrap-up")
        verbose_name_plural = _("wrap-ups")

    def __str__(self) -> str:
        return f"{self.session_id}: {self.summary[:40]}"


class SessionEvent(models.Model):
    """The session's timeline: what happened, when, and to which seat."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        HUMAN_REQUESTED = "human_requested", _("Human requested")
        QUEUED = "queued", _("Queued")
        ASSIGNED = "assigned", _("Assigned")
        TRANSFERRED = "transferred", _("Transferred")
        FIRST_HUMAN_REPLY = "first_human_reply", _("First human reply")
        IDLE_WARNED = "idle_warned", _("Idle warning")
        CLOSED = "closed", _("Closed")

    session = models.ForeignKey(
        ServiceSession, on_delete=models.CASCADE, related_name="events", verbose_name=_("session")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    seat = models.ForeignKey(
        Seat, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("seat")
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("session event")
        verbose_name_plural = _("session events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.session_id} {self.kind}"


class Message(models.Model):
    """One message of a session's transcript, in either direction."""

    class Direction(models.TextChoices):
        IN = "in", _("From the customer")
        OUT = "out", _("To the customer")
        # A supervisor's whisper to the servicer: never sent to the customer, never in their history.
        INTERNAL = "internal", _("Internal (not sent to the customer)")

    class Author(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        BOT = "bot", _("Bot")
        SERVICER = "servicer", _("Servicer")
        SYSTEM = "system", _("System")
        SUPERVISOR = "supervisor", _("Supervisor")

    session = models.ForeignKey(
        ServiceSession, on_delete=models.CASCADE, related_name="messages", verbose_name=_("session")
    )
    seq = models.PositiveIntegerField(_("sequence"))
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    author = models.CharField(_("author"), max_length=16, choices=Author.choices)
    seat = models.ForeignKey(
        Seat, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("seat")
    )
    content_type = models.IntegerField(_("content type"))
    payload = models.JSONField(_("payload"))
    im_message_id = models.BigIntegerField(_("IM message id"), null=True, blank=True)
    # Server time in ms: the IM server's for inbound messages, ours for messages we send.
    server_timestamp = models.BigIntegerField(_("server time (ms)"))
    created_at = models.DateTimeField(_("stored at"), auto_now_add=True)
    # Why the bot said this (a bot answer or suggestion): the outcome, the entries and their scores.
    bot_match = models.JSONField(_("bot match"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["server_timestamp", "seq"]
        constraints = [models.UniqueConstraint(fields=["session", "seq"], name="message_seq_unique")]
        indexes = [
            models.Index(fields=["session", "server_timestamp"], name="message_time_idx"),
            # The console's search (sessions_app/console/search.py): ILIKE '%…%' on the text, any language.
            GinIndex(OpClass(KT("payload__searchableContent"), name="gin_trgm_ops"), name="message_text_trgm_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq}"


class FaqEntry(models.Model):
    question = models.CharField(_("question"), max_length=200)
    alternatives = models.TextField(_("alternative phrasings"), blank=True, help_text=_("One per line."))
    answer = models.TextField(_("answer"))
    question_en = models.CharField(
        _("question (English)"), max_length=200, blank=True, help_text=_("Shown to customers who write English.")
    )
    answer_en = models.TextField(
        _("answer (English)"),
        blank=True,
        help_text=_("Sent to customers who write English; empty: they get the Chinese answer."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # Order in the welcome text's list of common questions (lower first).
    rank = models.PositiveSmallIntegerField(_("rank"), default=100)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["rank", "id"]

    def __str__(self) -> str:
        return self.question

    def phrasings(self) -> list[str]:
        """The question, its English version and the alternatives: what the bot matches questions on."""
        lines = (line.strip() for line in self.alternatives.splitlines())
        return [self.question, *([self.question_en.strip()] if self.question_en.strip() else []), *filter(None, lines)]

    def question_for(self, language: str) -> str:
        return self.question_en.strip() or self.question if language == "en" else self.question

    def answer_for(self, language: str) -> str:
        return self.answer_en.strip() or self.answer if language == "en" else self.answer

    @classmethod
    def enabled_entries(cls) -> tuple[FaqEntry, ...]:
        """The enabled entries in rank order, cached as the settings row is (the bot reads them on
        every question): this process's copy for ``FAQ_LOCAL_SECONDS``, then the shared cache.
        Saving or deleting an entry drops both (``faq_forget``, connected in ``AppConfig.ready``)."""
        entries = list(_local_faq)  # a copy: another thread may clear the list meanwhile
        if entries and entries[0][0] > monotonic():
            return entries[0][1]
        generation = _faq_generation[0]
        cached = shared_cached(
            FAQ_CACHE_KEY,
            lambda: tuple(cls.objects.filter(enabled=True).order_by("rank", "id")),
            accept=lambda value: isinstance(value, tuple),
            timeout=SERVICE_SETTINGS_CACHE_SECONDS,
        )
        if _faq_generation[0] == generation:  # else a save in this process dropped it meanwhile
            _local_faq[:] = [(monotonic() + FAQ_LOCAL_SECONDS, cached)]
        return cached


FAQ_CACHE_KEY = "faq-entries:v2"  # moved on when the model changes: no process reads an old shape
FAQ_LOCAL_SECONDS = 2.0
_local_faq: list[tuple[float, tuple[FaqEntry, ...]]] = []
_faq_generation = [0]  # moved on by every drop: a read begun before it keeps no local copy


def faq_forget(**_signal: object) -> None:
    """Drop every cached copy of the FAQ (the shared one and this process's), now and when the
    transaction commits (no process can cache the old entries in between); a signal receiver."""
    _faq_generation[0] += 1
    _local_faq.clear()
    shared_forget(FAQ_CACHE_KEY)
    if _signal:
        transaction.on_commit(faq_forget)


class LeftMessage(models.Model):
    """A message left by a customer whom no servicer could take (out of business hours, nobody
    online, or the queue timed out), for servicers to pick up."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="left_messages", verbose_name=_("customer")
    )
    session = models.ForeignKey(
        ServiceSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("session")
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("left at"), auto_now_add=True)
    handled_by = models.ForeignKey(
        Seat, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("handled by")
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("left message")
        verbose_name_plural = _("left messages")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.customer}: {self.text[:30]}"


SERVICE_SETTINGS_CACHE_KEY = "service-settings:v2"  # as FAQ_CACHE_KEY
SERVICE_SETTINGS_CACHE_SECONDS = 300
# Each process also keeps the row it last read this long: every customer message reads the settings,
# and the shared cache's round trip and unpickling were 14% of a callback's time (docs/benchmarks.md).
# A change made in another process is seen within this delay; the saving process sees it at once.
SERVICE_SETTINGS_LOCAL_SECONDS = 2.0
_local_settings: list[tuple[float, ServiceSettings]] = []
_settings_generation = [0]  # moved on by every drop: a read begun before it keeps no local copy


def service_settings_forget() -> None:
    """Drop every cached copy of the settings row (the shared one and this process's)."""
    _settings_generation[0] += 1
    _local_settings.clear()
    shared_forget(SERVICE_SETTINGS_CACHE_KEY)


class ServiceSettings(models.Model):
    """Customer-service settings that supervisors change in the admin without a restart (one row)."""

    welcome_text = models.TextField(
        _("welcome text"), default="您好，欢迎咨询！请直接输入您的问题，需要人工服务请发送“转人工”。"
    )
    common_questions_title = models.CharField(
        _("common questions title"),
        max_length=100,
        default="常见问题：",
        help_text=_("Shown before the list of the most common FAQ questions, when there are any."),
    )
    fallback_text = models.TextField(_("no answer text"), default="抱歉，我没有找到答案。发送“转人工”联系人工客服。")
    answer_threshold = models.FloatField(
        _("answer threshold"),
        default=0.55,
        help_text=_(
            "From 0 to 1: how sure the bot must be to answer with an FAQ entry. Higher: fewer wrong answers and more"
            " questions offered a list or a person. docs/bot.md gives the figures behind the default."
        ),
    )
    suggest_threshold = models.FloatField(
        _("suggestion threshold"),
        default=0.2,
        help_text=_(
            "From 0 to 1, below the answer threshold: a question scored between the two gets a numbered list of the"
            " closest entries (“Did you mean…”) instead of an answer. Below it, the bot says it does not know."
        ),
    )
    answer_margin = models.FloatField(
        _("answer margin"),
        default=0.1,
        help_text=_(
            "How far the best entry must lead the second to be answered outright; closer than this, the customer"
            " is asked to choose between them."
        ),
    )
    faq_synonyms = models.TextField(
        _("synonyms"),
        blank=True,
        default=(
            "退款 退钱 返款\n发票 开票 票据\n地址 收货地址 收件地址\n快递 物流 包裹\n优惠券 优惠卷 红包\n密码 登录密码"
        ),
        help_text=_(
            "One group per line, words separated by spaces: the bot treats every word of a line as the first one"
            " (“退款 退钱” makes “退钱” find the entries about “退款”)."
        ),
    )
    human_intent_phrases = models.CharField(
        _("phrases asking for a person"),
        max_length=300,
        default="转人工,人工客服,人工服务,人工,找客服,真人,客服在吗,human,agent,real person,operator,customer service",
        help_text=_(
            "A message containing one of these (spaces and punctuation ignored) asks for a servicer, unless it"
            " says not to (“不用人工”). The transfer keywords above must match the whole message."
        ),
    )
    transfer_keywords = models.CharField(_("transfer keywords"), max_length=200, default="转人工,人工客服")
    exit_keywords = models.CharField(_("exit keywords"), max_length=200, default="结束会话,end chat")
    cancel_queue_keywords = models.CharField(_("leave-queue keywords"), max_length=200, default="取消排队,cancel")
    start_service_command = models.CharField(_("start service command"), max_length=32, default="开始服务")
    stop_service_command = models.CharField(_("stop service command"), max_length=32, default="结束服务")
    assigned_text = models.CharField(_("assigned text"), max_length=200, default="客服 {name} 为您服务。")
    transferred_text = models.CharField(
        _("transferred text"), max_length=200, default="您的会话已转接给客服 {name}，请继续描述您的问题。"
    )
    queued_text = models.CharField(
        _("queued text"),
        max_length=200,
        default="当前客服繁忙，您前面还有 {ahead} 位，请稍候。发送“取消排队”可退出排队。",
    )
    closed_text = models.CharField(_("closed text"), max_length=200, default="本次会话已结束，感谢您的咨询。")
    idle_warning_text = models.CharField(
        _("idle warning text"),
        max_length=200,
        default="您已经有一段时间没有回复了，会话将在 {minutes} 分钟后自动结束。",
    )
    idle_closed_text = models.CharField(
        _("idle close text"), max_length=200, default="由于长时间未回复，会话已自动结束。"
    )
    bot_idle_minutes = models.PositiveIntegerField(_("bot mode idle close (minutes)"), default=10)
    queue_timeout_minutes = models.PositiveIntegerField(_("queue timeout (minutes)"), default=30)
    human_idle_warning_minutes = models.PositiveIntegerField(_("human mode idle warning (minutes)"), default=5)
    human_idle_close_minutes = models.PositiveIntegerField(
        _("human mode idle close after warning (minutes)"), default=3
    )
    queue_timeout_text = models.CharField(
        _("queue timeout text"),
        max_length=300,
        default="目前排队人数较多，暂时无法为您接通人工客服。您可以留言，客服会尽快联系您。",
        help_text=_("Sent instead of the idle texts when a customer waited in the queue too long."),
    )
    business_hours_enabled = models.BooleanField(_("limit to business hours"), default=False)
    business_hours_start = models.TimeField(_("business hours start"), default=time(9, 0))
    business_hours_end = models.TimeField(_("business hours end"), default=time(18, 0))
    business_days = models.CharField(
        _("business days"), max_length=20, default="1,2,3,4,5", help_text=_("ISO weekdays, 1 = Monday.")
    )
    out_of_hours_text = models.CharField(
        _("out-of-hours text"),
        max_length=300,
        default="现在是非工作时间（{hours}）。您可以直接留言，客服上班后会第一时间处理。",
    )
    no_servicer_online_text = models.CharField(
        _("no servicer online text"),
        max_length=300,
        default="现在没有客服在线。您可以直接留言，客服会尽快联系您。",
        help_text=_("Sent instead of queueing when a customer asks for a human and no seat is online."),
    )
    left_message_received_text = models.CharField(
        _("left message received text"), max_length=200, default="您的留言已收到，客服会尽快联系您。"
    )
    rating_prompt_text = models.CharField(
        _("rating prompt text"),
        max_length=300,
        default="请为本次服务打分：回复数字 1-5（5 为非常满意），或打开链接评价：{url}",
    )
    suggest_text = models.CharField(
        _("suggestions text"),
        max_length=200,
        default="您是不是想问（回复数字即可）：",
        help_text=_("Shown before the numbered list of the closest entries when the bot is unsure."),
    )
    offer_human_text = models.CharField(
        _("offer of a person text"),
        max_length=300,
        default="抱歉，我好像没能帮上忙。回复“1”为您转接人工客服，也可以换个说法再问我。",
        help_text=_("Sent after two questions in a row the bot could not answer; a reply “1” asks for a servicer."),
    )
    skill_group_menu_enabled = models.BooleanField(
        _("offer skill groups as a menu"),
        default=False,
        db_default=False,
        help_text=_(
            "When on, a customer who asks for a person first picks a service from a numbered list of the skill"
            " groups that have seats; each group has its own queue."
        ),
    )
    skill_group_menu_text = models.CharField(
        _("service menu text"),
        max_length=200,
        default="请选择服务类型（回复数字）：",
        db_default="请选择服务类型（回复数字）：",
        help_text=_("Shown before the numbered list of skill groups."),
    )
    wrap_up_required = models.BooleanField(
        _("wrap-up required"),
        default=False,
        db_default=False,
        help_text=_("Servicers must give tags or a summary to end a chat; otherwise the wrap-up can be skipped."),
    )
    # What customers who write English are sent: each text above in English (empty: the Chinese one).
    welcome_text_en = models.TextField(
        _("welcome text (English)"),
        blank=True,
        default="Hello, welcome! Type your question, or send “human” to talk to a person.",
    )
    common_questions_title_en = models.CharField(
        _("common questions title (English)"), max_length=100, blank=True, default="Common questions:"
    )
    fallback_text_en = models.TextField(
        _("no answer text (English)"),
        blank=True,
        default="Sorry, I could not find an answer. Send “human” to talk to a person.",
    )
    suggest_text_en = models.CharField(
        _("suggestions text (English)"), max_length=200, blank=True, default="Did you mean (reply with a number):"
    )
    offer_human_text_en = models.CharField(
        _("offer of a person text (English)"),
        max_length=300,
        blank=True,
        default="Sorry, I don't seem to be helping. Reply “1” to talk to a person, or ask me in other words.",
    )
    assigned_text_en = models.CharField(
        _("assigned text (English)"), max_length=200, blank=True, default="{name} is here to help you."
    )
    transferred_text_en = models.CharField(
        _("transferred text (English)"),
        max_length=200,
        blank=True,
        default="Your chat has been passed to {name}; please go on describing your question.",
    )
    queued_text_en = models.CharField(
        _("queued text (English)"),
        max_length=200,
        blank=True,
        default="All our servicers are busy; {ahead} customers are ahead of you. Send “cancel” to leave the queue.",
    )
    closed_text_en = models.CharField(
        _("closed text (English)"), max_length=200, blank=True, default="This chat has ended. Thank you!"
    )
    idle_warning_text_en = models.CharField(
        _("idle warning text (English)"),
        max_length=200,
        blank=True,
        default="We have not heard from you for a while; this chat will end in {minutes} minutes.",
    )
    idle_closed_text_en = models.CharField(
        _("idle close text (English)"),
        max_length=200,
        blank=True,
        default="This chat has ended because we did not hear from you.",
    )
    queue_timeout_text_en = models.CharField(
        _("queue timeout text (English)"),
        max_length=300,
        blank=True,
        default="Many customers are waiting and we cannot connect you to a servicer now. Leave us a message and we"
        " will get back to you soon.",
    )
    out_of_hours_text_en = models.CharField(
        _("out-of-hours text (English)"),
        max_length=300,
        blank=True,
        default="We are closed now (open {hours}). Leave us a message and we will answer first thing.",
    )
    no_servicer_online_text_en = models.CharField(
        _("no servicer online text (English)"),
        max_length=300,
        blank=True,
        default="No servicer is online now. Leave us a message and we will get back to you soon.",
    )
    left_message_received_text_en = models.CharField(
        _("left message received text (English)"),
        max_length=200,
        blank=True,
        default="We have your message and will get back to you soon.",
    )
    skill_group_menu_text_en = models.CharField(
        _("service menu text (English)"),
        max_length=200,
        blank=True,
        default="Which service do you need (reply with a number)?",
        db_default="Which service do you need (reply with a number)?",
    )
    rating_prompt_text_en = models.CharField(
        _("rating prompt text (English)"),
        max_length=300,
        blank=True,
        default="Please rate our service: reply with a number from 1 to 5 (5 = very satisfied), or open {url}",
    )

    class Meta:
        verbose_name = _("customer-service settings")
        verbose_name_plural = _("customer-service settings")

    def __str__(self) -> str:
        return str(_("customer-service settings"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        service_settings_forget()
        super().save(*args, **kwargs)
        transaction.on_commit(service_settings_forget)

    @classmethod
    def load(cls) -> ServiceSettings:
        """The one row, from the shared cache when it is there: every customer message reads it.

        Saving drops the cached copies (now, and again when the transaction commits, so no process
        can cache the old row in between); the timeouts bound anything missed, such as a change
        made with SQL, or made in another process (``SERVICE_SETTINGS_LOCAL_SECONDS``).
        """
        entries = list(_local_settings)  # a copy: another thread may clear the list meanwhile
        local = entries[0] if entries else None
        if local is not None and local[0] > monotonic():
            return copy.copy(local[1])  # a copy: a caller may change fields (the settings form)
        generation = _settings_generation[0]
        created: list[bool] = []

        def read() -> ServiceSettings:
            row, made = cls.objects.get_or_create(pk=1)
            if made:
                created.append(made)  # its own save dropped the copies: this row is the newest
            return row

        settings_row = shared_cached(
            SERVICE_SETTINGS_CACHE_KEY,
            read,
            accept=lambda value: isinstance(value, cls),
            timeout=SERVICE_SETTINGS_CACHE_SECONDS,
        )
        # Unless a save in this process dropped the copies meanwhile (then this row may be older).
        if created or _settings_generation[0] == generation:
            _local_settings[:] = [(monotonic() + SERVICE_SETTINGS_LOCAL_SECONDS, copy.copy(settings_row))]
        return settings_row

    def text(self, name: str, language: str) -> str:
        """The customer text ``name`` (a field, such as ``"queued_text"``) in the customer's language:
        the English variant for ``"en"`` when it is filled in, else the Chinese one."""
        if language == "en" and (english := getattr(self, f"{name}_en", "")).strip():
            return str(english)
        return str(getattr(self, name))

    @staticmethod
    def _keywords(raw: str) -> frozenset[str]:
        return frozenset(word.strip() for word in raw.replace("，", ",").split(",") if word.strip())

    @property
    def transfer_keyword_set(self) -> frozenset[str]:
        return self._keywords(self.transfer_keywords)

    @property
    def exit_keyword_set(self) -> frozenset[str]:
        return self._keywords(self.exit_keywords)

    @property
    def human_intent_phrase_set(self) -> frozenset[str]:
        return self._keywords(self.human_intent_phrases)

    @property
    def cancel_queue_keyword_set(self) -> frozenset[str]:
        return self._keywords(self.cancel_queue_keywords)


class CannedReply(models.Model):
    """A ready-made answer a servicer inserts with ``/shortcut``: global (no owner, kept by
    supervisors in the admin) or personal (kept by its seat in the console)."""

    owner = models.ForeignKey(
        Seat,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("owner"),
        help_text=_("Empty for a reply every servicer can use."),
    )
    shortcut = models.SlugField(
        _("shortcut"), max_length=32, allow_unicode=True, help_text=_("Typed after a slash in the console: /shortcut")
    )
    text = models.TextField(_("text"), max_length=2000)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["shortcut", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "shortcut"], name="canned_reply_unique_personal_shortcut"),
            models.UniqueConstraint(
                fields=["shortcut"], condition=models.Q(owner__isnull=True), name="canned_reply_unique_global_shortcut"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"
