"""Lockfile readers: exact purls, hashes, direct/transitive, scopes and dependency edges."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash, Library
from unified_supply_chain.sources.libraries.lockfiles import FORMATS, LockfileResult, read_lockfile

H1 = "a" * 64
H2 = "b" * 64
H3 = "c" * 64


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _by_purl(result: LockfileResult) -> dict[str, Library]:
    libs = {lib.purl: lib for lib in result.libraries}
    assert len(libs) == len(result.libraries), "one library per purl"
    return libs


POETRY_LOCK = f"""\
[[package]]
name = "Requests"
version = "2.31.0"
description = "HTTP"
optional = false
python-versions = ">=3.7"
groups = ["main"]
files = [
    {{file = "requests-2.31.0-py3-none-any.whl", hash = "sha256:{H1}"}},
    {{file = "requests-2.31.0.tar.gz", hash = "sha256:{H2}"}},
]

[package.dependencies]
certifi = ">=2017.4.17"
urllib3 = {{version = ">=1.21.1,<3", markers = "python_version >= '3.7'"}}

[[package]]
name = "certifi"
version = "2024.2.2"
description = ""
optional = false
python-versions = ">=3.6"
groups = ["main"]
files = [{{file = "certifi-2024.2.2.tar.gz", hash = "sha256:{H3}"}}]

[[package]]
name = "urllib3"
version = "2.2.1"
description = ""
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = []

[[package]]
name = "pytest"
version = "8.0.0"
description = ""
optional = false
python-versions = ">=3.8"
groups = ["dev"]
files = []

[package.dependencies]
iniconfig = "*"

[[package]]
name = "iniconfig"
version = "2.0.0"
description = ""
optional = false
python-versions = ">=3.7"
category = "dev"
files = []

[[package]]
name = "my_lib"
version = "0.3.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = []

[package.source]
type = "git"
url = "https://user:secret@github.com/org/my-lib.git"
reference = "main"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "x"
"""

POETRY_PYPROJECT = """\
[tool.poetry]
name = "app"
version = "1.0.0"

[tool.poetry.dependencies]
python = "^3.11"
requests = "^2.31"
my-lib = {git = "https://github.com/org/my-lib.git"}

[tool.poetry.group.dev.dependencies]
pytest = "^8"
"""


def test_poetry_lock(tmp_path: Path) -> None:
    _write(tmp_path, "pyproject.toml", POETRY_PYPROJECT)
    path = _write(tmp_path, "poetry.lock", POETRY_LOCK)
    result = read_lockfile(path, "poetry.lock", "lockfile-poetry")
    libs = _by_purl(result)
    git_purl = (
        "pkg:pypi/my-lib@0.3.0?vcs_url=git%2Bhttps://github.com/org/my-lib.git"
        "%400123456789abcdef0123456789abcdef01234567"
    )
    assert set(libs) == {
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/certifi@2024.2.2",
        "pkg:pypi/urllib3@2.2.1",
        "pkg:pypi/pytest@8.0.0",
        "pkg:pypi/iniconfig@2.0.0",
        git_purl,
    }
    requests = libs["pkg:pypi/requests@2.31.0"]
    assert requests.direct and requests.scope == "required" and requests.ecosystem == "pypi"
    assert requests.hashes == (Hash("SHA-256", H1, "lockfile"), Hash("SHA-256", H2, "lockfile"))
    assert requests.depends_on == ("pkg:pypi/certifi@2024.2.2", "pkg:pypi/urllib3@2.2.1")
    assert not libs["pkg:pypi/certifi@2024.2.2"].direct
    assert libs["pkg:pypi/pytest@8.0.0"].direct
    assert libs["pkg:pypi/pytest@8.0.0"].scope == "optional"
    assert libs["pkg:pypi/iniconfig@2.0.0"].scope == "optional"
    assert not libs["pkg:pypi/iniconfig@2.0.0"].direct
    assert libs[git_purl].direct
    assert "secret" not in git_purl
    assert {lib.source for lib in result.libraries} == {"poetry.lock"}


def test_poetry_lock_without_pyproject_infers_roots(tmp_path: Path) -> None:
    path = _write(tmp_path, "poetry.lock", POETRY_LOCK)
    libs = _by_purl(read_lockfile(path, "sub/poetry.lock", "lockfile-poetry"))
    direct = {p for p, lib in libs.items() if lib.direct}
    assert direct == {
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/pytest@8.0.0",
        next(p for p in libs if p.startswith("pkg:pypi/my-lib@")),
    }


def test_poetry_legacy_metadata_files(tmp_path: Path) -> None:
    text = (
        '[[package]]\nname = "six"\nversion = "1.16.0"\ncategory = "main"\n\n'
        f'[metadata.files]\nsix = [{{file = "six.whl", hash = "sha256:{H1}"}}]\n'
    )
    libs = _by_purl(read_lockfile(_write(tmp_path, "poetry.lock", text), "p", "lockfile-poetry"))
    assert libs["pkg:pypi/six@1.16.0"].hashes == (Hash("SHA-256", H1, "lockfile"),)


UV_LOCK = f"""\
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = {{ editable = "." }}
dependencies = [
    {{ name = "httpx" }},
]

[package.dev-dependencies]
dev = [
    {{ name = "ruff" }},
]

[[package]]
name = "httpx"
version = "0.27.0"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [
    {{ name = "anyio" }},
    {{ name = "Sniffio" }},
]
sdist = {{ url = "https://files.example/httpx-0.27.0.tar.gz", hash = "sha256:{H1}", size = 1 }}
wheels = [
    {{ url = "https://files.example/httpx.whl", hash = "sha256:{H2}", size = 2 }},
]

[[package]]
name = "anyio"
version = "4.3.0"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [
    {{ name = "sniffio" }},
]
wheels = [
    {{ url = "https://files.example/anyio.whl", hash = "sha256:{H3}", size = 3 }},
]

[[package]]
name = "sniffio"
version = "1.3.1"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "ruff"
version = "0.4.0"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "internal-tool"
version = "1.0"
source = {{ git = "https://git.example/tool.git?rev=v1#abcdef1234567890abcdef1234567890abcdef12" }}
"""


def test_uv_lock(tmp_path: Path) -> None:
    libs = _by_purl(read_lockfile(_write(tmp_path, "uv.lock", UV_LOCK), "uv.lock", "lockfile-uv"))
    tool = (
        "pkg:pypi/internal-tool@1.0?vcs_url=git%2Bhttps://git.example/tool.git"
        "%40abcdef1234567890abcdef1234567890abcdef12"
    )
    assert set(libs) == {
        "pkg:pypi/httpx@0.27.0",
        "pkg:pypi/anyio@4.3.0",
        "pkg:pypi/sniffio@1.3.1",
        "pkg:pypi/ruff@0.4.0",
        tool,
    }
    httpx = libs["pkg:pypi/httpx@0.27.0"]
    assert httpx.direct and httpx.scope == "required"
    assert httpx.hashes == (Hash("SHA-256", H1, "lockfile"), Hash("SHA-256", H2, "lockfile"))
    assert httpx.depends_on == ("pkg:pypi/anyio@4.3.0", "pkg:pypi/sniffio@1.3.1")
    assert not libs["pkg:pypi/anyio@4.3.0"].direct
    assert libs["pkg:pypi/sniffio@1.3.1"].scope == "required"
    assert libs["pkg:pypi/ruff@0.4.0"].direct and libs["pkg:pypi/ruff@0.4.0"].scope == "optional"
    # Locked but reached from no root: transitive and not required.
    assert not libs[tool].direct and libs[tool].scope == "optional"


PIPFILE_LOCK = {
    "_meta": {"pipfile-spec": 6},
    "default": {
        "flask": {"hashes": [f"sha256:{H1}"], "version": "==3.0.0", "index": "pypi"},
        "werkzeug": {"hashes": [f"sha256:{H2}", "md5:nothex"], "version": "==3.0.1"},
        "mylib": {"git": "https://github.com/o/mylib.git", "ref": "deadbeef"},
        "localpkg": {"path": "./local", "editable": True},
    },
    "develop": {"Pytest": {"hashes": [], "version": "==8.0.0"}},
}


def test_pipfile_lock_with_pipfile(tmp_path: Path) -> None:
    _write(tmp_path, "Pipfile", '[packages]\nflask = "*"\n\n[dev-packages]\npytest = "*"\n')
    path = _write(tmp_path, "Pipfile.lock", json.dumps(PIPFILE_LOCK))
    result = read_lockfile(path, "Pipfile.lock", "lockfile-pipfile")
    libs = _by_purl(result)
    assert set(libs) == {
        "pkg:pypi/flask@3.0.0",
        "pkg:pypi/werkzeug@3.0.1",
        "pkg:pypi/mylib?vcs_url=git%2Bhttps://github.com/o/mylib.git%40deadbeef",
        "pkg:pypi/pytest@8.0.0",
    }
    assert libs["pkg:pypi/flask@3.0.0"].direct
    assert not libs["pkg:pypi/werkzeug@3.0.1"].direct
    assert libs["pkg:pypi/werkzeug@3.0.1"].hashes == (Hash("SHA-256", H2, "lockfile"),)
    assert libs["pkg:pypi/pytest@8.0.0"].scope == "optional"
    assert libs["pkg:pypi/pytest@8.0.0"].direct
    assert [p.message for p in result.problems] == [
        "'localpkg' is a local path dependency; skipped"
    ]


def test_pipfile_lock_without_pipfile_counts_all_as_direct(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pipfile.lock", json.dumps(PIPFILE_LOCK))
    libs = read_lockfile(path, "Pipfile.lock", "lockfile-pipfile").libraries
    assert all(lib.direct for lib in libs) and len(libs) == 4


CONDA_ENV = """\
name: ml
channels:
  - conda-forge
dependencies:
  - python=3.11
  - numpy=1.26.4=py311h64a7726_0
  - pytorch::pytorch==2.2.0
  - scipy>=1.10
  - pandas 2.1.0 py311_0
  - pip
  - pip:
      - requests==2.31.0
      - Torch_Vision>=0.17
      - -r requirements.txt
"""


def test_conda_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, "environment.yml", CONDA_ENV)
    result = read_lockfile(path, "environment.yml", "conda-env")
    libs = _by_purl(result)
    assert set(libs) == {
        "pkg:conda/python@3.11?channel=conda-forge",
        "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge",
        "pkg:conda/pytorch@2.2.0?channel=pytorch",
        "pkg:conda/scipy?channel=conda-forge",
        "pkg:conda/pandas@2.1.0?build=py311_0&channel=conda-forge",
        "pkg:conda/pip?channel=conda-forge",
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/torch-vision",
    }
    assert all(lib.direct for lib in libs.values())
    assert libs["pkg:pypi/requests@2.31.0"].ecosystem == "pypi"
    assert libs["pkg:conda/pytorch@2.2.0?channel=pytorch"].ecosystem == "conda"
    assert len(result.problems) == 1 and "-r requirements.txt" in result.problems[0].message


def test_conda_environment_with_several_channels_names_no_guessed_channel(tmp_path: Path) -> None:
    text = "channels: [conda-forge, defaults]\ndependencies:\n  - numpy=1.26\n"
    libs = _by_purl(read_lockfile(_write(tmp_path, "env.yml", text), "env.yml", "conda-env"))
    assert set(libs) == {"pkg:conda/numpy@1.26"}


def _sri(data: bytes) -> tuple[str, str]:
    digest = hashlib.sha512(data).digest()
    return "sha512-" + base64.b64encode(digest).decode(), digest.hex()


def test_package_lock_v3(tmp_path: Path) -> None:
    sri_a, hex_a = _sri(b"a")
    lock = {
        "name": "web",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {
                "name": "web",
                "version": "1.0.0",
                "dependencies": {"a": "^1.0.0", "@scope/b": "^2.0.0"},
                "devDependencies": {"jest": "^29"},
            },
            "node_modules/a": {
                "version": "1.0.0",
                "integrity": sri_a,
                "dependencies": {"c": "^2", "@scope/b": "^2"},
            },
            "node_modules/a/node_modules/c": {"version": "2.0.0"},
            "node_modules/c": {"version": "1.0.0"},
            "node_modules/@scope/b": {"version": "2.1.0", "dependencies": {"c": "^1"}},
            "node_modules/jest": {"version": "29.7.0", "dev": True, "dependencies": {"c": "1"}},
            "node_modules/alias": {"name": "real-pkg", "version": "3.0.0", "dev": True},
            "node_modules/ws-link": {"resolved": "packages/ws", "link": True},
            "packages/ws": {"name": "ws", "version": "0.0.1"},
        },
    }
    path = _write(tmp_path, "package-lock.json", json.dumps(lock))
    libs = _by_purl(read_lockfile(path, "package-lock.json", "lockfile-npm"))
    assert set(libs) == {
        "pkg:npm/a@1.0.0",
        "pkg:npm/c@2.0.0",
        "pkg:npm/c@1.0.0",
        "pkg:npm/%40scope/b@2.1.0",
        "pkg:npm/jest@29.7.0",
        "pkg:npm/real-pkg@3.0.0",
    }
    a = libs["pkg:npm/a@1.0.0"]
    assert a.direct and a.scope == "required" and a.ecosystem == "npm"
    assert a.hashes == (Hash("SHA-512", hex_a, "lockfile"),)
    # Node resolution: a's own nested c@2 wins over the top-level c@1.
    assert a.depends_on == ("pkg:npm/c@2.0.0", "pkg:npm/%40scope/b@2.1.0")
    assert libs["pkg:npm/%40scope/b@2.1.0"].depends_on == ("pkg:npm/c@1.0.0",)
    assert libs["pkg:npm/%40scope/b@2.1.0"].direct
    assert not libs["pkg:npm/c@1.0.0"].direct
    assert libs["pkg:npm/jest@29.7.0"].direct and libs["pkg:npm/jest@29.7.0"].scope == "optional"
    assert not libs["pkg:npm/real-pkg@3.0.0"].direct


PACKAGE_LOCK_V1 = {
    "name": "old-web",
    "version": "1.0.0",
    "lockfileVersion": 1,
    "requires": True,
    "dependencies": {
        "a": {
            "version": "1.0.0",
            "integrity": "sha1-" + base64.b64encode(hashlib.sha1(b"a").digest()).decode(),
            "requires": {"c": "^2.0.0", "@scope/b": "^2"},
            "dependencies": {"c": {"version": "2.0.0"}},
        },
        "c": {"version": "1.0.0"},
        "@scope/b": {"version": "2.1.0", "requires": {"c": "^1"}},
        "jest": {"version": "29.7.0", "dev": True},
        "aliased": {"version": "npm:real-pkg@3.0.0"},
        "from-git": {"version": "git+https://github.com/o/r.git#abc"},
    },
}


def test_package_lock_v1_with_package_json(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "package.json",
        json.dumps(
            {"dependencies": {"a": "^1", "@scope/b": "^2"}, "devDependencies": {"jest": "1"}}
        ),
    )
    path = _write(tmp_path, "package-lock.json", json.dumps(PACKAGE_LOCK_V1))
    libs = _by_purl(read_lockfile(path, "package-lock.json", "lockfile-npm"))
    assert set(libs) == {
        "pkg:npm/a@1.0.0",
        "pkg:npm/c@2.0.0",
        "pkg:npm/c@1.0.0",
        "pkg:npm/%40scope/b@2.1.0",
        "pkg:npm/jest@29.7.0",
        "pkg:npm/real-pkg@3.0.0",
        "pkg:npm/from-git",
    }
    a = libs["pkg:npm/a@1.0.0"]
    assert a.direct and a.depends_on == ("pkg:npm/c@2.0.0", "pkg:npm/%40scope/b@2.1.0")
    assert a.hashes == (Hash("SHA-1", hashlib.sha1(b"a").hexdigest(), "lockfile"),)
    assert libs["pkg:npm/jest@29.7.0"].direct and libs["pkg:npm/jest@29.7.0"].scope == "optional"
    assert not libs["pkg:npm/c@1.0.0"].direct and not libs["pkg:npm/from-git"].direct


def test_package_lock_v1_without_package_json_infers_roots(tmp_path: Path) -> None:
    path = _write(tmp_path, "package-lock.json", json.dumps(PACKAGE_LOCK_V1))
    libs = _by_purl(read_lockfile(path, "package-lock.json", "lockfile-npm"))
    direct = {p for p, lib in libs.items() if lib.direct}
    assert direct == {
        "pkg:npm/a@1.0.0",
        "pkg:npm/jest@29.7.0",
        "pkg:npm/real-pkg@3.0.0",
        "pkg:npm/from-git",
    }


def test_package_lock_without_either_map_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "package-lock.json", '{"lockfileVersion": 2}')
    with pytest.raises(FormatError, match="neither"):
        read_lockfile(path, "package-lock.json", "lockfile-npm")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("text", ["", "\x00\x01garbage", "[1, 2]", '{"package": 3}', "a = [\n"])
def test_bad_input_raises_only_format_error(tmp_path: Path, fmt: str, text: str) -> None:
    path = _write(tmp_path, "lock", text)
    with pytest.raises(FormatError):
        read_lockfile(path, "lock", fmt)


def test_wrong_shapes_inside_entries_are_problems_or_format_errors(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "poetry.lock", '[[package]]\nversion = "1"\n\n[[package]]\nname = "x"\n'
    )
    result = read_lockfile(path, "poetry.lock", "lockfile-poetry")
    assert [lib.purl for lib in result.libraries] == ["pkg:pypi/x"]
    assert len(result.problems) == 1
    weird = {"packages": {"node_modules/a": {"version": 1, "dependencies": ["x"]}}}
    path = _write(tmp_path, "package-lock.json", json.dumps(weird))
    result = read_lockfile(path, "package-lock.json", "lockfile-npm")
    assert [lib.purl for lib in result.libraries] == ["pkg:npm/a"]


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        read_lockfile(_write(tmp_path, "x", "{}"), "x", "lockfile-cargo")


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=400) | st.text(max_size=400).map(str.encode),
    fmt=st.sampled_from(FORMATS),
)
def test_arbitrary_bytes_give_a_result_or_a_format_error(data: bytes, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lock"
        path.write_bytes(data)
        with contextlib.suppress(FormatError):
            read_lockfile(path, "lock", fmt)


_structured = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "package",
                    "packages",
                    "name",
                    "version",
                    "dependencies",
                    "source",
                    "files",
                    "hash",
                    "default",
                    "develop",
                    "",
                    "node_modules/a",
                    "node_modules/a/node_modules/b",
                    "pip",
                    "editable",
                    "integrity",
                    "dev",
                    "groups",
                    "wheels",
                    "sdist",
                    "git",
                    "hashes",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(value=_structured, fmt=st.sampled_from(["lockfile-pipfile", "lockfile-npm", "conda-env"]))
def test_odd_json_shapes_give_a_result_or_a_format_error(value: object, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lock"
        path.write_text(json.dumps(value), encoding="utf-8")
        try:
            result = read_lockfile(path, "lock", fmt)
        except FormatError:
            return
        assert all(lib.purl.startswith("pkg:") for lib in result.libraries)
