"""Forms of the goals page: a goal, and how a location's anomaly alerts behave."""

from __future__ import annotations

from django import forms

from integrations.attention.health import WATCHED_METRICS
from integrations.highlevel.types import STATISTICS_PLATFORMS
from integrations.models import Goal

PLATFORM_CHOICES = [("", "All platforms"), *((p, p.capitalize()) for p in STATISTICS_PLATFORMS)]


class GoalForm(forms.Form):
    kind = forms.ChoiceField(label="Goal", choices=Goal.Kind.choices)
    platform = forms.ChoiceField(required=False, choices=PLATFORM_CHOICES,
                                 help_text="Posts per week may count one platform; the others read all platforms.")
    target = forms.FloatField(min_value=0.1, max_value=10_000_000,
                              help_text="Posts a week, engagement per post, followers gained or impressions a month.")


class MonitoringForm(forms.Form):
    threshold = forms.FloatField(
        required=False, min_value=1.0, max_value=50.0, label="Anomaly threshold",
        help_text="How many robust standard deviations from its usual value a day must be to alert. "
                  "Empty: the default for every location.")
    as_default = forms.BooleanField(
        required=False, label="Make this threshold the default for every location",
        help_text="Locations with a threshold of their own keep it.")
    muted = forms.MultipleChoiceField(
        required=False, label="Muted metrics", widget=forms.CheckboxSelectMultiple,
        choices=[(m, m.capitalize()) for m in WATCHED_METRICS],
        help_text="No anomaly alert for these metrics at this location.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("as_default") and cleaned.get("threshold") is None:
            self.add_error("threshold", "Give the threshold to make the default.")
        return cleaned
