"""The signed-in user's own page: personal API tokens (create, shown once; revoke), the weekly digest opt-in."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.api_tokens import DEFAULT_DAYS, MAX_DAYS, api_token_issue, api_token_revoke
from dashboard.roles import BROWSE, requires
from integrations.alerts.digest import digest_preference, digest_preference_set


class TokenForm(forms.Form):
    name = forms.CharField(label="Token name", max_length=100, help_text="Where you will use it, e.g. 'Looker'.")
    days = forms.IntegerField(label="Expires after (days)", min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS,
                              required=False, help_text=f"1 to {MAX_DAYS} days; empty: {DEFAULT_DAYS}.")


@require_http_methods(["GET", "POST"])
@requires(BROWSE)
@never_cache  # a new API token is shown on it, once
def profile(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_token = new_row = None
    if request.method == "POST" and form.is_valid():
        new_row, new_token = api_token_issue(user=request.user, name=form.cleaned_data["name"],
                                             days=form.cleaned_data["days"] or DEFAULT_DAYS)
        form = TokenForm()
    return render(request, "dashboard/profile.html", {
        "form": form, "new_token": new_token, "new_row": new_row, "tokens": request.user.api_tokens.all(),
        "weekly_digest": digest_preference(request.user),
    })


@require_POST
@requires(BROWSE)
def digest_preference_view(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("weekly_digest") == "on"
    digest_preference_set(user=request.user, weekly_digest=wanted)
    messages.success(request, "You will get the weekly statistics digest on Mondays." if wanted
                     else "No more weekly digest.")
    return redirect("profile")


@require_POST
@requires(BROWSE)
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    if api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked: requests using it are refused from now on.")
    else:
        messages.error(request, "No such active token.")
    return redirect("profile")
