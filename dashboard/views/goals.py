"""A location's goals with their pacing, and its anomaly settings (`/locations/<id>/goals/`): everyone signed
in reads it; admins change it (`.../goals/edit/`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard.forms.goals import GoalForm, MonitoringForm
from dashboard.roles import BROWSE, MANAGE_OPERATIONS, requires
from dashboard.selectors.goals import attention_items, goals_pacing
from dashboard.selectors.locations import location_for
from integrations.attention import services
from integrations.models import AnomalyMute, AnomalyThreshold, Goal


def _monitoring_initial(location) -> dict:
    own = AnomalyThreshold.objects.filter(location=location).values_list("threshold", flat=True).first()
    return {"threshold": own, "muted": list(AnomalyMute.objects.filter(location=location)
                                            .values_list("metric", flat=True))}


def _default_threshold() -> float:
    row = AnomalyThreshold.objects.filter(location__isnull=True).values_list("threshold", flat=True).first()
    return row if row is not None else settings.ANOMALY_THRESHOLD


@require_GET
@requires(BROWSE)
def location_goals(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    return _page(request, location, GoalForm(), MonitoringForm(initial=_monitoring_initial(location)))


def _page(request: HttpRequest, location, goal_form: GoalForm, monitoring_form: MonitoringForm,
          status: int = 200) -> HttpResponse:
    return render(request, "goals/location.html", {
        "location": location, "pacing": goals_pacing(location_pks=[location.pk]).get(location.pk, []),
        "attention": attention_items(location_pks=[location.pk]).get(location.pk, []),
        "goal_form": goal_form, "monitoring_form": monitoring_form, "default_threshold": _default_threshold(),
        "muted": _monitoring_initial(location)["muted"],
    }, status=status)


@require_POST
@requires(MANAGE_OPERATIONS)
def location_goals_edit(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    action = request.POST.get("action")
    if action == "delete":
        goal = get_object_or_404(Goal, pk=request.POST.get("goal_id") or 0, location=location) \
            if str(request.POST.get("goal_id", "")).isdigit() else None
        if goal is None:
            messages.error(request, "No such goal.")
        else:
            services.goal_delete(goal=goal, actor=request.user)
            messages.success(request, f"Goal “{goal.get_kind_display()}” removed.")
        return redirect("location_goals", location.location_id)
    if action == "monitoring":
        form = MonitoringForm(request.POST)
        if not form.is_valid():
            return _page(request, location, GoalForm(), form, status=400)
        threshold = form.cleaned_data["threshold"]
        if form.cleaned_data["as_default"]:
            services.anomaly_threshold_set(location=None, threshold=threshold, actor=request.user)
            threshold = None  # this location follows the default it just set
        services.anomaly_threshold_set(location=location, threshold=threshold, actor=request.user)
        wanted = set(form.cleaned_data["muted"])
        for metric in {*wanted, *_monitoring_initial(location)["muted"]}:
            services.anomaly_mute_set(location=location, metric=metric, muted=metric in wanted, actor=request.user)
        messages.success(request, "Anomaly settings saved; they apply from the next check (every minute).")
        return redirect("location_goals", location.location_id)
    form = GoalForm(request.POST)
    if not form.is_valid():
        return _page(request, location, form, MonitoringForm(initial=_monitoring_initial(location)), status=400)
    goal = services.goal_set(location=location, actor=request.user, **form.cleaned_data)
    messages.success(request, f"Goal saved: {goal}.")
    return redirect("location_goals", location.location_id)
