"""Forms for webhook destinations: the destination itself, secret rotation, test sends, field mappings."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django import forms

from integrations.delivery import mapping, network
from integrations.models import Event, Location

EVENT_TYPE_CHOICES = [(t.value, t.value) for t in Event.Type]
OVERLAP_CHOICES = [("0", "No overlap: the old secret stops now"), ("3600", "1 hour"),
                   ("86400", "24 hours"), ("604800", "7 days")]


class DestinationForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="How this destination is shown, e.g. “Pleo” or “PEP Cloud”.")
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         help_text="Where events are POSTed as signed JSON.")
    event_types = forms.MultipleChoiceField(
        label="Events", choices=EVENT_TYPE_CHOICES, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event type."},
    )
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every location, including ones added later.",
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            network.target_check(url)
        except network.UnresolvableHost:
            pass  # it is checked again at every send; a name that resolves later is fine
        except network.DestinationRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url


class RotateSecretForm(forms.Form):
    overlap = forms.TypedChoiceField(
        choices=OVERLAP_CHOICES, initial="86400", coerce=lambda v: timedelta(seconds=int(v)),
        label="Keep signing with the old secret for",
        help_text="During the overlap every message carries both signatures, so the receiver can switch at ease.",
    )


class TestEventForm(forms.Form):
    event_type = forms.ChoiceField(choices=EVENT_TYPE_CHOICES, label="Event type")


class DeleteForm(forms.Form):
    confirm = forms.BooleanField(label="I understand: its mappings and delivery log are deleted too.")


# --- Field mapping rows ------------------------------------------------------------------------------------------
def value_text(value: Any) -> str:
    """How a constant or default is shown in the form, so that reading it back gives the same value."""
    if value is None:
        return ""
    if isinstance(value, str) and mapping.parse_value(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)


class MappingRowForm(forms.Form):
    target = forms.CharField(label="Output name", max_length=200, required=False)
    source = forms.CharField(label="Source path", max_length=200, required=False)
    constant = forms.CharField(label="or constant", max_length=200, required=False)
    transform = forms.ChoiceField(label="Transform", choices=list(mapping.TRANSFORMS.items()), required=False)
    arg = forms.CharField(label="Format / separator", max_length=200, required=False)
    default = forms.CharField(label="Default when empty", max_length=200, required=False)

    def row(self) -> dict[str, Any] | None:
        data = {k: (v or "").strip() for k, v in self.cleaned_data.items()}
        if not any(data.values()):
            return None
        row: dict[str, Any] = {"target": data["target"]}
        if data["constant"]:
            row["constant"] = mapping.parse_value(data["constant"])
        else:
            row["source"] = data["source"]
        for key in ("transform", "arg"):
            if data[key]:
                row[key] = data[key]
        if data["default"]:
            row["default"] = mapping.parse_value(data["default"])
        return row


MappingFormSet = forms.formset_factory(MappingRowForm, extra=0, max_num=mapping.MAX_ROWS, absolute_max=100)
BLANK_ROWS = 3


def mapping_formset(rows: list[dict[str, Any]], data: Any = None) -> forms.BaseFormSet:
    initial = [
        {"target": r.get("target", ""), "source": r.get("source", ""), "constant": value_text(r.get("constant")),
         "transform": r.get("transform", ""), "arg": r.get("arg", ""), "default": value_text(r.get("default"))}
        for r in rows
    ] + [{} for _ in range(BLANK_ROWS)]
    return MappingFormSet(data, initial=initial, prefix="rows")


def rows_from(formset: forms.BaseFormSet) -> list[dict[str, Any]] | None:
    """The non-blank rows, in order; None when the formset itself is broken (tampered management form)."""
    if not formset.is_valid():
        return None
    return [row for form in formset.forms if (row := form.row()) is not None]
