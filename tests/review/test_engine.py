"""Where a commented line goes in a later text, and the numbered diff: plain data, no database."""

from difflib import unified_diff

from apps.review.engine import diff_hunks, line_opcodes, map_line, map_lines

OLD = ["# Orders", "", "Table orders {", "  id int", "  status text", "}", ""]


def test_an_unchanged_line_moved_down_by_inserted_lines_follows_it() -> None:
    new = ["# Orders", "Intro.", "More intro.", "", "Table orders {", "  id int", "  status text", "}", ""]
    assert map_line(OLD, new, 5) == 7
    assert new[7 - 1] == OLD[5 - 1]


def test_an_unchanged_line_moved_up_by_deleted_lines_follows_it() -> None:
    new = ["Table orders {", "  id int", "  status text", "}", ""]
    assert map_line(OLD, new, 5) == 3


def test_an_edited_line_is_outdated() -> None:
    new = [*OLD[:4], "  status varchar(20)", *OLD[5:]]
    assert map_line(OLD, new, 5) is None
    assert map_line(OLD, new, 4) == 4  # its neighbours stay


def test_a_deleted_line_is_outdated() -> None:
    new = [line for line in OLD if line != "  status text"]
    assert map_line(OLD, new, 5) is None
    assert map_line(OLD, new, 6) == 5


def test_a_repeated_line_follows_its_own_occurrence() -> None:
    old = ["Table a {", "  id int", "}", "Table b {", "  id int", "}"]
    new = ["Table a {", "  id int", "}", "Table c {", "  id int", "}", "Table b {", "  id int", "}"]
    assert map_line(old, new, 5) == 8  # b's id, not c's
    assert map_line(old, new, 2) == 2
    deleted_first = ["Table b {", "  id int", "}"]
    assert map_line(old, deleted_first, 5) == 2
    assert map_line(old, deleted_first, 2) is None


def test_lines_outside_the_text_map_to_nothing() -> None:
    assert map_line(OLD, OLD, 0) is None
    assert map_line(OLD, OLD, len(OLD) + 1) is None
    assert map_lines(OLD, OLD, [1, 7]) == {1: 1, 7: 7}


def test_a_changed_middle_longer_than_the_limit_counts_as_replaced() -> None:
    old = ["head", *[f"a{i}" for i in range(50)], "tail"]
    new = ["head", "a0 edited", *[f"a{i}" for i in range(1, 49)], "a49 edited", "tail"]
    assert map_line(old, new, 30, max_lines=1000) == 30
    assert map_line(old, new, 30, max_lines=10) is None  # not compared: outdated, never misplaced
    assert map_line(old, new, 52, max_lines=10) == 52  # the common head and tail still match
    assert line_opcodes(old, new, max_lines=10) == [
        ("equal", 0, 1, 0, 1),
        ("replace", 1, 51, 1, 51),
        ("equal", 51, 52, 51, 52),
    ]


def test_the_diff_numbers_lines_as_a_unified_diff_does() -> None:
    old = [f"line {i}" for i in range(1, 21)]
    new = [*old[:2], "inserted", *old[2:9], "changed 10", *old[10:17], *old[18:]]
    hunks = diff_hunks(old, new, context=3)
    expected = [line for line in unified_diff(old, new, lineterm="", n=3) if line.startswith("@@")]
    assert [h.header for h in hunks] == expected
    rows = [row for h in hunks for row in h.lines]
    assert ("added", None, 3, "inserted") in [(r.kind, r.old_number, r.new_number, r.text) for r in rows]
    assert ("removed", 10, None, "line 10") in [(r.kind, r.old_number, r.new_number, r.text) for r in rows]
    assert ("removed", 18, None, "line 18") in [(r.kind, r.old_number, r.new_number, r.text) for r in rows]
    context = next(r for r in rows if r.text == "line 8")
    assert (context.kind, context.old_number, context.new_number) == ("context", 8, 9)


def test_equal_texts_have_no_diff() -> None:
    assert diff_hunks(OLD, list(OLD)) == []


def test_a_new_document_is_all_added() -> None:
    (hunk,) = diff_hunks([], ["a", "b"])
    assert hunk.header == "@@ -0,0 +1,2 @@"
    assert [r.kind for r in hunk.lines] == ["added", "added"]
