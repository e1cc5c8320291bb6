"""The plain-SQL bulk writes store what the ORM would: dates, aware datetimes, None, JSON, foreign keys;
conflicts ignored on request; updates by primary key only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from integrations.bulk import (
    instances_insert,
    instances_update,
    rows_insert,
    rows_insert_prepared,
    rows_update,
    rows_update_prepared,
)
from integrations.models import Connection, Location, StatisticsPoint, Tag, TagDetail

FIELDS = ("location", "profile_id", "platform", "metric", "day", "value", "fetched_at")
AT = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def location(db) -> Location:
    connection = Connection.objects.create(name="PIT", kind=Connection.Kind.PRIVATE_TOKEN, location_id="L1")
    return Location.objects.create(location_id="L1", connection=connection, name="One")


def test_rows_insert_stores_what_the_orm_reads_back(location):
    assert rows_insert(StatisticsPoint, FIELDS, [(location.pk, "", "facebook", "reach", date(2025, 3, 1), 12.5, AT),
                                                 (location.pk, "p1", "", "reach", date(2025, 3, 2), None, AT)]) == 2
    rows = list(StatisticsPoint.objects.order_by("day").values_list("location_id", "profile_id", "platform", "day",
                                                                     "value", "fetched_at"))
    assert rows == [(location.pk, "", "facebook", date(2025, 3, 1), 12.5, AT),
                    (location.pk, "p1", "", date(2025, 3, 2), None, AT)]


def test_rows_insert_refuses_a_duplicate_unless_told_to_ignore_it(location):
    row = (location.pk, "", "facebook", "reach", date(2025, 3, 1), 1.0, AT)
    rows_insert(StatisticsPoint, FIELDS, [row])
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(StatisticsPoint, FIELDS, [row])
    rows_insert(StatisticsPoint, FIELDS, [(*row[:5], 2.0, AT)], ignore_conflicts=True)
    assert list(StatisticsPoint.objects.values_list("value", flat=True)) == [1.0]  # the first one stands


def test_rows_update_changes_only_the_named_fields_of_the_given_rows(location):
    rows_insert(StatisticsPoint, FIELDS, [(location.pk, "", "facebook", m, date(2025, 3, 1), 1.0, AT)
                                          for m in ("reach", "likes")])
    reach, likes = StatisticsPoint.objects.order_by("metric").values_list("pk", flat=True)[::-1]
    later = datetime(2025, 3, 2, tzinfo=UTC)
    assert rows_update(StatisticsPoint, ("value", "fetched_at"), [(reach, None, later)]) == 1
    assert StatisticsPoint.objects.get(pk=reach).value is None
    assert StatisticsPoint.objects.get(pk=reach).fetched_at == later
    assert StatisticsPoint.objects.get(pk=likes).value == 1.0


def test_rows_update_sends_a_statement_per_batch_not_per_row_and_a_repeated_key_takes_its_last_values(location):
    """A statement per row gave up the GIL and waited for it once per row, inside the writer's transaction."""
    tags = [Tag.objects.create(location=location, tag_id=f"t{n}", name=f"T{n}", sort_name=f"t{n}", raw={"n": n},
                               first_seen_at=AT, last_seen_at=AT) for n in range(3)]
    details = [TagDetail.objects.create(tag=tag, data={"old": n}, fetched_at=AT, changed_at=AT)
               for n, tag in enumerate(tags)]
    later = datetime(2025, 3, 2, tzinfo=UTC)
    rows = [(detail.pk, {"new": n, "list": [1, None, "x"]}, later, later) for n, detail in enumerate(details)]
    with CaptureQueriesContext(connection) as queries:
        sent = [rows[1], rows[2], (details[0].pk, {"first": True}, AT, AT), rows[0],
                (details[1].pk, {"last": True}, later, later)]
        assert rows_update(TagDetail, ("data", "fetched_at", "changed_at"), sent) == 3
    assert len(queries) == 1
    assert {d.pk: (d.data, d.fetched_at) for d in TagDetail.objects.all()} == {
        details[0].pk: ({"new": 0, "list": [1, None, "x"]}, later), details[1].pk: ({"last": True}, later),
        details[2].pk: ({"new": 2, "list": [1, None, "x"]}, later)}
    points = [(location.pk, "", "facebook", "reach", date(2020, 1, 1) + timedelta(days=n), 1.0, AT)
              for n in range(1200)]
    rows_insert(StatisticsPoint, FIELDS, points)
    pks = list(StatisticsPoint.objects.order_by("day").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        values = [(pk, None if n % 2 else float(n)) for n, pk in enumerate(pks)]
        assert rows_update(StatisticsPoint, ("value",), values) == 1200
    assert len(queries) == 3  # at most 500 rows a statement
    assert list(StatisticsPoint.objects.order_by("day").values_list("value", flat=True)) == [
        None if n % 2 else float(n) for n in range(1200)]


def test_instances_round_trip_json_and_defaults(location):
    tag = Tag.objects.create(location=location, tag_id="t1", name="Spring", sort_name="spring", raw={"a": 1},
                             first_seen_at=AT, last_seen_at=AT)
    detail = TagDetail(tag=tag, data={"tag": "Spring", "nested": {"list": [1, None, "x"]}}, fetched_at=AT,
                       changed_at=AT)
    assert instances_insert([detail]) == 1
    assert TagDetail.objects.get(tag=tag).data == detail.data
    tag.details_for, tag.raw = "abc", {"b": [2]}
    assert instances_update([tag], ["details_for", "raw"]) == 1
    tag.refresh_from_db()
    assert (tag.details_for, tag.raw, tag.name) == ("abc", {"b": [2]}, "Spring")
    assert instances_insert([]) == 0 and instances_update([], ["raw"]) == 0


def test_many_rows_go_in_a_few_statements_not_one_a_row(location):
    rows = [(location.pk, "", "facebook", "reach", date(2020, 1, 1) + timedelta(days=n), float(n), AT)
            for n in range(1200)]
    with CaptureQueriesContext(connection) as queries:
        assert rows_insert(StatisticsPoint, FIELDS, rows) == 1200
    assert len(queries) < 20  # a COPY, or batches within the parameter limit: not a statement per row
    assert sorted(StatisticsPoint.objects.values_list("value", flat=True)) == [float(n) for n in range(1200)]


def test_plain_values_skip_preparation_only_where_it_would_hand_them_back_unchanged():
    from django.db import models

    from integrations.bulk import _plain_type

    assert _plain_type(StatisticsPoint._meta.get_field("profile_id")) is str
    assert _plain_type(StatisticsPoint._meta.get_field("value")) is float
    assert _plain_type(StatisticsPoint._meta.get_field("location")) is int  # a foreign key: its target's type
    assert _plain_type(StatisticsPoint._meta.get_field("day")) is None
    assert _plain_type(Tag._meta.get_field("raw")) is None  # JSON is always encoded

    class Shouting(models.CharField):  # a subclass may prepare its values: never skipped
        def get_prep_value(self, value):
            return value.upper()

    assert _plain_type(Shouting(max_length=5)) is None
    for field in (models.CharField(max_length=5), models.IntegerField(), models.FloatField(), models.BooleanField()):
        plain = _plain_type(field)
        sample = {str: "abc", int: 7, float: 2.5, bool: True}[plain]
        assert field.get_db_prep_save(sample, connection) == sample and plain is type(sample)


def test_instances_insert_still_stamps_auto_now_fields(db):
    from integrations.bulk import _reads_attribute

    before = datetime.now(UTC)
    assert instances_insert([Connection(name="A", kind=Connection.Kind.PRIVATE_TOKEN, location_id="LA"),
                             Connection(name="B", kind=Connection.Kind.PRIVATE_TOKEN, location_id="LB")]) == 2
    stamped = Connection.objects.order_by("name").values_list("name", "created_at", "updated_at")
    assert [(name, created >= before, updated >= before) for name, created, updated in stamped] == [
        ("A", True, True), ("B", True, True)]
    # Read straight off the instance: plain fields and dates without auto_now; never an auto_now field.
    assert _reads_attribute(Tag._meta.get_field("raw")) and _reads_attribute(Tag._meta.get_field("first_seen_at"))
    assert not _reads_attribute(Connection._meta.get_field("created_at"))
    assert not _reads_attribute(Connection._meta.get_field("updated_at"))


def test_writes_with_ids_give_the_created_instances_their_ids(location):
    from integrations.models import Post
    from integrations.sync.upsert import Writes

    other = Location.objects.create(location_id="L2", connection=location.connection, name="Two")
    Post.objects.create(location=other, post_id="p1", last_seen_at=AT)  # the same post id elsewhere
    writes = Writes(Post, with_ids=("location_id", "post_id"))
    made = [Post(location=location, post_id=post_id, last_seen_at=AT) for post_id in ("p1", "p2")]
    for post in made:
        writes.create(post)
    assert writes.commit() == 2
    stored = dict(Post.objects.filter(location=location).values_list("post_id", "pk"))
    assert [(post.post_id, post.pk, post._state.adding) for post in made] == [
        ("p1", stored["p1"], False), ("p2", stored["p2"], False)]


def test_sqlites_datetime_text_is_what_the_field_prepares(db):
    from zoneinfo import ZoneInfo

    from integrations.bulk import _preparers

    field = StatisticsPoint._meta.get_field("fetched_at")
    (prep,) = _preparers([field], connection)
    for value in (AT, AT.replace(microsecond=0), datetime(2025, 7, 1, 23, 30, tzinfo=ZoneInfo("America/Chicago")),
                  datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=ZoneInfo("Asia/Kolkata")), None):
        assert prep(value) == field.get_db_prep_save(value, connection)


def test_repeated_and_mixed_values_in_a_column_are_stored_as_the_orm_would(location):
    later = AT + timedelta(hours=1)
    rows = [(location.pk, "", "facebook", f"m{n}", date(2025, 3, 1) + timedelta(days=n % 3), n if n % 4 else None,
             AT if n % 2 else later) for n in range(40)]  # repeated days and times; ints in a float column
    assert rows_insert(StatisticsPoint, FIELDS, rows) == 40
    stored = list(StatisticsPoint.objects.order_by("pk").values_list("metric", "day", "value", "fetched_at"))
    assert stored == [(row[3], row[4], None if row[5] is None else float(row[5]), row[6]) for row in rows]
    pks = [pk for pk, in StatisticsPoint.objects.order_by("pk").values_list("pk")[:2]]
    assert rows_update(StatisticsPoint, ("value", "fetched_at"), [(pks[0], 3, later), (pks[1], None, later)]) == 2
    assert list(StatisticsPoint.objects.filter(pk__in=pks).order_by("pk").values_list("value", "fetched_at")) == [
        (3.0, later), (None, later)]


def test_a_row_of_the_wrong_width_is_refused_before_anything_is_sent(location):
    with pytest.raises(ValueError, match="every row needs 7 values"):
        rows_insert(StatisticsPoint, FIELDS, [(location.pk, "", "facebook", "reach", date(2025, 3, 1), 1.0, AT),
                                              (location.pk, "", "facebook", "reach", date(2025, 3, 2), 1.0)])
    with pytest.raises(ValueError, match="the primary key and 2 values"):
        rows_update(StatisticsPoint, ("value", "fetched_at"), [(1, 2.0)])
    assert not StatisticsPoint.objects.exists()



def test_json_values_read_back_as_the_orm_stores_them_and_json_keeps_what_orjson_refuses(location):
    """On SQLite orjson writes JSON columns; the value read back is the same, whatever the spelling."""
    tags = [Tag.objects.create(location=location, tag_id=f"t{n}", name=f"T{n}", sort_name=f"t{n}",
                               first_seen_at=AT, last_seen_at=AT) for n in range(5)]
    values = [{"name": "Café ☕", "nested": [1, 2.5, None, True, {"k": "v"}]}, [1, "two"], {"big": 2 ** 70}, "text"]
    names = ("tag", "data", "fetched_at", "changed_at")
    rows = [(tag.pk, value, AT, AT) for tag, value in zip(tags[:4], values, strict=True)]
    assert rows_insert(TagDetail, names, rows) == 4
    assert [d.data for d in TagDetail.objects.order_by("tag__tag_id")] == values
    assert TagDetail.objects.filter(data__name="Café ☕").count() == 1  # the database reads it as JSON too
    with pytest.raises(TypeError):  # json's refusal, as the ORM's: not written as orjson's ISO text
        rows_insert(TagDetail, names, [(tags[4].pk, {"at": AT}, AT, AT)])


@pytest.mark.parametrize("at", [AT, AT.replace(microsecond=0), AT.astimezone(timezone(timedelta(hours=2)))])
def test_an_aware_datetime_reads_back_the_same_instant_in_utc_or_another_zone(location, at):
    rows_insert(StatisticsPoint, FIELDS, [(location.pk, "", "facebook", "reach", date(2025, 3, 1), 1.0, at)])
    assert StatisticsPoint.objects.get().fetched_at == at
    assert StatisticsPoint.objects.filter(fetched_at=at).count() == 1  # stored as the ORM stores it


def test_a_prepared_write_sends_nothing_until_it_is_run_and_then_what_the_plain_one_would(location):
    """The sync prepares its writes before their transaction begins (on SQLite it holds the one write lock from
    its start): preparing reads and writes nothing; running sends the statements."""
    rows = [(location.pk, "", "facebook", m, date(2025, 3, 1), 1.0, AT) for m in ("reach", "likes")]
    with CaptureQueriesContext(connection) as queries:
        insert = rows_insert_prepared(StatisticsPoint, FIELDS, rows)
        nothing = rows_update_prepared(StatisticsPoint, ("value",), [])
    assert len(queries) == 0 and not StatisticsPoint.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        assert insert() == 2 and nothing() == 0
    assert len(queries) == 1
    reach = StatisticsPoint.objects.get(metric="reach")
    update = rows_update_prepared(StatisticsPoint, ("value",), [(reach.pk, 7.0)])
    assert StatisticsPoint.objects.get(pk=reach.pk).value == 1.0
    with transaction.atomic():
        assert update() == 1
    assert dict(StatisticsPoint.objects.values_list("metric", "value")) == {"reach": 7.0, "likes": 1.0}
    with pytest.raises(ValueError, match="every row needs 7 values"):  # a wrong row is refused when prepared
        rows_insert_prepared(StatisticsPoint, FIELDS, [rows[0][:6]])
