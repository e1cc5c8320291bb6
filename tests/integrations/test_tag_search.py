"""Tag search through the trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL) finds exactly what the old
scan found -- case-insensitive substring, `%` and `_` literal, 1- and 2-character needles too -- and the
index stays in step with creates, renames and deletes, whoever writes them (raw bulk SQL, the ORM)."""

from __future__ import annotations

import pytest
from django.db import connection

from integrations import tag_search
from integrations.models import Location, Tag
from integrations.sync.upsert import Writes
from tests.dashboard.browsing_factories import location_make, tag_make

NAMES = ["Spring Sale", "spring-sale-2026", "SUMMER promo", "Café Crème", "CAFÉ", "cafe", "Straße", "STRASSE",
         "50% off", "500 off", "a_b test", "ab test", "Ünïcödé", "x", "xy", "Recipe Tips", "tips & tricks",
         'quote "this"', "émoji 🎉 party", "İstanbul",
         "harvestqfair", "Harvest Fair-Q"]
NEEDLES = ["a", "X", "xy", "é", "É", "ca", "caf", "café", "CAFÉ", "cafe", "straß", "STRASSE", "ss", "%", "50%",
           "0%", "_", "a_b", "a_", "sale", "SALE", "spring sale", "g-s", "-", "🎉", "🎉 p", '"this"', '"', "ünï",
           "istanbul", "i̇st", "nothing here", "tips", "ips &",
           "harvest-fair", "harvestqfair", "t q", "r-q", "fair-", "-fair", "st f"]


def old_scan(location: Location, needle: str) -> set[str]:
    """What the list matched before the index: a case-insensitive substring of the name."""
    return set(Tag.objects.filter(location=location, sort_name__contains=needle.casefold())
               .values_list("name", flat=True))


def found(location: Location, needle: str) -> set[str]:
    return set(Tag.objects.filter(location=location).search(needle).values_list("name", flat=True))


def assert_index_in_step() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # compares the FTS5 table with the tag table, row by row
            cursor.execute(f"INSERT INTO {tag_search.TABLE}({tag_search.TABLE}, rank) VALUES ('integrity-check', 1)")
        else:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'integrations_tag' "
                           "AND indexdef LIKE '%%gin_trgm_ops%%'")
            ((name, definition),) = cursor.fetchall()  # the words index alone: the bare name's is gone
            assert name == tag_search.POSTGRES_INDEX and "translate" in definition


@pytest.fixture
def tagged(db) -> Location:
    location = location_make("loc-search", "Search Bakery")
    for n, name in enumerate(NAMES):
        tag_make(location, name, tag_id=f"t{n}")
    other = location_make("loc-other", "Other Bakery")
    tag_make(other, "Spring Sale elsewhere", tag_id="o1")
    return location


@pytest.mark.parametrize("needle", NEEDLES)
def test_the_index_finds_what_the_scan_found(tagged, needle):
    expected = {name for name in NAMES if needle.casefold() in name.casefold()}
    assert found(tagged, needle) == old_scan(tagged, needle) == expected


def test_a_needle_common_across_locations_is_still_found_exactly_by_the_scan(tagged, monkeypatch):
    monkeypatch.setattr(tag_search, "CANDIDATE_LIMIT", 1)  # "sale" matches 3 tags: more than the index narrows
    assert found(tagged, "sale") == {"Spring Sale", "spring-sale-2026"}


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_on_sqlite_a_rare_needle_is_read_from_the_fts_table(tagged):
    with connection.cursor() as cursor:  # empty the index behind the table's back: the search must notice
        cursor.execute(f"INSERT INTO {tag_search.TABLE}({tag_search.TABLE}) VALUES ('delete-all')")
    assert found(tagged, "sale") == set()
    assert found(tagged, "sa") == {"Spring Sale", "spring-sale-2026"}  # two characters: the scan


def test_the_index_follows_creates_renames_and_deletes_by_every_writer(tagged):
    assert_index_in_step()
    tag = Tag.objects.get(location=tagged, tag_id="t0")
    tag.name, tag.sort_name = "Autumn Clearance", "autumn clearance"
    tag.save()  # the ORM
    writes = Writes(Tag)  # the sync's raw bulk SQL
    renamed = Tag.objects.get(location=tagged, tag_id="t1")
    renamed.name, renamed.sort_name = "Winter Launch", "winter launch"
    writes.update(renamed, ["name", "sort_name"])
    new = Tag(location=tagged, tag_id="t-new", name="Brand New Thing", sort_name="brand new thing",
              first_seen_at=tag.first_seen_at, last_seen_at=tag.last_seen_at)
    writes.create(new)
    writes.commit()
    Tag.objects.filter(location=tagged, tag_id="t2").delete()
    Tag.objects.filter(location=tagged, tag_id="t3").update(removed_at=tag.first_seen_at)  # removed: still listed
    assert_index_in_step()
    assert found(tagged, "clearance") == {"Autumn Clearance"} and found(tagged, "spring") == set()
    assert found(tagged, "winter") == {"Winter Launch"} and found(tagged, "new thing") == {"Brand New Thing"}
    assert found(tagged, "promo") == set() and found(tagged, "café") == {"Café Crème", "CAFÉ"}
    Location.objects.filter(pk=tagged.pk).delete()  # cascade
    assert_index_in_step()
    assert not Tag.objects.search("clearance").exists()


@pytest.mark.parametrize("sort", ["name", "-name", "updated_at", "-updated_at", "first_seen_at", "-first_seen_at"])
@pytest.mark.parametrize("status", ["", "active", "new", "removed"])
def test_the_list_keeps_its_order_and_filters_when_the_index_narrows(tagged, sort, status):
    from dashboard.selectors.tags import SORTS, TagFilter, tags_for_location

    removed = ["spring-sale-2026", "Café Crème"]
    Tag.objects.filter(location=tagged, name__in=removed).update(removed_at=tagged.created_at)
    listed = list(tags_for_location(location=tagged, filters=TagFilter(q="ale", sort=sort, status=status))
                  .values_list("name", flat=True))
    unfiltered = tags_for_location(location=tagged, filters=TagFilter(sort=sort, status=status))
    expected = [t.name for t in unfiltered if "ale" in t.sort_name]
    assert listed == expected
    if status in ("", "active"):
        assert listed, SORTS[sort]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_on_sqlite_a_narrowed_page_looks_its_candidates_up_by_id_not_through_the_location_index(tagged):
    from dashboard.selectors.tags import TagFilter, tags_for_location

    page = tags_for_location(location=tagged, filters=TagFilter(q="sale", sort="-updated_at")).values("pk")[:50]
    plan = page.explain()
    assert "INTEGER PRIMARY KEY" in plan and "json_each" in plan, plan  # the probe's candidates, by id


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_a_needle_across_separators_is_read_through_the_joined_words(tagged):
    """`harvest-fair` is one word in the index (not the trigrams of "harvest" and of "fair", which "Harvest
    Fair-Q" shares): the query's expression is the index's, and the name's own test drops a mere collision
    there ("harvestqfair")."""
    other = Location.objects.get(location_id="loc-other")
    Tag.objects.bulk_create(Tag(location=other, tag_id=f"b{n}", name=f"bulk-{n}", sort_name=f"bulk-{n}",
                                first_seen_at=other.created_at, last_seen_at=other.created_at) for n in range(5000))
    words = Tag.objects.extra(where=[tag_search.POSTGRES_WORDS_LIKE], params=[tag_search.words_pattern("harvest-fair")])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE integrations_tag")
        cursor.execute("SET LOCAL enable_seqscan = off")  # 5,000 rows: reading them all is still cheap
        plan = words.order_by().values("pk").explain()
    assert tag_search.POSTGRES_INDEX in plan and "harvestqfair" in plan, plan
    assert "translate" in str(Tag.objects.search("harvest-fair").query)
    assert found(tagged, "harvest-fair") == set()
    assert found(tagged, "harvestqfair") == {"harvestqfair"}
    assert found(tagged, "harvest fair-") == {"Harvest Fair-Q"}


@pytest.mark.skipif("connection.vendor != 'sqlite'")
@pytest.mark.parametrize("last", [False, True])
def test_on_sqlite_a_narrowed_page_and_its_count_search_the_fts_table_once(tagged, last):
    """The probe's candidates are handed on: the page, its null segment and its count read them by id."""
    from django.test.utils import CaptureQueriesContext

    from dashboard.selectors.tag_keyset import keyset_page
    from dashboard.selectors.tags import TagFilter, tags_for_location, tags_total

    Tag.objects.filter(location=tagged, name="Spring Sale").update(updated_at=None)
    filters = TagFilter(q="sale", sort="-updated_at")
    with CaptureQueriesContext(connection) as queries:
        tags = tags_for_location(location=tagged, filters=filters)
        page = keyset_page(tags, sort=filters.sort, size=1, last=last)
        count = tags_total(tagged, filters, tags)
    assert [row.name for row in page.rows] == (["Spring Sale"] if last else ["spring-sale-2026"])
    assert count == (2, True) and page.total == 2
    assert sum("MATCH" in q["sql"] for q in queries.captured_queries) == 1
