"""Social accounts of one location. An account missing from a clean listing is marked removed."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations.highlevel.types import SocialAccount as ApiAccount
from integrations.models import SocialAccount
from integrations.sync.runs import RunContext
from integrations.sync.upsert import Writes, assign


def _fields(account: ApiAccount) -> dict[str, Any]:
    return {
        "profile_id": (account.profile_id or "")[:128], "platform": account.platform[:20],
        "name": account.name[:255], "type": (account.type or "")[:30], "expired": account.is_expired,
        "expires_at": account.expire, "raw": account.raw,
    }


def accounts_refresh(ctx: RunContext) -> None:
    location = ctx.location
    listing = ctx.client.list_accounts(location.location_id)
    for line in listing.problems:
        ctx.problem(f"account: {line}")
    now = timezone.now()
    existing = {a.account_id: a for a in SocialAccount.objects.filter(location=location)}
    # The statistics unit of a first sync lists accounts too, maybe alongside the accounts unit.
    writes = Writes(SocialAccount, ignore_conflicts=True)
    seen = set()
    for account in listing.accounts:
        seen.add(account.id)
        fields = _fields(account)
        row = existing.get(account.id)
        if row is None:
            writes.create(SocialAccount(location=location, account_id=account.id, first_seen_at=now,
                                        last_seen_at=now, **fields))
            ctx.count("created")
            continue
        changed = assign(row, {**fields, "removed_at": None})
        if changed:
            row.last_seen_at = now
            writes.update(row, [*changed, "last_seen_at"])
            ctx.count("updated")
        else:
            ctx.count("unchanged")
    if not listing.problems:  # an unclean listing marks nothing removed
        for account_id, row in existing.items():
            if account_id not in seen and row.removed_at is None:
                row.removed_at = now
                writes.update(row, ["removed_at"])
                ctx.count("removed")
    ctx.wrote(writes.commit())
    ctx.progress(len(seen), len(seen), force=True)
