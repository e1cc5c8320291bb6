from __future__ import annotations

import re

from django import forms

_LOCATION_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


def _clean_token(value: str) -> str:
    value = value.strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    if len(value) < 8 or any(c.isspace() for c in value):
        raise forms.ValidationError("That does not look like a token: paste it exactly as HighLevel shows it.")
    return value


class PrivateTokenForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="How this location is shown in Tagscope.")
    location_id = forms.CharField(
        label="Location ID", max_length=64,
        help_text="HighLevel's location (sub-account) id, from Settings → Business Profile or the URL.",
    )
    token = forms.CharField(
        label="Private Integration token", widget=forms.PasswordInput(render_value=False),
        help_text="Made in HighLevel under Settings → Private Integrations, with the Social Planner read scopes.",
    )

    def clean_location_id(self) -> str:
        value = self.cleaned_data["location_id"].strip()
        if not _LOCATION_ID.match(value):
            raise forms.ValidationError("A location id is 6 to 64 letters, digits, '-' or '_'.")
        return value

    def clean_token(self) -> str:
        return _clean_token(self.cleaned_data["token"])


class RotateTokenForm(forms.Form):
    token = forms.CharField(
        label="New Private Integration token", widget=forms.PasswordInput(render_value=False),
        help_text="It is tried against HighLevel first; the old token is kept until the new one works.",
    )

    def clean_token(self) -> str:
        return _clean_token(self.cleaned_data["token"])


class DisconnectForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: the tokens are forgotten; mirrored data and history stay.", required=True
    )


class RenameForm(forms.Form):
    name = forms.CharField(label="Display name", max_length=200)
