"""requirements/action.txt (what the action's venv installs) covers every third-party import of
src/, and pins each distribution by hash. A missing one does not crash the action: the scanner
skips readers whose import fails, so libraries silently vanish from the SBOM; hence this test."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements" / "action.txt"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> dict[str, list[str]]:
    """Distribution name -> the pin lines (with their hash continuation lines)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==\S+", line)
        if match:
            current = out.setdefault(normalise(match.group(1)), [])
            current.append(line)
        elif current is not None and line.startswith("    --hash="):
            current.append(line)
        elif not line.startswith("    "):
            current = None
    return out


def third_party_imports() -> dict[str, str]:
    """Top-level module -> one file importing it, for every non-stdlib import in src/."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("__future__", "unified_supply_chain"):
                    continue
                found.setdefault(top, path.relative_to(ROOT).as_posix())
    return found


def distributions_of_imports() -> dict[str, str]:
    """Distribution (normalised) -> the import that needs it, resolved in the test venv."""
    mapping = importlib.metadata.packages_distributions()
    out: dict[str, str] = {}
    for module, where in third_party_imports().items():
        dists = mapping.get(module)
        assert dists, f"{module} (imported by {where}) is not installed in the test venv"
        out[normalise(dists[0])] = f"{module} ({where})"
    return out


def test_every_pin_has_hashes() -> None:
    pins = pinned()
    assert len(pins) > 10
    for name, lines in pins.items():
        assert any(line.startswith("    --hash=sha256:") for line in lines), name


def test_action_requirements_cover_every_import() -> None:
    pins = pinned()
    missing = {dist: why for dist, why in distributions_of_imports().items() if dist not in pins}
    assert missing == {}, "run requirements/compile.sh after declaring these in pyproject.toml"


def test_action_requirements_cover_pyproject_dependencies() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = pinned()
    for requirement in project["dependencies"]:
        name = normalise(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])
        assert name in pins, f"{requirement}: run requirements/compile.sh"


def runtime_closure(requirements: list[str]) -> set[str]:
    """Distributions that `requirements` install (transitively), resolved in the test venv."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    # Top-level markers are not evaluated: `tomli; python_version < "3.11"` counts as declared.
    todo = [(Requirement(r), set(Requirement(r).extras)) for r in requirements]
    while todo:
        req, _extras = todo.pop()
        name = normalise(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = importlib.metadata.distribution(req.name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for sub in dist.requires or []:
            sub_req = Requirement(sub)
            if sub_req.marker and not any(
                sub_req.marker.evaluate({"extra": e}) for e in req.extras | {""}
            ):
                continue
            todo.append((sub_req, set(sub_req.extras)))
    return seen


def test_pyproject_declares_every_import() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = runtime_closure(project["dependencies"])
    missing = {d: why for d, why in distributions_of_imports().items() if d not in installed}
    assert missing == {}, "declare these in pyproject.toml, then run requirements/compile.sh"
