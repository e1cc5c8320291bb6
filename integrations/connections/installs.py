"""Installs started in HighLevel's marketplace rather than from Tagscope: their callback carries no `state`,
so nothing ties the code to the admin whose browser brings it (an attacker could send one of their own).
Such a grant is never connected by itself: the code is exchanged, the tokens are kept encrypted as a
`PendingInstall`, and a signed-in admin sees what it would connect and confirms or discards it. An install
nobody confirms within `PENDING_INSTALL_TTL` is deleted with its tokens, on every read of the pending
installs and by the `tagscope.pending-installs-purge` schedule, whichever comes first.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from integrations import crypto
from integrations.clients import highlevel_client
from integrations.connections.audit import Actor, audit_record
from integrations.connections.errors import ConnectionActionError
from integrations.connections.oauth_install import connection_connect_grant, oauth_code_exchange
from integrations.connections.scopes import ScopeReport
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.errors import HighLevelError
from integrations.highlevel.oauth import USER_TYPE_COMPANY, USER_TYPE_LOCATION
from integrations.highlevel.types import TokenGrant
from integrations.models import AuditEntry, Connection, PendingInstall
from integrations.models.installs import PENDING_INSTALL_TTL

log = logging.getLogger(__name__)
NAMES_SHOWN = 20


def pending_install_create(
    *, code: str, redirect_uri: str, actor: Actor, client: HighLevelClient | None = None
) -> PendingInstall:
    """Exchange a state-less callback's code and keep the grant, unconnected, for an admin to confirm.

    Without `state` Tagscope does not know which install type was asked for; HighLevel's answer names it
    (`userType`), which is what decides below (that the token endpoint answers a Company grant to a code
    of an agency install when asked with user_type=Location is *unverified*)."""
    grant = oauth_code_exchange(code=code, redirect_uri=redirect_uri, user_type=USER_TYPE_LOCATION, client=client)
    is_agency = (grant.user_type or "").lower() == USER_TYPE_COMPANY.lower()
    if not is_agency and not grant.location_id:
        raise ConnectionActionError("HighLevel's answer named no location; nothing was saved.")
    name, location_names = _describe(grant, is_agency=is_agency, client=client)  # HTTP before any write
    now = timezone.now()
    with transaction.atomic():
        pending = PendingInstall.objects.create(
            user_type=USER_TYPE_COMPANY if is_agency else USER_TYPE_LOCATION,
            company_id=(grant.company_id or "")[:64], location_id="" if is_agency else grant.location_id[:64],
            highlevel_user_id=(grant.user_id or "")[:64], name=name[:255], location_names="\n".join(location_names),
            scopes=" ".join(grant.scope), access_token_enc=crypto.encrypt(grant.access_token),
            refresh_token_enc=crypto.encrypt(grant.refresh_token or ""), expires_in=grant.expires_in,
            created_at=now, expires_at=now + PENDING_INSTALL_TTL,
        )
        audit_record(action=AuditEntry.Action.INSTALL_PENDING, actor=actor.user, ip_address=actor.ip_address,
                     detail=f"{_label(pending)} awaits an admin's confirmation; scopes: {pending.scopes}")
    return pending


def _describe(grant: TokenGrant, *, is_agency: bool, client: HighLevelClient | None) -> tuple[str, list[str]]:
    """What the admin is shown: the location's name, or the agency's locations. Best effort: without
    `locations.readonly` or on any HighLevel error, the ids alone are shown."""
    probe = client or highlevel_client(lambda: grant.access_token)
    try:
        if is_agency:
            names = []
            for item in probe.iter_installed_locations(grant.company_id or "", max_pages=1):
                names.append(item.name)
                if len(names) >= NAMES_SHOWN:
                    break
            return "", names
        return probe.get_location(grant.location_id or "").name, []
    except HighLevelError as exc:
        log.warning("a pending install's details could not be read (%s); its ids are shown instead",
                    type(exc).__name__)
        return "", []


def _label(pending: PendingInstall) -> str:
    if pending.is_agency:
        return f"Agency install {pending.company_id}"
    return f"Location install {pending.location_id}" + (f" ({pending.name})" if pending.name else "")


def pending_installs_purge(*, now: datetime | None = None) -> int:
    """Delete every install nobody confirmed in time, tokens and all. Returns how many."""
    now = now or timezone.now()
    expired = list(PendingInstall.objects.expired(now))
    for pending in expired:
        with transaction.atomic():
            if PendingInstall.objects.filter(pk=pending.pk).delete()[0]:
                audit_record(action=AuditEntry.Action.INSTALL_EXPIRED,
                             detail=f"{_label(pending)} was not confirmed within 15 minutes; its tokens are deleted")
    return len(expired)


def pending_installs_live() -> list[PendingInstall]:
    pending_installs_purge()
    return list(PendingInstall.objects.live())


def pending_install_get(pk: int) -> PendingInstall | None:
    pending_installs_purge()
    return PendingInstall.objects.live().filter(pk=pk).first()


def pending_install_confirm(
    *, pending: PendingInstall, actor: Actor
) -> tuple[Connection, ScopeReport, bool]:
    """Connect what the admin saw. The pending row is claimed by deleting it, so a double submit or a
    second admin cannot connect it twice."""
    with transaction.atomic():
        if not PendingInstall.objects.live().filter(pk=pending.pk).delete()[0]:
            raise ConnectionActionError("This install is no longer pending (confirmed, discarded or expired).")
        grant = TokenGrant(
            access_token=crypto.decrypt(pending.access_token_enc, what="a pending install's access token"),
            refresh_token=crypto.decrypt(pending.refresh_token_enc, what="a pending install's refresh token") or None,
            token_type="Bearer", expires_in=pending.expires_in, scope=tuple(pending.scope_list),
            user_type=pending.user_type, location_id=pending.location_id or None,
            company_id=pending.company_id or None, user_id=pending.highlevel_user_id or None,
        )
        audit_record(action=AuditEntry.Action.INSTALL_CONFIRMED, actor=actor.user, ip_address=actor.ip_address,
                     detail=f"{_label(pending)} confirmed; scopes: {pending.scopes}")
    return connection_connect_grant(grant=grant, user_type=pending.user_type, actor=actor, location_name=pending.name)


def pending_install_discard(*, pending: PendingInstall, actor: Actor) -> bool:
    with transaction.atomic():
        deleted = bool(PendingInstall.objects.filter(pk=pending.pk).delete()[0])
        if deleted:
            audit_record(action=AuditEntry.Action.INSTALL_DISCARDED, actor=actor.user, ip_address=actor.ip_address,
                         detail=f"{_label(pending)} discarded; its tokens are deleted")
    return deleted
