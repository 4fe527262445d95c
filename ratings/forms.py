from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose from 1 to 5 stars.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
