"""Forms of the operations pages: the run history's filters and the statistics alert rules."""

from __future__ import annotations

from django import forms

from dashboard.params import DayField
from integrations.metrics import METRICS
from integrations.models import AlertRule, Connection, Location, SyncRun


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *SyncRun.Status.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *SyncRun.Kind.choices])
    location = forms.ModelChoiceField(required=False, queryset=Location.objects.order_by("name"),
                                      to_field_name="location_id", empty_label="Any location")
    connection = forms.ModelChoiceField(required=False, queryset=Connection.objects.order_by("name"),
                                        empty_label="Any connection")
    since = DayField(required=False, label="From")
    until = DayField(required=False, label="To")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            raise forms.ValidationError("“From” must not be after “To”.")
        return cleaned


class AlertRuleForm(forms.ModelForm):
    metric = forms.ChoiceField(choices=[(m, m.capitalize()) for m in METRICS])

    class Meta:
        model = AlertRule
        fields = ["name", "metric", "platform", "comparison", "threshold", "location", "is_active"]
        labels = {"comparison": "When the metric", "is_active": "Active", "platform": "Platform"}
        help_texts = {
            "name": "Shown in the alert, e.g. “Impressions fall over 30%”.",
            "platform": "Empty: all platforms together; or facebook, instagram, linkedin, ...",
            "threshold": "A percentage for week-over-week changes, a number for weekly totals.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(is_installed=True).order_by("name")
        self.fields["location"].empty_label = "Every location"

    def clean_threshold(self):
        threshold = self.cleaned_data["threshold"]
        if self.cleaned_data.get("comparison") in (AlertRule.Comparison.DROPS_BY, AlertRule.Comparison.RISES_BY) \
                and not 0 < threshold <= 1000:
            raise forms.ValidationError("Give a percentage above 0.")
        return threshold
