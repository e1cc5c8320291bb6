"""Share links (make, list, revoke), the public share page, report mailings (log, review, resend) and the
agency's branding."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.forms.reports import BrandingForm, ShareForm
from dashboard.reports.access import delivery_for, report_for, reports_visible, share_link_for, with_report_headers
from dashboard.reports.branding import BrandingRefused, branding_context, branding_save
from dashboard.reports.mailing import DeliveryRefused, delivery_approve, delivery_discard, delivery_resend
from dashboard.reports.models import Branding, ReportDelivery
from dashboard.reports.render import report_context, report_html
from dashboard.reports.share import (
    ShareRefused,
    share_link_create,
    share_link_open,
    share_link_revoke,
    share_links_live,
    share_rate_allowed,
    share_url,
)
from dashboard.reports.snapshot import ReportSubjectGone
from dashboard.roles import BROWSE, EXPORT, MANAGE_USERS, PUBLIC, requires
from dashboard.secret_once import secret_once_keep, secret_once_take

SHARE_PURPOSE = "share-link"


@require_POST
@requires(EXPORT)
def report_share(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_for(user=request.user, pk=pk)
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A link works for 1 to 90 days.")
        return redirect("report_detail", pk=pk)
    try:
        link, token = share_link_create(user=request.user, now=timezone.now(), days=form.cleaned_data["days"],
                                        report=report)
    except (ShareRefused, ReportSubjectGone) as exc:
        messages.error(request, str(exc))
        return redirect("report_detail", pk=pk)
    secret_once_keep(request, purpose=SHARE_PURPOSE, pk=link.pk, secret=share_url(token))
    return redirect("share_links_new", pk=link.pk)


@require_GET
@requires(BROWSE)
@never_cache  # the new link is shown on it, once
def share_links_new(request: HttpRequest, pk: int) -> HttpResponse:
    link = share_link_for(user=request.user, pk=pk)
    url = secret_once_take(request, purpose=SHARE_PURPOSE, pk=link.pk)
    return render(request, "reports/links.html", {"links": share_links_live(now=timezone.now()), "new_link": link,
                                                  "new_url": url})


@require_GET
@requires(BROWSE)
def share_links(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/links.html", {"links": share_links_live(now=timezone.now())})


@require_POST
@requires(EXPORT)
def share_link_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    link = share_link_for(user=request.user, pk=pk)
    try:
        share_link_revoke(link, user=request.user, now=timezone.now())
    except ShareRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Link to “{link.title}” revoked: it answers 404 from now on.")
    return redirect("share_links")


@require_GET
@requires(PUBLIC)
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone with the link: the snapshot, nothing else, no account, no call to HighLevel."""
    now = timezone.now()
    link = share_link_open(token, now=now)
    if link is None:
        raise Http404("No such link, or it expired or was revoked.")
    if not share_rate_allowed(link, now=now):
        response = HttpResponse("Too many requests for this link; try again in a minute.", status=429,
                                content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "60"
        return with_report_headers(response, shared=True)
    html = report_html(link.snapshot, extra={"share": link}, charts_key=f"share-{link.pk}")
    return with_report_headers(HttpResponse(html), shared=True)


@require_GET
@requires(BROWSE)
def delivery_list(request: HttpRequest) -> HttpResponse:
    deliveries = (ReportDelivery.objects.filter(report__in=reports_visible(request.user))
                  .select_related("report", "approved_by").defer("snapshot")[:200])
    in_flight = any(d.status in (d.Status.QUEUED, d.Status.SENDING) for d in deliveries)
    return render(request, "reports/deliveries.html", {"deliveries": deliveries, "in_flight": in_flight})


@require_GET
@requires(BROWSE)
def delivery_show(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = delivery_for(user=request.user, pk=pk)
    context = {"delivery": delivery, **(report_context(delivery.snapshot) if delivery.snapshot else {})}
    return with_report_headers(render(request, "reports/delivery.html", context))


def _delivery_action(request: HttpRequest, pk: int, action) -> HttpResponse:
    delivery = delivery_for(user=request.user, pk=pk)
    try:
        outcome = action(delivery)
    except DeliveryRefused as exc:
        messages.error(request, str(exc))
        return redirect("report_delivery", pk=pk)
    shown = outcome or delivery
    shown.refresh_from_db()
    level = (messages.success if shown.status in (shown.Status.QUEUED, shown.Status.SENT, shown.Status.DISCARDED)
             else messages.error)
    level(request, f"{shown.get_status_display()}{': ' + shown.error if shown.error else '.'}")
    return redirect("report_delivery", pk=shown.pk)


@require_POST
@requires(EXPORT)
def delivery_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _delivery_action(request, pk, lambda d: delivery_approve(d, user=request.user, now=timezone.now()))


@require_POST
@requires(EXPORT)
def delivery_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _delivery_action(request, pk, lambda d: delivery_discard(d, user=request.user))


@require_POST
@requires(EXPORT)
def delivery_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _delivery_action(request, pk, lambda d: delivery_resend(d, user=request.user, now=timezone.now()))


@require_http_methods(["GET", "POST"])
@requires(MANAGE_USERS)
def branding_edit(request: HttpRequest) -> HttpResponse:
    branding = Branding.current()
    form = BrandingForm(request.POST or None, request.FILES or None, initial={
        "agency_name": branding.agency_name, "accent": branding.accent, "footer": branding.footer})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            branding_save(agency_name=data["agency_name"], accent=data["accent"], footer=data["footer"],
                          logo=data["logo"], remove_logo=data["remove_logo"], user=request.user)
        except BrandingRefused as exc:
            form.add_error("logo", str(exc))
        else:
            messages.success(request, "Branding saved: reports, share pages and report mail use it now.")
            return redirect("branding")
    return with_report_headers(render(request, "reports/branding.html",
                                      {"form": form, "brand": branding_context(branding)}))
