from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.roles import PUBLIC, requires
from integrations.connections.webhooks import WebhookRejected, webhook_receive

MAX_BODY_BYTES = 64 * 1024


@csrf_exempt  # HighLevel cannot send a CSRF token; the Ed25519 signature authenticates the request instead
@require_POST
@requires(PUBLIC)
def highlevel_webhook(request: HttpRequest) -> JsonResponse:
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"error": {"code": "too_large", "message": "body too large"}}, status=413)
    try:
        outcome = webhook_receive(request.body, request.headers)
    except WebhookRejected as exc:
        return JsonResponse({"error": {"code": "rejected", "message": exc.reason}}, status=exc.status)
    return JsonResponse({"ok": True, "outcome": outcome})
