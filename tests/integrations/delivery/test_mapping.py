"""The declarative field mapping: transforms, defaults, constants, nesting, and validation messages."""

from __future__ import annotations

import json

import pytest

from integrations.delivery.mapping import mapping_apply, mapping_validate, message_body, parse_value, sample_source

SOURCE = {
    "type": "tag.created", "occurred_at": "2025-03-04T05:06:07+00:00", "location_id": "loc1",
    "payload": {"name": "VIP Customer", "createdAt": "2025-01-15T09:30:00Z", "updatedMs": 1736933400000,
                "platforms": ["facebook", "instagram"], "empty": "", "items": [{"id": "a"}, {"id": "b"}]},
}


def test_without_rows_the_whole_source_goes_out():
    assert mapping_apply([], SOURCE) == SOURCE


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"source": "payload.name", "transform": "lower"}, "vip customer"),
        ({"source": "payload.name", "transform": "upper"}, "VIP CUSTOMER"),
        ({"source": "payload.createdAt", "transform": "date", "arg": "%d/%m/%Y"}, "15/01/2025"),
        ({"source": "payload.createdAt", "transform": "date"}, "2025-01-15"),
        ({"source": "payload.updatedMs", "transform": "date", "arg": "%Y-%m-%d %H:%M"}, "2025-01-15 09:30"),
        ({"source": "payload.platforms", "transform": "join", "arg": " | "}, "facebook | instagram"),
        ({"source": "payload.platforms", "transform": "join"}, "facebook, instagram"),
        ({"source": "payload.platforms", "transform": "upper"}, ["FACEBOOK", "INSTAGRAM"]),
        ({"source": "payload.items.1.id"}, "b"),
        ({"source": "payload.missing", "default": "n/a"}, "n/a"),
        ({"source": "payload.empty", "default": 0}, 0),
        ({"source": "payload.name", "transform": "date", "default": "undated"}, "undated"),
        ({"constant": "tagscope"}, "tagscope"),
        ({"constant": 42}, 42),
        ({"source": "payload.missing"}, None),
    ],
)
def test_a_row_reads_transforms_and_defaults(row, expected):
    assert mapping_apply([{"target": "out", **row}], SOURCE) == {"out": expected}


def test_rows_rename_choose_and_nest_fields():
    rows = [{"target": "tag.name", "source": "payload.name"}, {"target": "tag.location", "source": "location_id"},
            {"target": "source", "constant": "highlevel"}]
    assert mapping_apply(rows, SOURCE) == {"tag": {"name": "VIP Customer", "location": "loc1"}, "source": "highlevel"}


def test_the_body_is_the_standard_webhooks_envelope_marked_test_or_not():
    body = json.loads(message_body(event_type="tag.created", occurred_at="t", data={"a": 1}, test=True))
    assert body == {"type": "tag.created", "timestamp": "t", "test": True, "data": {"a": 1}}


def test_typed_values_are_json_when_they_parse_and_text_otherwise():
    assert parse_value("42") == 42
    assert parse_value("true") is True
    assert parse_value('"42"') == "42"
    assert parse_value("hello") == "hello"
    assert parse_value("  ") is None


def test_a_sample_exists_for_every_event_type():
    from integrations.models import Event

    for event_type in Event.Type.values:
        assert sample_source(event_type)["type"] == event_type


def test_a_good_mapping_has_no_errors():
    rows = [{"target": "name", "source": "payload.name", "transform": "lower", "default": "x"},
            {"target": "when", "source": "occurred_at", "transform": "date", "arg": "%Y-%m-%dT%H:%M:%S%z"},
            {"target": "origin", "constant": "tagscope"}]
    assert mapping_validate(rows) == []


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"source": "payload.name"}], "Row 1: give the output name."),
        ([{"target": "a b", "source": "payload.name"}], "Row 1: “a b” is not a valid output name"),
        ([{"target": "a"}], "Row 1: give a source path (e.g. payload.name) or a constant."),
        ([{"target": "a", "source": "payload..name"}], "Row 1: “payload..name” is not a valid source path"),
        ([{"target": "a", "source": "x", "constant": 1}], "Row 1: give a source path or a constant, not both."),
        ([{"target": "a", "source": "x", "transform": "eval"}], "Row 1: unknown transform “eval”"),
        ([{"target": "a", "constant": "x", "transform": "lower"}], "Row 1: a constant is sent as it is"),
        ([{"target": "a", "source": "x", "transform": "date", "arg": "%Q"}], "Row 1: “%Q” is not a date format"),
        ([{"target": "a", "source": "x", "transform": "date", "arg": "%Y%"}], "Row 1: “%Y%” is not a date format"),
        ([{"target": "a", "source": "x", "transform": "upper", "arg": "y"}], "the upper transform takes no argument"),
        ([{"target": "a", "source": "x"}, {"target": "a", "source": "y"}], "The output name “a” is used twice."),
        ([{"target": "a", "source": "x"}, {"target": "a.b", "source": "y"}], "“a.b” clashes with a nested name"),
        ("not a list", "A mapping is a list of rows."),
        ([{"target": f"f{i}", "source": "x"} for i in range(51)], "A mapping has at most 50 rows."),
    ],
)
def test_validation_explains_what_is_wrong(rows, message):
    errors = mapping_validate(rows)
    assert any(message in e for e in errors), errors


def test_errors_name_the_row():
    errors = mapping_validate([{"target": "ok", "source": "x"}, {"target": "", "source": "y"}])
    assert errors == ["Row 2: give the output name."]
