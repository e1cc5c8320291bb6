"""The layers, as docs/architecture.md draws them, checked on the source (ast, not by importing anything):
the HighLevel client stands alone, integrations never imports dashboard, product code never imports the
sandbox, and the pages and the JSON API share selectors instead of importing each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Framework-free leaf modules of integrations/ that the client may use (each checked below to stay so).
CLIENT_MAY_USE = {"integrations.redact"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, module: str | None = None) -> set[str]:
    """Every module `path` imports, absolute, wherever the import statement stands (inside functions too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = (module or module_name(path)).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def python_files(*folders: str, exclude: tuple[str, ...] = ()) -> list[Path]:
    files = [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]
    return [p for p in files if not any(str(p.relative_to(ROOT)).startswith(e) for e in exclude)]


def offences(files: list[Path], forbidden) -> list[str]:
    return [f"{p.relative_to(ROOT)} imports {name}" for p in files for name in sorted(imports(p)) if forbidden(name)]


def under(name: str, *packages: str) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


PRODUCT = python_files("dashboard", "integrations", exclude=("dashboard/devtools/",))


def test_the_highlevel_client_needs_neither_django_nor_the_rest_of_integrations():
    def forbidden(name: str) -> bool:
        if under(name, "django"):
            return True
        return under(name, "integrations") and not under(name, "integrations.highlevel", *CLIENT_MAY_USE)

    files = python_files("integrations/highlevel")
    assert files and offences(files, forbidden) == []
    leaves = [ROOT / (name.replace(".", "/") + ".py") for name in CLIENT_MAY_USE]
    assert offences(leaves, lambda name: under(name, "django", "integrations", "dashboard")) == []


def test_integrations_never_imports_dashboard():
    assert offences(python_files("integrations"), lambda name: under(name, "dashboard")) == []


def test_product_code_never_imports_the_sandbox():
    assert offences(PRODUCT, lambda name: under(name, "sandbox")) == []


@pytest.mark.parametrize(("folder", "other"), [("dashboard/views", "dashboard.api"),
                                               ("dashboard/api", "dashboard.views")])
def test_pages_and_the_api_never_import_each_other(folder, other):
    assert offences(python_files(folder), lambda name: under(name, other)) == []


def test_the_checker_sees_relative_and_function_level_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from django.conf import settings\n    from ..models import Tag\n")
    found = imports(probe, module="integrations.highlevel.probe")
    assert found >= {"django.conf", "integrations.models", "integrations.models.Tag"}
