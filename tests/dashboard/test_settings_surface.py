"""One settings surface: product code reads `settings.NAME` for names settings.py declares (or Django's
own defaults), and never supplies a default of its own with getattr."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import global_settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [p for folder in ("dashboard", "integrations") for p in sorted((ROOT / folder).rglob("*.py"))
           if "migrations" not in p.parts and not p.name.startswith("settings")]


def declared() -> set[str]:
    tree = ast.parse((ROOT / "dashboard" / "settings.py").read_text())
    names = {target.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
             for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
             if isinstance(target, ast.Name)}
    for node in ast.walk(tree):  # names assigned in if/else branches (the cache, the database options)
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names | {name for name in dir(global_settings) if name.isupper()}


def settings_reads(path: Path) -> list[tuple[int, str, bool]]:
    """(line, name, with a default) for every `settings.NAME` and `getattr(settings, "NAME", ...)`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "settings":
            found.append((node.lineno, node.attr, False))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "settings"):
            name = node.args[1].value if isinstance(node.args[1], ast.Constant) else "?"
            found.append((node.lineno, name, len(node.args) > 2))
    return found


def test_no_product_code_gives_a_setting_a_default_of_its_own():
    offenders = [f"{p.relative_to(ROOT)}:{line} {name}" for p in PRODUCT
                 for line, name, with_default in settings_reads(p) if with_default]
    assert offenders == []


def test_every_setting_product_code_reads_is_declared_in_settings_py():
    known = declared()
    unknown = [f"{p.relative_to(ROOT)}:{line} {name}" for p in PRODUCT
               for line, name, _ in settings_reads(p) if name not in known]
    assert unknown == []
