"""Admins change how often a connection's locations are refreshed (the form sits on the connection's page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard.forms.schedules import SyncFrequencyForm
from dashboard.roles import MANAGE_OPERATIONS, requires
from integrations.models import Connection
from integrations.sync.scheduling import connection_sync_frequency_set


@require_POST
@requires(MANAGE_OPERATIONS)
def connection_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    form = SyncFrequencyForm(request.POST, instance=Connection.objects.get(pk=pk))
    if form.is_valid():
        connection_sync_frequency_set(connection=connection, **form.cleaned_data)
        messages.success(request, "Refresh schedule saved.")
    else:
        errors = "; ".join(f"{form.fields[name].label}: {' '.join(errs)}" for name, errs in form.errors.items())
        messages.error(request, f"Schedule not saved. {errors}")
    return redirect("connection_detail", pk=pk)
