"""The customer-service settings form of the admin: texts are checked before they can break the flow.

The services fill placeholders with ``str.format``; a text with an unknown or malformed
placeholder would raise on the next customer, so it is refused here, with the allowed ones named.
"""

from __future__ import annotations

from string import Formatter

from django import forms
from django.utils.translation import gettext_lazy as _

from sessions_app.bot.matcher import Synonyms
from sessions_app.models import ServiceSettings

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

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        for field, allowed in TEXT_PLACEHOLDERS.items():
            value = cleaned.get(field)
            if isinstance(value, str) and (error := placeholder_error(value, allowed)):
                self.add_error(field, error)
        days = cleaned.get("business_days")
        if isinstance(days, str):
            parts = [part.strip() for part in days.split(",") if part.strip()]
            if not parts or any(part not in {"1", "2", "3", "4", "5", "6", "7"} for part in parts):
                self.add_error("business_days", _("Give ISO weekdays 1 to 7, separated by commas."))
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
