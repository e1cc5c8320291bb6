"""Each location's data versions (Location.tags_version, Location.statistics_version): what the dashboard
keeps computed answers by (dashboard/selectors/performance_memo.py), so that an answer is kept exactly as
long as the rows it was computed from.

Every write of the sync that changes a location's tags, posts or tag links moves its tags version; every
write of its statistics points (with the rollups they move) or demographics moves its statistics version.
The move happens in the transaction of the write, so no reader ever sees new rows under an old version; a
refresh that changes nothing writes nothing, so it moves nothing either (answers stay kept). A version is a
new random number (Location.version_new), not a count.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from integrations.models import Location
from integrations.models.connections import version_new

TAGS = "tags_version"
STATISTICS = "statistics_version"


def versions_move(location_pk: int, *fields: str) -> None:
    """Give the location new versions of `fields` (TAGS, STATISTICS). Call it inside the transaction that
    writes the rows (a lone call is one statement, atomic by itself). Plain SQL, no savepoint: the sync moves a
    version with each batch it writes, and the ORM's compiling and a savepoint cost more than the UPDATE."""
    if not fields:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(Location._meta.get_field(name).column)} = %s" for name in fields)
    sql = f"UPDATE {quote(Location._meta.db_table)} SET {columns} WHERE {quote(Location._meta.pk.column)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(version_new() for _ in fields), location_pk])


def written(count: int, location_pk: int, *fields: str) -> int:
    """`count` (rows written), having moved the versions when it is not 0: for a write's own transaction."""
    if count:
        versions_move(location_pk, *fields)
    return count


def versions_move_all(location_pks: Iterable[int] | None = None) -> int:
    """New versions of everything for these locations (every location when None): after a database restore
    or a rollup rebuild, which change rows behind the sync's back. Answers the locations moved."""
    rows = Location.objects.all() if location_pks is None else Location.objects.filter(pk__in=list(location_pks))
    # One value for all of them is enough: what matters is that no process kept anything under it.
    return rows.update(tags_version=version_new(), statistics_version=version_new())
