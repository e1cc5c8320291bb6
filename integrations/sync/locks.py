"""The lease that keeps one refresh of a location's `kind` running at a time, whichever worker runs it
(docs/architecture.md, "Lease").

Claimed with a conditional UPDATE whose row count tells who won (as integrations/connections/tokens.py does
for token refresh): it holds on SQLite, where SELECT FOR UPDATE does nothing, and on PostgreSQL. The
holder renews it while it works; a worker that dies stops renewing, the lease expires, and the next run of
the same location and kind takes it over and does the work again (every write is an idempotent upsert).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from integrations.models import SyncLease

LEASE = timedelta(seconds=120)
RENEW_SQL = ('UPDATE "integrations_synclease" SET "until" = %s '
             'WHERE "location_id" = %s AND "kind" = %s AND "owner" = %s')


class LeaseLost(Exception):
    """Another worker took the lease over (ours had expired): stop without writing more."""


def lease_owner(run_id: int) -> str:
    return f"run{run_id}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_claim(*, location_id: int, kind: str, run_id: int, owner: str, now: datetime | None = None) -> bool:
    """Take the lease if it is free or expired. True when this owner now holds it."""
    now = now or timezone.now()
    SyncLease.objects.bulk_create([SyncLease(location_id=location_id, kind=kind)], ignore_conflicts=True)
    return bool(
        SyncLease.objects.filter(location_id=location_id, kind=kind)
        .filter(Q(until__isnull=True) | Q(until__lt=now))
        .update(owner=owner, run_id=run_id, until=now + LEASE)
    )


def lease_holder(*, location_id: int, kind: str) -> SyncLease | None:
    return SyncLease.objects.filter(location_id=location_id, kind=kind).first()


def lease_renew(*, location_id: int, kind: str, owner: str) -> bool:
    """Extend our lease; False if someone else holds it now (the caller raises LeaseLost). Plain SQL: every
    unit renews with each progress flush (every 2 s), and the ORM's compiling cost more than the UPDATE."""
    until = connection.ops.adapt_datetimefield_value(timezone.now() + LEASE)
    with connection.cursor() as cursor:
        cursor.execute(RENEW_SQL, [until, location_id, kind, owner])
        return cursor.rowcount == 1


def lease_release(*, location_id: int, kind: str, owner: str) -> None:
    SyncLease.objects.filter(location_id=location_id, kind=kind, owner=owner).update(owner="", until=None)
