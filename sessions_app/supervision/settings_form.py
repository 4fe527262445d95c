"""The customer-service settings form of the admin: texts are checked before they can break the flow.

The services fill placeholders with ``str.format``; a text with an unknown or malformed
placeholder would raise on the next customer, so it is refused here, with the allowed ones named.
"""

from __future__ import annotations

from string import Formatter

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from seats.hours import business_days_error
from sessions_app.bot.matcher import Synonyms
from sessions_app.models import ServiceSettings

StrOrPromise = str | Promise

# The placeholders each text may use (what the services pass to ``str.format``).
_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "welcome_text": (),
    "fallback_text": (),
    "assigned_text": ("name",),
    "transferred_text": ("name",),
    "queued_text": ("ahead", "position"),
    "closed_text": (),
    "idle_warning_text": ("minutes",),
    "idle_closed_text": (),
    "out_of_hours_text": ("hours",),
    "rating_prompt_text": ("url", "name"),
}
# Each text's English variant (``<name>_en``) is formatted with the same values.
TEXT_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    **_PLACEHOLDERS,
    **{f"{name}_en": allowed for name, allowed in _PLACEHOLDERS.items()},
}


# What each setting does, for those whose model field carries no help text (labels and help live
# here, not in a migration). Every editable setting ends up with one: the test checks it.
SETTING_HELP: dict[str, StrOrPromise] = {
    "welcome_text": _("Sent by the bot when a customer first writes; say how to reach a human."),
    "fallback_text": _("Sent when the bot finds no answer in the FAQ and no suggestion."),
    "transfer_keywords": _(
        "Comma-separated. A message that is exactly one of these asks for a human servicer (see also the phrases)."
    ),
    "exit_keywords": _("Comma-separated. A message that is exactly one of these ends the customer's session."),
    "cancel_queue_keywords": _("Comma-separated. A queued customer who sends one of these leaves the queue."),
    "start_service_command": _("A servicer sends this to the CS robot in their IM app to start taking chats."),
    "stop_service_command": _("A servicer sends this to the CS robot in their IM app to stop taking new chats."),
    "assigned_text": _("Sent to the customer when a seat takes the chat."),
    "transferred_text": _("Sent to the customer when the chat is transferred to another seat."),
    "queued_text": _("Sent when the customer joins the queue, and again when their position changes."),
    "closed_text": _("Sent when the chat ends (the servicer or the customer ended it)."),
    "idle_warning_text": _("Sent when a customer with a servicer has been silent for the reminder time."),
    "idle_closed_text": _("Sent when the chat is closed because the customer stayed silent after the reminder."),
    "bot_idle_minutes": _("A chat with the bot only is closed after this many minutes without a message."),
    "queue_timeout_minutes": _(
        "A customer waiting longer than this in the queue is told so and may leave a message instead."
    ),
    "human_idle_warning_minutes": _("Minutes of customer silence, in a chat with a servicer, before the reminder."),
    "human_idle_close_minutes": _("Minutes after the reminder before the chat is closed, if the customer is silent."),
    "business_hours_enabled": _("When on, customers asking for a human outside business hours get the text below."),
    "business_hours_start": _("Local time (the server's time zone)."),
    "business_hours_end": _("Local time; must be after the start."),
    "out_of_hours_text": _("Sent to a customer who asks for a human outside business hours."),
    "left_message_received_text": _(
        "Sent to a customer after they left a message (when nobody could take the chat); servicers see it later."
    ),
    "rating_prompt_text": _("Sent when a servicer's chat ends, with the link to the rating page."),
}
ENGLISH_VARIANT_HELP = _("Sent to customers whose language is English; empty: the Chinese text is sent.")


def placeholder_error(text: str, allowed: tuple[str, ...]) -> str | None:
    """None when ``text.format(...)`` works with the allowed placeholders, whatever their values;
    else why not. Only plain ``{name}``: a format spec (``{ahead:s}``) or an attribute
    (``{ahead.real}``) would fail, or leak, with the values the services pass."""
    if not allowed:
        return None  # sent as is, never formatted
    try:
        fields = [
            (name, spec, conversion) for _text, name, spec, conversion in Formatter().parse(text) if name is not None
        ]
    except ValueError:
        return str(_("Unbalanced braces: write {{ and }} for literal braces."))
    for name, spec, conversion in fields:
        if name not in allowed or spec or conversion:
            return str(_("Unknown placeholder. Allowed: %(names)s.")) % {
                "names": ", ".join("{" + name + "}" for name in allowed)
            }
    return None


class ServiceSettingsForm(forms.ModelForm[ServiceSettings]):
    class Meta:
        model = ServiceSettings
        # Every setting, including ones added later (the admin's fieldsets choose the layout).
        fields = [field.name for field in ServiceSettings._meta.fields if field.editable and not field.primary_key]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, field in self.fields.items():
            if not field.help_text:
                base = name.removesuffix("_en")
                # Evaluated now, in the request's language (a form lives for one request).
                field.help_text = str(ENGLISH_VARIANT_HELP if name.endswith("_en") else SETTING_HELP.get(base, ""))
            allowed = TEXT_PLACEHOLDERS.get(name, ())
            if allowed:
                names = ", ".join("{" + placeholder + "}" for placeholder in allowed)
                field.help_text = f"{field.help_text} {_('Placeholders: %(names)s.') % {'names': names}}"

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        for field, allowed in TEXT_PLACEHOLDERS.items():
            value = cleaned.get(field)
            if isinstance(value, str) and (error := placeholder_error(value, allowed)):
                self.add_error(field, error)
        days = cleaned.get("business_days")
        if isinstance(days, str) and (days_error := business_days_error(days)):
            self.add_error("business_days", days_error)
        start, end = cleaned.get("business_hours_start"), cleaned.get("business_hours_end")
        if start is not None and end is not None and start >= end:
            self.add_error("business_hours_end", _("Business hours must end after they start."))
        self._bot_clean(cleaned)
        return cleaned

    def _bot_clean(self, cleaned: dict[str, object]) -> None:
        answer, suggest, margin = (
            cleaned.get(name) for name in ("answer_threshold", "suggest_threshold", "answer_margin")
        )
        for name, value in (("answer_threshold", answer), ("suggest_threshold", suggest), ("answer_margin", margin)):
            if isinstance(value, float) and not 0 <= value <= 1:
                self.add_error(name, _("Give a value between 0 and 1."))
        if isinstance(answer, float) and isinstance(suggest, float) and suggest > answer:
            self.add_error("suggest_threshold", _("The suggestion threshold must not be above the answer threshold."))
        synonyms = cleaned.get("faq_synonyms")
        if isinstance(synonyms, str) and (single := Synonyms(synonyms).single_characters()):
            self.add_error(
                "faq_synonyms",
                _("Words of one Chinese character would be replaced inside other words (“券” in “证券”): %(words)s.")
                % {"words": "、".join(single)},
            )
