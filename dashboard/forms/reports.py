"""Report, send, share and branding forms."""

from __future__ import annotations

from django import forms
from django.core.validators import validate_email

from dashboard.reports.branding import LOGO_MAX_BYTES, BrandingRefused, accent_clean
from dashboard.reports.models import SECTIONS, Report, ShareLink
from dashboard.selectors.campaigns import campaign_tags
from integrations.models import Location

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"),
            (6, "Sunday")]
MAX_RECIPIENTS = 20


def recipients_clean(value: str) -> str:
    addresses = [a.strip() for a in (value or "").replace(",", "\n").splitlines() if a.strip()]
    if len(addresses) > MAX_RECIPIENTS:
        raise forms.ValidationError(f"At most {MAX_RECIPIENTS} recipients.")
    for address in addresses:
        try:
            validate_email(address)
        except forms.ValidationError:
            raise forms.ValidationError(f"“{address}” is not an email address.") from None
    return "\n".join(addresses)


class ReportForm(forms.ModelForm):
    subject = forms.ChoiceField(label="Report on", choices=[("location", "One location"),
                                                            ("campaign", "One campaign across locations")],
                                widget=forms.RadioSelect, initial="location")
    location = forms.ModelChoiceField(queryset=Location.objects.order_by("name"), required=False,
                                      to_field_name="location_id", empty_label="Choose a location")
    campaign = forms.CharField(required=False, max_length=255,
                               widget=forms.TextInput(attrs={"list": "campaign-names"}),
                               help_text="A tag name; tags with the same name in any location count, "
                               "whatever their case or spaces, and so do names an admin merged into it.")
    sections = forms.MultipleChoiceField(choices=list(SECTIONS.items()), widget=forms.CheckboxSelectMultiple,
                                         initial=list(SECTIONS),
                                         help_text="Goals show only for locations that have goals set.")
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, initial=0, label="Day (weekly)")
    send_hour = forms.TypedChoiceField(choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int, initial=8,
                                       label="Time", help_text="In the location's own time zone.")

    class Meta:
        model = Report
        fields = ["name", "period", "custom_start", "custom_end", "note", "cadence", "weekday", "send_hour",
                  "recipients", "review_before_send"]
        labels = {"note": "Note for your client", "custom_start": "From", "custom_end": "To",
                  "cadence": "Send by email",
                  "review_before_send": "Hold each scheduled mailing until a marketer approves it"}
        widgets = {"custom_start": forms.DateInput(attrs={"type": "date"}),
                   "custom_end": forms.DateInput(attrs={"type": "date"}),
                   "note": forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
                   "recipients": forms.Textarea(attrs={"rows": 3, "placeholder": "client@example.com"})}
        help_texts = {"note": "A few words for your client, shown in the report and the mail.",
                      "recipients": "One address a line (or separated by commas).",
                      "period": "Compared with the period of the same length just before."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].label_from_instance = lambda location: location.name
        if self.instance.pk:
            self.initial.setdefault("subject", "campaign" if self.instance.campaign else "location")
            self.initial["location"] = self.instance.location.location_id if self.instance.location else None
            self.initial["sections"] = self.instance.sections

    def clean_recipients(self) -> str:
        return recipients_clean(self.cleaned_data.get("recipients", ""))

    def clean(self):
        data = super().clean()
        if data.get("subject") == "campaign":
            if not data.get("campaign") or campaign_tags(data["campaign"]) is None:
                self.add_error("campaign", "No location has a tag with this name.")
            data["location"] = None
        else:
            if not data.get("location"):
                self.add_error("location", "Choose the location to report on.")
            data["campaign"] = ""
        if data.get("period") == Report.Period.CUSTOM:
            start, end = data.get("custom_start"), data.get("custom_end")
            if not start or not end:
                self.add_error("custom_start", "A custom range needs both dates.")
            elif start > end:
                self.add_error("custom_end", "The end must not be before the start.")
            elif (end - start).days > 731:
                self.add_error("custom_end", "A report spans at most two years.")
        if data.get("cadence") and not data.get("recipients"):
            self.add_error("recipients", "A scheduled report needs at least one recipient.")
        return data

    def save(self, commit: bool = True) -> Report:
        report = super().save(commit=False)
        report.location = self.cleaned_data.get("location")
        report.campaign = (self.cleaned_data.get("campaign") or "").strip()
        report.sections = [s for s in SECTIONS if s in self.cleaned_data.get("sections", [])]
        if commit:
            report.save()
        return report


class SendForm(forms.Form):
    recipients = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="One address a line.")

    def clean_recipients(self) -> str:
        value = recipients_clean(self.cleaned_data["recipients"])
        if not value:
            raise forms.ValidationError("Name at least one recipient.")
        return value


class ShareForm(forms.Form):
    days = forms.IntegerField(min_value=ShareLink.MIN_DAYS, max_value=ShareLink.MAX_DAYS,
                              initial=ShareLink.DEFAULT_DAYS, label="Link works for (days)")


class BrandingForm(forms.Form):
    agency_name = forms.CharField(max_length=120, required=False)
    logo = forms.FileField(required=False, help_text=f"PNG, JPEG or WebP, at most {LOGO_MAX_BYTES // 1024} KB. "
                           "It is checked and stored again as PNG.",
                           widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}))
    remove_logo = forms.BooleanField(required=False, label="Remove the current logo")
    accent = forms.CharField(max_length=7, initial="#2f5bd3", label="Accent colour",
                             widget=forms.TextInput(attrs={"type": "color"}))
    footer = forms.CharField(max_length=300, required=False, help_text="Shown at the foot of every report.")

    def clean_accent(self) -> str:
        try:
            return accent_clean(self.cleaned_data["accent"])
        except BrandingRefused as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_logo(self) -> bytes | None:
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(f"The logo must be at most {LOGO_MAX_BYTES // 1024} KB.")
        return upload.read()
