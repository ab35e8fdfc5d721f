"""Requirements files and pyproject.toml become libraries with exact purls and problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import write_file as _write
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash
from unified_supply_chain.sources.libraries.manifests import normalize_name
from unified_supply_chain.sources.libraries.pyproject import read_pyproject
from unified_supply_chain.sources.libraries.requirements import read_requirements

SHA_A = "a" * 64
SHA_B = "B" * 64


def test_normalize_name_follows_pep_503() -> None:
    assert normalize_name("Foo.Bar__baz--Qux") == "foo-bar-baz-qux"


def test_requirements_pins_ranges_markers_extras_hashes_and_includes(tmp_path: Path) -> None:
    _write(tmp_path / "reqs" / "base.txt", "NumPy==1.26.4\nshared-dep>=2\n")
    _write(tmp_path / "constraints.txt", "urllib3==2.0.0\n")
    req = _write(
        tmp_path / "requirements.txt",
        "# a comment line\n"
        "-r reqs/base.txt\n"
        "-c constraints.txt\n"
        "--index-url https://pypi.example/simple\n"
        "requests[socks,security]==2.31.0 ; python_version >= '3.8'  # trailing comment\n"
        "Scikit_Learn>=1.3,<2\n"
        "torch==2.2.*\n"
        "pyyaml==6.0.1 \\\n"
        f"    --hash=sha256:{SHA_A} \\\n"
        f"    --hash sha256:{SHA_B}\n"
        "git+https://user:secret@github.com/org/tool.git@v1.0#egg=my_tool\n"
        "-e git+https://github.com/org/editable.git#egg=Editable.Pkg\n"
        "wheelpkg @ https://files.example/wheelpkg-1.0-py3-none-any.whl\n"
        "this is not a requirement!!\n"
        "-e .\n"
        "./local/dir\n",
    )
    result = read_requirements(req, "requirements.txt")
    purls = [lib.purl for lib in result.libraries]
    assert purls == [
        "pkg:pypi/numpy@1.26.4",
        "pkg:pypi/shared-dep",
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/scikit-learn",
        "pkg:pypi/torch",
        "pkg:pypi/pyyaml@6.0.1",
        "pkg:pypi/my-tool?vcs_url=git%2Bhttps://github.com/org/tool.git%40v1.0%23egg%3Dmy_tool",
        "pkg:pypi/editable-pkg?vcs_url=git%2Bhttps://github.com/org/editable.git%23egg%3DEditable.Pkg",
        "pkg:pypi/wheelpkg?download_url=https://files.example/wheelpkg-1.0-py3-none-any.whl",
    ]
    by_name = {lib.name: lib for lib in result.libraries}
    assert by_name["NumPy"].source == "reqs/base.txt"
    assert by_name["requests"].source == "requirements.txt"
    assert by_name["requests"].version == "2.31.0"
    assert by_name["Scikit_Learn"].version is None
    assert by_name["pyyaml"].hashes == (
        Hash("SHA-256", SHA_A, "requirements"),
        Hash("SHA-256", SHA_B.lower(), "requirements"),
    )
    assert all(lib.scope == "required" for lib in result.libraries)
    assert "secret" not in repr(result)
    messages = [(p.path, p.message) for p in result.problems]
    assert len(messages) == 3
    assert all(path == "requirements.txt" for path, _ in messages)
    assert messages[0][1].startswith("line 14: skipped")
    assert "line 15" in messages[1][1] and "no package name" in messages[1][1]
    assert "line 16" in messages[2][1] and "no package name" in messages[2][1]


def test_dev_requirements_are_optional(tmp_path: Path) -> None:
    req = _write(tmp_path / "requirements-dev.txt", "pytest==8.0.0\n")
    result = read_requirements(req, "requirements-dev.txt")
    assert [(lib.purl, lib.scope) for lib in result.libraries] == [
        ("pkg:pypi/pytest@8.0.0", "optional")
    ]


def test_requirements_include_loop_and_escape_are_problems(tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside.txt", "leaked==1.0\n")
    root = tmp_path / "repo"
    _write(root / "a.txt", "-r b.txt\nalpha==1\n")
    _write(
        root / "b.txt",
        "-r a.txt\n-r ../outside.txt\n-r ../../etc/passwd\n-r /etc/passwd\nbeta==2\n",
    )
    _write(root / "c.txt", "-r missing.txt\n-r https://example.com/r.txt\n")
    (root / "link.txt").symlink_to(outside)
    _write(root / "d.txt", "-r link.txt\n")
    result = read_requirements(root / "a.txt", "a.txt")
    assert [lib.purl for lib in result.libraries] == ["pkg:pypi/beta@2", "pkg:pypi/alpha@1"]
    text = "\n".join(f"{p.path} {p.message}" for p in result.problems)
    assert "include loop" in text
    assert text.count("outside the repository") == 2
    assert "absolute" in text
    assert "leaked" not in repr(result.libraries)

    other = read_requirements(root / "c.txt", "c.txt")
    assert other.libraries == ()
    assert [p.message for p in other.problems] == [
        "line 1: included file 'missing.txt' not found",
        "line 2: remote include 'https://example.com/r.txt' not read",
    ]
    via_link = read_requirements(root / "d.txt", "d.txt")
    assert via_link.libraries == ()
    assert "outside the repository" in via_link.problems[0].message


def test_requirements_include_depth_is_capped(tmp_path: Path) -> None:
    for i in range(20):
        _write(tmp_path / f"r{i}.txt", f"-r r{i + 1}.txt\npkg{i}==1\n")
    _write(tmp_path / "r20.txt", "last==1\n")
    result = read_requirements(tmp_path / "r0.txt", "r0.txt")
    assert len(result.libraries) == 8
    assert any("nested deeper" in p.message for p in result.problems)


def test_requirements_hostile_inputs_never_crash(tmp_path: Path) -> None:
    garbage = _write(tmp_path / "requirements.txt", bytes(range(256)) * 20)
    with pytest.raises(FormatError):
        read_requirements(garbage, "requirements.txt")
    latin = _write(tmp_path / "r2.txt", "caf\xe9==1\n".encode("latin-1"))
    with pytest.raises(FormatError):
        read_requirements(latin, "r2.txt")
    odd = _write(
        tmp_path / "r3.txt",
        "pkg==1 --hash=sha256:nothex\n-r\n\"unterminated\n-e\nfoo==1 --hash='x\n\\\n",
    )
    result = read_requirements(odd, "r3.txt")
    assert result.libraries == ()
    assert [p.message.split(":")[0] for p in result.problems] == [
        "line 1",
        "line 2",
        "line 3",
        "line 4",
        "line 5",
    ]
    nested = _write(tmp_path / "sub" / "r4.txt", "-r ../r2.txt\nok==1\n")
    res = read_requirements(nested, "sub/r4.txt")
    assert [lib.purl for lib in res.libraries] == ["pkg:pypi/ok@1"]
    assert res.problems[0].path == "r2.txt" and "UTF-8" in res.problems[0].message


def test_pyproject_pep621_and_dependency_groups(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pyproject.toml",
        """
[project]
name = "demo-app"
version = "1.2.3"
dependencies = ["numpy==2.0.0", "PyYAML>=6", "bad dep !!", 'tomli>=1; python_version<"3.11"']

[project.optional-dependencies]
test = ["pytest==8.1.0", "numpy==2.0.0"]

[dependency-groups]
lint = ["ruff==0.6.0", {include-group = "test"}]
""",
    )
    result = read_pyproject(path, "pyproject.toml")
    assert (result.name, result.version) == ("demo-app", "1.2.3")
    assert [(lib.purl, lib.scope) for lib in result.libraries] == [
        ("pkg:pypi/numpy@2.0.0", "required"),
        ("pkg:pypi/pyyaml", "required"),
        ("pkg:pypi/tomli", "required"),
        ("pkg:pypi/pytest@8.1.0", "optional"),
        ("pkg:pypi/ruff@0.6.0", "optional"),
    ]
    assert len(result.problems) == 1
    assert result.problems[0].message.startswith("project.dependencies: skipped 'bad dep !!'")


def test_pyproject_poetry(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pyproject.toml",
        """
[tool.poetry]
name = "poetry-app"
version = "0.4.0"

[tool.poetry.dependencies]
python = "^3.10"
requests = "^2.31"
numpy = "1.26.4"
pandas = {version = "==2.2.0", optional = true}
mylib = {git = "https://tok@github.com/org/mylib.git", tag = "v1"}
localpkg = {path = "../localpkg"}
torch = [{version = "2.2.0", markers = "sys_platform == 'linux'"}]

[tool.poetry.dev-dependencies]
black = "*"

[tool.poetry.group.test.dependencies]
pytest = "~8.0"
""",
    )
    result = read_pyproject(path, "pyproject.toml")
    assert (result.name, result.version) == ("poetry-app", "0.4.0")
    assert {(lib.purl, lib.scope) for lib in result.libraries} == {
        ("pkg:pypi/requests", "required"),
        ("pkg:pypi/numpy@1.26.4", "required"),
        ("pkg:pypi/pandas@2.2.0", "optional"),
        ("pkg:pypi/mylib?vcs_url=git%2Bhttps://github.com/org/mylib.git", "required"),
        ("pkg:pypi/torch", "required"),
        ("pkg:pypi/black", "optional"),
        ("pkg:pypi/pytest", "optional"),
    }
    assert [p.message for p in result.problems] == [
        "tool.poetry.dependencies: 'localpkg' is a local path dependency; skipped"
    ]


def test_pyproject_dynamic_version_and_bad_toml(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\ndynamic = ["version"]\ndependencies = "notalist"\n',
    )
    result = read_pyproject(path, "pyproject.toml")
    assert (result.name, result.version, result.libraries) == ("x", None, ())
    assert result.problems[0].message == "project.dependencies: not a list of requirements"
    bad = _write(tmp_path / "bad.toml", "[project\nname=")
    with pytest.raises(FormatError, match="invalid TOML"):
        read_pyproject(bad, "bad.toml")
    deep = _write(tmp_path / "deep.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(FormatError):
        read_pyproject(deep, "deep.toml")
    binary = _write(tmp_path / "bin.toml", b"\x00\xff\xfe" * 100)
    with pytest.raises(FormatError):
        read_pyproject(binary, "bin.toml")


def test_problem_messages_never_carry_credentials_or_absolute_paths(tmp_path: Path) -> None:
    (tmp_path / "self.txt").symlink_to("self.txt")
    req = _write(
        tmp_path / "requirements.txt",
        "foo @ https://bob:hunter2@files.example/foo.whl ; python_version >>> '3'\n"
        "git+https://bob:hunter2@github.com/org/repo.git\n"
        "-r self.txt\n",
    )
    result = read_requirements(req, "requirements.txt")
    assert result.libraries == ()
    assert len(result.problems) == 3
    text = repr(result.problems)
    assert "hunter2" not in text and "bob" not in text
    assert str(tmp_path) not in text
    assert "symlink loop" in result.problems[2].message
    pyproject = _write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\ndependencies = ["bar @ https://u:s3cr3t@h.example/b.whl ; ;"]\n',
    )
    res = read_pyproject(pyproject, "pyproject.toml")
    assert res.libraries == () and len(res.problems) == 1
    assert "s3cr3t" not in repr(res.problems)
