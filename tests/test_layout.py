"""The package's folders show the pipeline: every module sits in a subpackage, the map in pipeline/__init__.py
lists them all, and each subpackage imports only the ones its own docstring allows (so no cycle between them)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pipeline

PACKAGE = Path(pipeline.__file__).parent


def _subpackages() -> list[str]:
    return sorted(d.name for d in PACKAGE.iterdir() if (d / "__init__.py").is_file())


def _allowed(subpackage: str) -> set[str]:
    doc = ast.get_docstring(ast.parse((PACKAGE / subpackage / "__init__.py").read_text())) or ""
    found = re.search(r"May import: (.*?)\.\s*$", doc, re.S)
    assert found, f"pipeline/{subpackage}/__init__.py does not say what it may import"
    return set() if "nothing" in found.group(1) else {n.strip() for n in found.group(1).split(",")}


def _imported_subpackages(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            continue
        names |= {m.split(".")[1] for m in modules if m.startswith("pipeline.") and m.count(".") >= 1}
    return names


def test_no_module_stands_directly_in_pipeline() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert loose == []


def test_the_map_lists_every_module_of_the_tree() -> None:
    doc = pipeline.__doc__ or ""
    mapped = {m.group(1): m.group(2) for m in re.finditer(r"^    (\w+)/\s+(.+)$", doc, re.M)}
    assert sorted(mapped) == _subpackages()
    for subpackage, listed in mapped.items():
        folder = PACKAGE / subpackage
        modules = sorted(p.stem for p in folder.glob("*.py") if p.name != "__init__.py")
        nested = sorted(d.name for d in folder.iterdir() if (d / "__init__.py").is_file())
        expected = modules + [
            f"{n}/ ({', '.join(sorted(p.stem for p in (folder / n).glob('*.py') if p.name != '__init__.py'))})"
            for n in nested
        ]
        assert listed == ", ".join(expected), f"pipeline/__init__.py's map is out of date for {subpackage}/"


def test_each_subpackage_imports_only_what_it_may() -> None:
    for subpackage in _subpackages():
        allowed = _allowed(subpackage) | {subpackage}
        for path in (PACKAGE / subpackage).rglob("*.py"):
            wrong = _imported_subpackages(path) - allowed - {"__version__"}
            assert not wrong, (
                f"{path.relative_to(PACKAGE.parent)} imports {sorted(wrong)}, which its subpackage may not"
            )


def test_the_allowed_imports_form_no_cycle() -> None:
    graph = {s: _allowed(s) for s in _subpackages()}
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, f"import cycle: {' -> '.join((*trail, node))}"
        if node in done:
            return
        for nxt in graph.get(node, ()):
            visit(nxt, (*trail, node))
        done.add(node)

    for s in graph:
        visit(s, ())


def test_the_readme_is_short_and_opens_with_the_two_setup_commands() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 12_000
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("essay draft prompts/platform-year.md")
    assert "pytest" in commands[1]
