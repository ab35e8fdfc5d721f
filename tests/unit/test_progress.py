"""Progress: silent on short runs and with --quiet, a live line on a terminal, plain lines in CI."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from unified_supply_chain import cli, progress
from unified_supply_chain.hashing import digests as hashing
from unified_supply_chain.hashing.digests import HashResult, hash_files
from unified_supply_chain.progress import GRACE, PLAIN_INTERVAL, Progress


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _res(size: int, cached: bool = False) -> HashResult:
    return HashResult("f", "0" * 64, size, cached=cached)


def test_short_run_shows_nothing() -> None:
    out, clock = io.StringIO(), _Clock()
    p = Progress(out, clock=clock)
    for _ in range(100):
        p.file_done(_res(10))
    clock.now += GRACE / 2
    p.file_done(_res(10))
    p.close()
    assert out.getvalue() == ""
    assert (p.files, p.bytes) == (101, 1010)


def test_plain_lines_at_the_interval_in_ci_logs() -> None:
    out, clock = io.StringIO(), _Clock()
    p = Progress(out, clock=clock)
    assert not p.tty and p.interval == PLAIN_INTERVAL
    clock.now += GRACE
    p.file_done(_res(5_000_000))
    p.file_done(_res(7, cached=True))  # same instant: no second line
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usc: hashed 1 files (0 cached), 5.0 MB at ")
    clock.now += PLAIN_INTERVAL / 2
    p.file_done(_res(1_000_000))
    assert len(out.getvalue().splitlines()) == 1
    clock.now += PLAIN_INTERVAL
    p.file_done(_res(1_000_000))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("usc: hashed 4 files (1 cached), 7.0 MB at ")
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    p.close()
    assert len(out.getvalue().splitlines()) == 3  # final counts once something was shown


def test_live_line_on_a_terminal() -> None:
    out, clock = _Tty(), _Clock()
    p = Progress(out, clock=clock)
    assert p.tty and p.interval < 1
    clock.now += GRACE
    p.file_done(_res(2_000_000))
    clock.now += 1
    p.file_done(_res(2_000_000))
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 2 and "\n" not in text
    assert "2 files" in text and "4.0 MB" in text and "MB/s" in text
    p.close()
    assert out.getvalue().endswith("\n")
    p.close()  # idempotent
    assert out.getvalue().count("\n") == 1


def test_partial_bytes_move_the_line_during_one_large_file() -> None:
    out, clock = io.StringIO(), _Clock()
    p = Progress(out, clock=clock, interval=1.0)
    clock.now += GRACE
    p.file_done.partial(300_000_000)
    clock.now += 1
    p.file_done.partial(300_000_000)
    assert "0 files (0 cached), 600.0 MB" in out.getvalue()
    p.file_done(_res(600_000_000))  # the finished file does not count twice
    assert p.bytes == 600_000_000


def test_broken_stream_does_not_stop_the_run() -> None:
    out, clock = io.StringIO(), _Clock()
    out.close()
    p = Progress(out, clock=clock)
    clock.now += GRACE
    p.file_done(_res(1))
    p.close()
    assert p.files == 1


def test_hash_files_feeds_partial_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "PROGRESS_STEP", hashing.CHUNK)
    (tmp_path / "big").write_bytes(os.urandom(3 * hashing.CHUNK))
    out, clock = io.StringIO(), _Clock()
    p = Progress(out, clock=clock)
    hash_files(tmp_path, ["big"], on_done=p.file_done)
    assert p.bytes == 3 * hashing.CHUNK and p._partial_bytes == 3 * hashing.CHUNK
    assert p.files == 1


def _repo(root: Path) -> None:
    header = b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    (root / "models").mkdir(parents=True)
    (root / "models" / "net.safetensors").write_bytes(
        len(header).to_bytes(8, "little") + header + b"\x00" * 8
    )


def test_cli_shows_progress_lines_on_long_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _repo(tmp_path / "repo")
    monkeypatch.setattr(progress, "GRACE", 0.0)
    monkeypatch.setattr(progress, "PLAIN_INTERVAL", 0.0)
    code = cli.main(["sbom", str(tmp_path / "repo"), "-o", str(tmp_path / "s.json"), "--no-cache"])
    assert code == 0
    assert "usc: hashed 1 files (0 cached)" in capsys.readouterr().err


def test_cli_quiet_is_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _repo(tmp_path / "repo")
    monkeypatch.setattr(progress, "GRACE", 0.0)
    monkeypatch.setattr(progress, "PLAIN_INTERVAL", 0.0)
    code = cli.main(
        ["sbom", str(tmp_path / "repo"), "-o", str(tmp_path / "s.json"), "--no-cache", "-q"]
    )
    captured = capsys.readouterr()
    assert code == 0 and (tmp_path / "s.json").exists()
    assert captured.err == ""
    assert captured.out == ""
