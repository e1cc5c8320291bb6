"""The substring index behind tag search: an FTS5 trigram table on SQLite, a pg_trgm GIN index on PostgreSQL.

Both index `Tag.sort_name` (the case-folded name; PostgreSQL with its separators joined, see SEPARATORS),
so a search keeps today's meaning: case-insensitive substring, `%` and `_` literal. Trigrams only serve
needles of 3 or more characters; shorter ones (and any other backend) use the plain scan, which the tag list
bounds to a window of tags per page in a big location (dashboard/selectors/tag_keyset.py's `Window`).

Kept in step by the database itself, not by the sync: on SQLite, triggers on the tag table update the FTS5
table inside the same statement (so the upsert's bulk raw SQL, ORM saves, renames and cascade deletes all
count, and nothing can drift); on PostgreSQL, the GIN index is an ordinary index of the table.

Caution (SQLite): Django rebuilds a table to alter some columns (copy, drop, rename), which drops its
triggers. A migration that alters `integrations_tag` on SQLite must call `sqlite_install(...)` again;
tests/integrations/test_tag_search.py fails if the triggers are missing.
"""

from __future__ import annotations

import json
from typing import Any

TABLE = "integrations_tag_search"
MIN_LENGTH = 3  # a trigram needs three characters

SQLITE_INSTALL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS integrations_tag_search USING fts5(sort_name, content='integrations_tag', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER IF NOT EXISTS integrations_tag_search_insert AFTER INSERT ON integrations_tag BEGIN "
    "INSERT INTO integrations_tag_search(rowid, sort_name) VALUES (new.id, new.sort_name); END",
    "CREATE TRIGGER IF NOT EXISTS integrations_tag_search_delete AFTER DELETE ON integrations_tag BEGIN "
    "INSERT INTO integrations_tag_search(integrations_tag_search, rowid, sort_name) "
    "VALUES ('delete', old.id, old.sort_name); END",
    # A refresh that changes nothing fires nothing: the WHEN keeps same-name updates out of the index.
    "CREATE TRIGGER IF NOT EXISTS integrations_tag_search_rename AFTER UPDATE OF sort_name ON integrations_tag "
    "WHEN old.sort_name IS NOT new.sort_name BEGIN "
    "INSERT INTO integrations_tag_search(integrations_tag_search, rowid, sort_name) "
    "VALUES ('delete', old.id, old.sort_name); "
    "INSERT INTO integrations_tag_search(rowid, sort_name) VALUES (new.id, new.sort_name); END",
    "INSERT INTO integrations_tag_search(integrations_tag_search) VALUES ('rebuild')",  # existing rows
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS integrations_tag_search_insert",
    "DROP TRIGGER IF EXISTS integrations_tag_search_delete",
    "DROP TRIGGER IF EXISTS integrations_tag_search_rename",
    "DROP TABLE IF EXISTS integrations_tag_search",
]
# pg_trgm splits a string into words at every character that is not a letter or a digit and takes the
# trigrams of each word: the needle `spring-sale` was the trigrams of "spring" and of "sale", which every
# `sale-spring-…` shares too (16,530 candidates to read from the table for 8,265 matches at 1,000,000 tags;
# bench/million.py). So the index holds the name with each ASCII separator turned into a letter (WORD_JOIN):
# one word, whose trigrams span the separators ("gqs", "qsa"). The query tests the same expression, then
# the name itself (collisions with a real `q` are dropped there). `%` and `\\` stay out of the set: the
# SQL below needs no escaping in a LIKE pattern or in Django's %-placeholders.
SEPARATORS = " !\"#$&'()*+,-./:;<=>?@[]^_`{|}~"
WORD_JOIN = "q"
_JOINED = str.maketrans(SEPARATORS, WORD_JOIN * len(SEPARATORS))
_WORDS_SQL = "translate(COLUMN, '" + SEPARATORS.replace("'", "''") + "', '" + WORD_JOIN * len(SEPARATORS) + "')"
POSTGRES_INDEX = "tag_sort_name_words_trgm"
POSTGRES_OLD_INDEX = "tag_sort_name_trgm"  # on sort_name itself (migration 0017 to 0023)
# pg_trgm is a trusted extension from PostgreSQL 13: the database owner (CREATE on the database) may add it.
POSTGRES_INSTALL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"DROP INDEX IF EXISTS {POSTGRES_OLD_INDEX}",
    f"CREATE INDEX IF NOT EXISTS {POSTGRES_INDEX} ON integrations_tag "
    f"USING gin (({_WORDS_SQL.replace('COLUMN', 'sort_name')}) gin_trgm_ops)",
]
POSTGRES_REMOVE = [f"DROP INDEX IF EXISTS {POSTGRES_INDEX}", f"DROP INDEX IF EXISTS {POSTGRES_OLD_INDEX}"]
# What a search adds on PostgreSQL for the index to answer (the expression as indexed, word for word).
POSTGRES_WORDS_LIKE = _WORDS_SQL.replace("COLUMN", "integrations_tag.sort_name") + " LIKE %s"

STATEMENTS = {"sqlite": (SQLITE_INSTALL, SQLITE_REMOVE), "postgresql": (POSTGRES_INSTALL, POSTGRES_REMOVE)}


def _run(schema_editor: Any, which: int) -> None:
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[which]:
        schema_editor.execute(sql)


def install(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, 0)


def remove(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, 1)


def fts_phrase(needle: str) -> str:
    """An FTS5 query matching `needle` as one substring: a quoted string, its quotes doubled."""
    return '"' + needle.replace('"', '""') + '"'


# The FTS5 table holds every location's tags, and a needle common across them (say "sale") can match
# hundreds of thousands: reading and sorting those would cost more than walking the location's sorted
# index, where a page of a common needle comes quickly. So the index narrows only needles it proves
# rarer: at most CANDIDATE_LIMIT rows (bench/million.py: ~8,000 candidates sorted in ~30 ms).
CANDIDATE_LIMIT = 20_000


def narrows(connection: Any, needle: str) -> bool:
    """Whether the trigram index should pick the candidates itself: for a needle of 3 or more characters
    found at most CANDIDATE_LIMIT times. SQLite: one cheap probe of the FTS5 table. PostgreSQL: the
    planner's own estimate (it reads the pg_trgm statistics; EXPLAIN runs nothing), because left alone it
    walks the location's sort index for any LIMIT, and a needle whose matches sit together in that order
    (all the "tips-news-…" names) costs a walk of most of the index."""
    if len(needle) < MIN_LENGTH:
        return False
    if connection.vendor == "postgresql":
        return postgres_estimate(connection, needle) <= CANDIDATE_LIMIT
    return connection.vendor == "sqlite" and sqlite_candidates(connection, needle) is not None


def sqlite_candidates(connection: Any, needle: str) -> str | None:
    """The ids of every tag (of any location) whose name the FTS5 table finds `needle` in, as a JSON array
    for SQLITE_CANDIDATES_SQL; None when there are more than CANDIDATE_LIMIT (or the needle is too short)."""
    if len(needle) < MIN_LENGTH:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT json_group_array(rowid), count(*) FROM (SELECT rowid FROM integrations_tag_search "
                       "WHERE integrations_tag_search MATCH %s LIMIT %s)", [fts_phrase(needle), CANDIDATE_LIMIT + 1])
        ids, found = cursor.fetchone()
    return ids if found <= CANDIDATE_LIMIT else None


def like_pattern(needle: str) -> str:
    """`needle` anywhere, `%`, `_` and `\\` literal (as Django's `contains`)."""
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def words_pattern(needle: str) -> str:
    """The LIKE pattern of POSTGRES_WORDS_LIKE for `needle` (case-folded): its separators joined as indexed."""
    return like_pattern(needle.translate(_JOINED))


def postgres_estimate(connection: Any, needle: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) SELECT 1 FROM integrations_tag WHERE sort_name LIKE %s",
                       [like_pattern(needle)])
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Plan"]["Plan Rows"])


SQLITE_CANDIDATES_SQL = "SELECT value FROM json_each(%s)"
