"""Merging differently spelled campaign names into one campaign, and splitting them again (admins only;
every change leaves an audit entry). Reads are in dashboard/selectors/campaigns.py."""

from __future__ import annotations

from django.db import transaction

from dashboard.models import CampaignAlias
from integrations.connections.audit import Actor, audit_record
from integrations.models import AuditEntry


class AliasRefused(Exception):
    """A merge or split that cannot be done; the message says why, for the page or the API."""


@transaction.atomic
def campaign_merge(*, into: str, merged: str, actor: Actor) -> CampaignAlias:
    """Count campaign `merged` as `into` from now on; what was merged into `merged` follows it."""
    if not into or not merged or into == merged:
        raise AliasRefused("Choose another campaign to merge into this one.")
    if CampaignAlias.objects.filter(slug=into).exists():
        raise AliasRefused("This campaign is itself merged into another; merge into that one instead.")
    CampaignAlias.objects.filter(into_slug=merged).update(into_slug=into)
    alias, _ = CampaignAlias.objects.update_or_create(slug=merged, defaults={"into_slug": into,
                                                                              "created_by": actor.user})
    audit_record(action=AuditEntry.Action.CAMPAIGN_MERGED, actor=actor.user, ip_address=actor.ip_address,
                 detail=f"{merged} merged into {into}")
    return alias


@transaction.atomic
def campaign_split(*, into: str, merged: str, actor: Actor) -> None:
    """Undo a merge: tags spelled as `merged` form their own campaign again."""
    deleted, _ = CampaignAlias.objects.filter(slug=merged, into_slug=into).delete()
    if not deleted:
        raise AliasRefused("That name is not merged into this campaign.")
    audit_record(action=AuditEntry.Action.CAMPAIGN_SPLIT, actor=actor.user, ip_address=actor.ip_address,
                 detail=f"{merged} split from {into}")
