from __future__ import annotations

from django import forms

from integrations.models import Connection
from integrations.models.connections import SYNC_EVERY_MAX, SYNC_EVERY_MIN

_HELP = f"Minutes between refreshes, from {SYNC_EVERY_MIN} (every minute) to {SYNC_EVERY_MAX} (daily)."


class SyncFrequencyForm(forms.ModelForm):
    class Meta:
        model = Connection
        fields = ["tags_every_minutes", "statistics_every_minutes", "accounts_every_minutes"]
        labels = {"tags_every_minutes": "Tags every", "statistics_every_minutes": "Statistics every",
                  "accounts_every_minutes": "Accounts every"}
        help_texts = dict.fromkeys(fields, _HELP)
