"""Output safety: atomic writes, no secrets in the SBOM or on stderr, repo-relative paths only,
a 200,000-file tree, and files that change or vanish while they are scanned."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import targets
from tests.helpers import EXAMPLE, assert_valid_cyclonedx, components_by_path, props
from unified_supply_chain.cli import main


def _run(root: Path, out: Path, *extra: str) -> tuple[int, str]:
    """`usc sbom` in-process (so monkeypatches apply): exit code and stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(["sbom", str(root), "-o", str(out), "--no-cache", "-q", *extra])
        except SystemExit as exc:  # the CLI exits for errors it reports
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


def _tiny_repo(root: Path) -> Path:
    targets.write_tree(root, {"data/d.csv": b"a,b\n1,2\n", "params.yaml": b"lr: 0.1\n"})
    return root


# --- atomic writes --------------------------------------------------------------------------


def test_failed_rename_keeps_the_old_sbom_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tiny_repo(tmp_path / "repo")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "sbom.cdx.json"
    out.write_text("previous SBOM\n")

    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    code, stderr = _run(root, out)
    assert code != 0
    assert "No space left on device" in stderr
    assert out.read_text() == "previous SBOM\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["sbom.cdx.json"]


def test_failed_write_keeps_the_old_sbom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.bom import write

    out = tmp_path / "sbom.cdx.json"
    out.write_text("previous SBOM\n")

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(write.os, "fsync", failing_fsync)
    with pytest.raises(write.OutputError, match="Input/output error"):
        write.write_document({"bomFormat": "CycloneDX"}, out)
    assert out.read_text() == "previous SBOM\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sbom.cdx.json"]


def test_a_run_that_fails_before_writing_never_touches_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unified_supply_chain.bom import validate
    from unified_supply_chain.errors import ValidationError

    root = _tiny_repo(tmp_path / "repo")
    out = tmp_path / "sbom.cdx.json"
    out.write_text("previous SBOM\n")

    def invalid(document: dict[str, Any], spec_version: str) -> None:
        raise ValidationError("schema says no")

    monkeypatch.setattr(validate, "validate_document", invalid)
    code, _ = _run(root, out)
    assert code != 0
    assert out.read_text() == "previous SBOM\n"
    assert [p.name for p in tmp_path.iterdir()] == ["repo", "sbom.cdx.json"]


def test_successful_write_replaces_atomically(tmp_path: Path) -> None:
    root = _tiny_repo(tmp_path / "repo")
    out = tmp_path / "sbom.cdx.json"
    out.write_text("previous SBOM\n")
    old_inode = out.stat().st_ino
    code, _ = _run(root, out)
    assert code == 0
    assert json.loads(out.read_text())["bomFormat"] == "CycloneDX"
    assert out.stat().st_ino != old_inode  # a new file renamed into place, not rewritten
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir() if p.name != "repo"] == ["sbom.cdx.json"]


# --- no secrets -----------------------------------------------------------------------------

#: One canary per place a credential can hide; each must never reach the SBOM or stderr.
SECRET_SOURCES: dict[str, dict[str, str]] = {
    "dataset-descriptor": {
        "data/dataset.yaml": (
            "datasets:\n"
            "  - name: a\n    url: https://alice:CANARY-DESC-USERINFO@data.example.com/a.csv\n"
            "  - name: b\n    url: https://data.example.com/b.csv?token=CANARY-DESC-QUERY&x=1\n"
            "  - s3://bucket/c.parquet?X-Amz-Signature=CANARY-DESC-AMZ\n"
        ),
    },
    "yolo-dataset": {
        "data/coco.yaml": (
            "train: images/train\nval: images/val\nnames: [a]\n"
            "download: https://ivy:CANARY-YOLO-USERINFO@assets.example.com/c.zip?token=CANARY-YOLO-Q\n"
        ),
    },
    "kedro-catalog": {
        "conf/base/catalog.yml": (
            "raw:\n  type: pandas.CSVDataset\n"
            "  filepath: s3://jim:CANARY-KEDRO-USERINFO@bucket/raw.csv\n"
            "  credentials: CANARY-KEDRO-CREDENTIALS-NAME\n"
            "  fs_args:\n    open_args_load:\n      password: CANARY-KEDRO-FS-ARGS\n"
        ),
        "conf/local/credentials.yml": (
            "CANARY-KEDRO-CREDENTIALS-NAME:\n  key: CANARY-KEDRO-CREDENTIALS-VALUE\n"
        ),
    },
    "requirements": {
        "requirements.txt": (
            "--index-url https://bob:CANARY-REQ-INDEX@pypi.example.com/simple\n"
            "git+https://deploy:CANARY-REQ-VCS@github.com/org/pkg.git@v1#egg=pkg\n"
            "other @ https://carol:CANARY-REQ-URL@files.example.com/other-1.0.tar.gz\n"
            "broken @ @@ https://dave:CANARY-REQ-BAD@files.example.com/x.whl\n"
        ),
    },
    "pyproject": {
        "pyproject.toml": (
            '[project]\nname = "app"\ndependencies = [\n'
            '  "pkg @ git+https://erin:CANARY-PYPROJECT@github.com/o/p.git",\n]\n'
            "[tool.poetry.dependencies]\n"
            'x = {git = "https://frank:CANARY-POETRY-DEP@github.com/o/x.git"}\n'
        ),
    },
    "lockfiles": {
        "sub1/poetry.lock": (
            '[[package]]\nname = "six"\nversion = "1.16.0"\n[package.source]\n'
            'type = "legacy"\nurl = "https://gina:CANARY-POETRY-LOCK@mirror.example.com/simple"\n'
            'reference = "m"\n'
        ),
        "sub2/Pipfile.lock": json.dumps(
            {
                "_meta": {
                    "sources": [{"url": "https://hank:CANARY-PIPFILE-SRC@pypi.example.com/s"}]
                },
                "default": {"pkg": {"git": "https://ivan:CANARY-PIPFILE-GIT@github.com/o/p.git"}},
            }
        ),
        "sub3/environment.yml": (
            "channels:\n  - https://judy:CANARY-CONDA-CHANNEL@conda.example.com/c\n"
            "dependencies:\n  - numpy=1.26\n  - pip:\n"
            "    - git+https://kim:CANARY-CONDA-PIP@github.com/o/p.git\n"
            "    - pkg @ git+https://lee:CANARY-CONDA-PIP2@github.com/o/q.git\n"
        ),
        "sub4/uv.lock": (
            'version = 1\n[[package]]\nname = "p"\nversion = "1.0"\n'
            'source = { git = "https://mo:CANARY-UV-GIT@github.com/o/p.git?rev=abc#abc" }\n'
        ),
        "sub5/package-lock.json": json.dumps(
            {
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "app"},
                    "node_modules/x": {
                        "version": "1.0.0",
                        "resolved": "https://ned:CANARY-NPM@registry.example.com/x/-/x-1.0.0.tgz",
                    },
                },
            }
        ),
    },
    "dvc": {
        "dvc.yaml": (
            "stages:\n  get:\n    cmd: curl -o data/raw.csv https://example.com/raw.csv\n"
            "    deps:\n      - https://olga:CANARY-DVC-DEP@data.example.com/raw.csv\n"
            "    outs:\n      - data/raw.csv\n"
        ),
        "data/imported.csv.dvc": (
            "deps:\n- path: data/imported.csv\n  repo:\n"
            "    url: https://pat:CANARY-DVC-REPO@git.example.com/repo.git\n"
            "outs:\n- md5: 44444444444444444444444444444444\n  size: 10\n  path: imported.csv\n"
        ),
        "data/remote.csv.dvc": (
            "deps:\n- path: s3://bucket/remote.csv?X-Amz-Credential=CANARY-DVC-S3\n"
            "outs:\n- md5: 55555555555555555555555555555555\n  size: 10\n  path: remote.csv\n"
        ),
        ".dvc/config": (
            "[core]\n    remote = r\n['remote \"r\"']\n"
            "    url = https://quinn:CANARY-DVC-REMOTE@dvc.example.com/store\n"
        ),
    },
    "mlflow": {
        "mlruns/1/meta.yaml": (
            "experiment_id: '1'\nartifact_location: s3://rita:CANARY-MLFLOW-EXP@bucket/1\nname: e\n"
        ),
        "mlruns/1/0123456789abcdef0123456789abcdef/meta.yaml": (
            "run_id: 0123456789abcdef0123456789abcdef\nexperiment_id: '1'\n"
            "artifact_uri: https://sam:CANARY-MLFLOW-RUN@mlflow.example.com/a\n"
            "lifecycle_stage: active\nstart_time: 1\n"
        ),
        "mlruns/1/0123456789abcdef0123456789abcdef/tags/mlflow.source.name": (
            "https://tom:CANARY-MLFLOW-TAG@github.com/o/r.git"
        ),
    },
    "hf-dataset-card": {
        "hfds/README.md": (
            "---\nlicense: mit\nconfigs:\n- config_name: default\n  data_files:\n"
            "  - split: train\n    path: https://yara:CANARY-HF-CARD@cdn.example.com/t.parquet\n"
            "  - split: test\n    path: data/test.csv\n---\n"
        ),
        "hfds/data/test.csv": "a,b\n1,2\n",
    },
    "dataset-builder-script": {
        "leaky/leaky.py": (
            "import datasets\n_URL = 'https://zed:CANARY-BUILDER@files.example.com/d.zip'\n"
            "class Leaky(datasets.GeneratorBasedBuilder):\n    pass\n"
        ),
    },
    "model-card": {
        "models/README.md": (
            "---\nlicense: mit\ndatasets:\n  - https://uma:CANARY-CARD@hub.example.com/ds\n---\n"
        ),
        "models/m.safetensors": "\x02\x00\x00\x00\x00\x00\x00\x00{}",
    },
}

ENV_CANARIES = {
    "GITHUB_TOKEN": "CANARY-ENV-GITHUB-TOKEN",
    "AWS_SECRET_ACCESS_KEY": "CANARY-ENV-AWS-SECRET",
    "AWS_ACCESS_KEY_ID": "CANARY-ENV-AWS-KEY-ID",
    "ACTIONS_RUNTIME_TOKEN": "CANARY-ENV-ACTIONS-RUNTIME",
    "HF_TOKEN": "CANARY-ENV-HF",
    "PYPI_PASSWORD": "CANARY-ENV-PYPI",
    # Variables the tool records (run context): a URL with credentials is redacted.
    "GITHUB_SERVER_URL": "https://vic:CANARY-ENV-SERVER-URL@github.example.com",
    "GITHUB_REPOSITORY": "org/repo",
}


def _merge_input(path: Path) -> Path:
    doc = targets.merge_input_document()
    doc["components"][0]["externalReferences"] = [
        {"type": "vcs", "url": "https://walt:CANARY-MERGE-REF@github.com/o/p.git"},
        {"type": "distribution", "url": "https://files.example.com/p.whl?token=CANARY-MERGE-Q"},
    ]
    doc["components"][1]["purl"] = (
        "pkg:npm/left-pad@1.3.0?download_url=https://xena:CANARY-MERGE-PURL@npm.example.com/x"
    )
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="module")
def secrets_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    base = tmp_path_factory.mktemp("secrets")
    root = base / "repo"
    for tree in SECRET_SOURCES.values():
        targets.write_tree(root, {k: v.encode() for k, v in tree.items()})
    merge = _merge_input(base / "other.cdx.json")
    out = base / "sbom.cdx.json"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in ENV_CANARIES.items():
            mp.setenv(name, value)
        mp.setenv("GITHUB_ACTIONS", "true")
        code, stderr = _run(root, out, "--merge", str(merge))
    assert code == 0, stderr
    text = out.read_text(encoding="utf-8")
    assert_valid_cyclonedx(json.loads(text))
    return text, stderr


def _canaries(source: str) -> list[str]:
    import re

    if source == "env":
        return list(v for k, v in ENV_CANARIES.items() if "CANARY" in v)
    if source == "merge":
        return ["CANARY-MERGE-REF", "CANARY-MERGE-Q", "CANARY-MERGE-PURL"]
    return sorted(set(re.findall(r"CANARY-[A-Z0-9-]+", json.dumps(SECRET_SOURCES[source]))))


@pytest.mark.parametrize("source", [*SECRET_SOURCES, "merge", "env"])
def test_no_secret_reaches_the_sbom_or_stderr(secrets_run: tuple[str, str], source: str) -> None:
    document, stderr = secrets_run
    canaries = _canaries(source)
    assert canaries
    leaked = {c: where for c in canaries for where, text in (("sbom", document), ("stderr", stderr))
              if c in text}  # fmt: skip
    assert not leaked, leaked


def test_redacted_urls_keep_their_host(secrets_run: tuple[str, str]) -> None:
    document, _ = secrets_run
    # Redaction removes the credential, not the evidence of where the data lives.
    assert "https://data.example.com/a.csv" in document
    assert "https://cdn.example.com/t.parquet" in document  # a dataset card's data_files URL
    assert "https://files.example.com/d.zip" in document  # a builder script's _URL
    assert "token=REDACTED" in document


# --- repo-relative paths --------------------------------------------------------------------


def _path_values(node: Any, out: list[tuple[str, str]], where: str = "") -> None:
    if isinstance(node, dict):
        if node.get("type") == "file" and isinstance(node.get("name"), str):
            out.append((f"{where}/file.name", node["name"]))
        if isinstance(node.get("name"), str) and isinstance(node.get("value"), str):
            name = node["name"]
            if name == "usc:path" or name.endswith((":path", ":file", ":main-file")):
                out.append((name, node["value"]))
        if isinstance(node.get("location"), str):
            out.append((f"{where}/location", node["location"]))
        for key, value in node.items():
            _path_values(value, out, f"{where}/{key}")
    elif isinstance(node, list):
        for item in node:
            _path_values(item, out, where)


@pytest.fixture(scope="module")
def paths_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("paths")
    root = base / "repo"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.safetensors").write_bytes(b"\x02" + b"\0" * 7 + b"{}")
    extra = {
        "dvc.yaml": (
            "stages:\n  escape:\n    cmd: cat ../../etc/passwd\n    deps:\n"
            "      - ../../outside.txt\n      - /abs/in.csv\n    outs:\n      - /abs/out.bin\n"
            "      - ../escaped.pkl\n"
        ),
        "conf/config.yaml": "defaults:\n  - model: ../../../outside/x\ntrain:\n  lr: 1\n",
        "more/requirements.txt": "-r ../../outside/requirements.txt\n-r /etc/requirements.txt\n",
        "training-record.json": json.dumps(
            {
                "schema": "unified-supply-chain/training-record@1",
                "name": "t",
                "outputs": [{"path": "/abs/model.pkl", "sha256": "ab" * 32}],
                "inputs": [{"path": "../outside/data.csv"}],
            }
        ),
        "models/MLmodel": (
            "artifact_path: model\nflavors:\n  sklearn: {pickled_model: ../../x.pkl}\n"
        ),
    }
    targets.write_tree(root, {k: v.encode() for k, v in extra.items()})
    (root / "link-out.safetensors").symlink_to(outside / "secret.safetensors")
    (root / "link-dir").symlink_to(outside)
    out = base / "sbom.cdx.json"
    code, stderr = _run(root, out)
    assert code == 0, stderr
    return root, out.read_text(encoding="utf-8")


def test_every_path_in_the_sbom_is_repo_relative(paths_run: tuple[Path, str]) -> None:
    _, text = paths_run
    document = json.loads(text)
    found: list[tuple[str, str]] = []
    _path_values(document, found)
    assert len(found) >= 10  # the example project's models, datasets, params, evidence
    bad = [
        (where, value)
        for where, value in found
        if value.startswith(("/", "\\")) or ".." in value.replace("\\", "/").split("/")
    ]
    assert not bad, bad


def test_no_absolute_path_of_the_checkout_anywhere(paths_run: tuple[Path, str]) -> None:
    root, text = paths_run
    assert str(root) not in text
    assert str(root.parent) not in text
    assert "secret.safetensors" not in text


# --- files changing or vanishing during the scan --------------------------------------------


@contextlib.contextmanager
def _appender(path: Path, limit: int = 64 * 1024 * 1024) -> Iterator[threading.Event]:
    """A background writer appending to `path` (about 10 MB/s, at most `limit` bytes) until
    the block ends."""
    stop = threading.Event()

    def run() -> None:
        written = 0
        with path.open("ab") as fh:
            while not stop.is_set() and written < limit:
                fh.write(b"9,9\n" * 16384)
                fh.flush()
                written += 65536
                time.sleep(0.005)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join()


def _prefix_sha256(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        left = size
        while left:
            chunk = fh.read(min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def test_file_growing_during_the_scan_is_consistent_or_reported(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    data = root / "data" / "growing.csv"
    data.parent.mkdir(parents=True)
    with data.open("wb") as fh:
        fh.write(b"a,b\n" + b"1,2\n" * (16 * 1024 * 1024))
    out = tmp_path / "sbom.cdx.json"
    with _appender(data):
        code, stderr = _run(root, out)
    assert code == 0, stderr
    document = json.loads(out.read_text())
    assert_valid_cyclonedx(document)
    comp = components_by_path(document)["data/growing.csv"]
    digest = comp["hashes"][0]["content"]
    size = int(props(comp, "usc:size")[0])
    final = data.stat().st_size
    assert 64 * 1024 * 1024 <= size <= final
    # Only appended to: the digest recorded is that of the first `size` bytes (the bytes read),
    # whether or not the writer was caught in the act; when it was, the change is reported.
    assert _prefix_sha256(data, size) == digest
    changed = [w for w in props(comp, "usc:warning") if "changed while it was being hashed" in w]
    assert changed or size == final or "data/growing.csv: changed" not in stderr
    assert len(changed) == stderr.count("data/growing.csv: changed while it was being hashed")


def test_file_replaced_while_hashed_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unified_supply_chain.hashing import digests as hashing

    root = tmp_path / "repo"
    model = root / "m.safetensors"
    targets.write_tree(root, {"m.safetensors": b"\x02" + b"\0" * 7 + b"{}" + b"\0" * 100})
    real = hashing._digest_fd

    def digest_then_replace(fd: int, *args: Any, **kwargs: Any) -> Any:
        result = real(fd, *args, **kwargs)
        replacement = root / "replacement.tmp"
        replacement.write_bytes(b"\x02" + b"\0" * 7 + b"{}" + b"\1" * 100)  # same size
        os.replace(replacement, model)  # renamed over the path while we held the old inode
        return result

    monkeypatch.setattr(hashing, "_digest_fd", digest_then_replace)
    out = tmp_path / "sbom.cdx.json"
    code, stderr = _run(root, out, "--jobs", "1")
    assert code == 0, stderr
    comp = components_by_path(json.loads(out.read_text()))["m.safetensors"]
    assert any("changed while it was being hashed" in w for w in props(comp, "usc:warning"))
    assert "m.safetensors: changed while it was being hashed" in stderr


def test_file_vanishing_after_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.inspection import scan

    root = _tiny_repo(tmp_path / "repo")
    real_walk = scan.discover

    def walk_then_delete(*args: Any, **kwargs: Any) -> Any:
        result = real_walk(*args, **kwargs)
        (root / "data" / "d.csv").unlink()  # gone before it is sniffed, read and hashed
        return result

    monkeypatch.setattr(scan, "discover", walk_then_delete)
    out = tmp_path / "sbom.cdx.json"
    code, stderr = _run(root, out)
    assert code == 0, stderr
    document = json.loads(out.read_text())
    assert_valid_cyclonedx(document)
    lines = [ln for ln in stderr.splitlines() if ln.startswith("usc: warning: data/d.csv: ")]
    assert len(lines) == 1, stderr
    assert "No such file or directory" in lines[0]


# --- scale ----------------------------------------------------------------------------------

TREE_FILES = 200_000


def test_tree_of_200000_files(tmp_path: Path) -> None:
    """The walk finishes and the SBOM, with every dataset, is written for a tree of 200,000 files
    (run once; its speed is benchmarks/discovery.py's and benchmarks/run.py's business).

    The tree lives on tmpfs when there is one (creating 200,000 files on a shared disk takes
    longer than scanning them) and is removed at the end, so no later pytest session has to.
    """
    base = Path(tempfile.mkdtemp(prefix="usc-scale-", dir=targets.FAST_TMP or tmp_path))
    try:
        _scan_big_tree(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _scan_big_tree(base: Path) -> None:
    root = base / "repo"
    started = time.perf_counter()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for d in range(200):
        directory = root / f"d{d:03}" / "sub"
        directory.mkdir(parents=True)
        prefix = os.fsencode(directory) + b"/"
        for i in range(TREE_FILES // 200):
            # Every 1000th file is a small dataset, so some files are classified and hashed.
            name = b"f%05d.csv" % i if i % 1000 == 0 else b"f%05d.txt" % i
            fd = os.open(prefix + name, flags, 0o644)
            os.write(fd, b"a,b\n1,2\n")
            os.close(fd)
    created = time.perf_counter() - started
    out = base / "sbom.cdx.json"
    started = time.perf_counter()
    code, stderr = _run(root, out)
    elapsed = time.perf_counter() - started
    assert code == 0, stderr
    document = json.loads(out.read_text())
    datasets = [c for c in document["components"] if c["type"] == "data"]
    assert len(datasets) == 200 * (TREE_FILES // 200 // 1000)
    # How fast is measured by benchmarks/ (no timed tests: load would make this flaky).
    print(f"200,000-file tree: created in {created:.1f} s, usc sbom in {elapsed:.1f} s")


def test_warnings_per_file_are_bounded(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    targets.write_tree(root, {"environment.yml": b"dependencies:\n" + b"- [x]\n" * 2000})
    code, stderr = _run(root, tmp_path / "sbom.cdx.json")
    assert code == 0, stderr[-2000:]
    lines = [ln for ln in stderr.splitlines() if ln.startswith("usc: warning: environment.yml:")]
    assert 1 <= len(lines) <= 100, len(lines)
