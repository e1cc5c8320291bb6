"""The project carries its own architecture: code, docs and the README point at docs/, never at design
documents outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = re.compile(r"\.\./shared|shared/(design|highlevel-api)|\bdesign\.md\b|\bhighlevel-api\.md\b|design notes")
FOLDERS = ("dashboard", "integrations", "sandbox", "bench", "docs", "templates", "static/js", "tests")


def test_nothing_points_outside_the_repository():
    files = [ROOT / "README.md", *(p for folder in FOLDERS for p in (ROOT / folder).rglob("*")
                                   if p.suffix in {".py", ".md", ".html", ".js"})]
    this = Path(__file__).resolve()
    found = [f"{p.relative_to(ROOT)}:{n}" for p in files if p.resolve() != this
             for n, line in enumerate(p.read_text().splitlines(), 1) if OUTSIDE.search(line)]
    assert found == []


def test_the_architecture_names_files_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:dashboard|integrations|sandbox|tests|static)/[\w/.-]+\.(?:py|js))", text))
    assert named and sorted(p for p in named if not (ROOT / p).exists()) == []
