from integrations.pk_set import PkSet


def test_it_holds_exactly_what_was_added():
    ids = PkSet()
    for pk in (0, 7, 8, 1_000_003, 7):
        ids.add(pk)
    assert len(ids) == 4 and all(pk in ids for pk in (0, 7, 8, 1_000_003))
    assert not any(pk in ids for pk in (1, 9, 1_000_002, 5_000_000, -1, "7", None))
    assert len(ids.bits) < 300_000  # a bit per id, not a set entry


def test_it_gives_its_ids_back_in_ascending_order():
    ids = PkSet()
    for pk in (1_000_003, 9, 0, 8, 7, 9, 64):
        ids.add(pk)
    assert list(ids) == [0, 7, 8, 9, 64, 1_000_003]
    assert list(PkSet()) == []
