"""Alerts (read, acknowledge) and the statistics alert rules (admins edit them)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.forms.operations import AlertRuleForm
from dashboard.params import Params
from dashboard.roles import MANAGE_OPERATIONS, VIEW_OPERATIONS, has_permission, requires
from dashboard.selectors.operations_alerts import VIEWS, alert_counts, alert_rules, alerts_page
from integrations.alerts.engine import alert_acknowledge
from integrations.models import Alert, AlertRule


@require_GET
@requires(VIEW_OPERATIONS)
def alert_list(request: HttpRequest) -> HttpResponse:
    params = Params(request.GET, strict=False)
    show, page = params.choice("show", VIEWS, default="active"), params.page()
    params.report(request)
    return render(request, "operations/alerts.html", {
        "page": alerts_page(show=show, page=page), "show": show, "counts": alert_counts(),
        "can_manage": has_permission(request.user, MANAGE_OPERATIONS),
    })


@require_POST
@requires(MANAGE_OPERATIONS)
def alert_ack(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    if alert_acknowledge(alert, user=request.user):
        messages.success(request, "Acknowledged: no more reminders. It resolves by itself once the condition clears.")
    else:
        messages.info(request, "That alert is not open any more.")
    return redirect("operations_alerts")


@require_http_methods(["GET", "POST"])
@requires(MANAGE_OPERATIONS)
def rule_list(request: HttpRequest) -> HttpResponse:
    form = AlertRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.created_by = request.user
        rule.save()
        messages.success(request, f"Rule “{rule.name}” added; it is checked every minute.")
        return redirect("operations_rules")
    return render(request, "operations/rules.html", {"form": form, "rules": alert_rules()})


@require_http_methods(["GET", "POST"])
@requires(MANAGE_OPERATIONS)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk)
    form = AlertRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Rule “{rule.name}” saved.")
        return redirect("operations_rules")
    return render(request, "operations/rule_form.html", {"form": form, "rule": rule})


@require_POST
@requires(MANAGE_OPERATIONS)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk)
    rule.delete()
    messages.success(request, f"Rule “{rule.name}” deleted; its open alerts resolve at the next check.")
    return redirect("operations_rules")
