"""Dataset readers: exact rows/columns from real files, bounded failures on hostile ones."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from tests.helpers import write_file as _write
from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats.arrow import read_arrow
from unified_supply_chain.formats.parquet import read_parquet
from unified_supply_chain.formats.tabular import read_csv, read_jsonl
from unified_supply_chain.redact import redact_url
from unified_supply_chain.sources.cards.descriptors import (
    DatasetDescriptor,
    read_dataset_descriptor,
)


def _table() -> pa.Table:
    return pa.table(
        {
            "id": list(range(7)),
            "label": ["a", "b", "c", "d", "e", "f", "g"],
            "point": [{"x": float(i), "y": float(-i)} for i in range(7)],
            "tags": [[i] for i in range(7)],
        }
    )


# --- CSV / TSV ---


def test_csv_counts_rows_and_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "sepal length,sepal width,species\n1,2,a\n3,4,b\n5,6,c\n")
    info = read_csv(path)
    assert (info.format, info.rows, info.columns) == ("csv", 3, 3)
    assert info.properties == {
        "delimiter": ",",
        "columns": "3",
        "column_names": "sepal length,sepal width,species",
    }


def test_csv_without_final_newline_and_crlf(tmp_path: Path) -> None:
    assert read_csv(_write(tmp_path / "a.csv", "a,b\n1,2\n3,4")).rows == 2
    assert read_csv(_write(tmp_path / "b.csv", "a,b\r\n1,2\r\n3,4\r\n")).rows == 2
    assert read_csv(_write(tmp_path / "c.csv", "a,b\n")).rows == 0
    empty = read_csv(_write(tmp_path / "e.csv", ""))
    assert (empty.rows, empty.columns) == (0, None)


def test_csv_with_quoted_newlines_counts_records(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", 'id,text\n1,"line one\nline two"\n2,"plain"\n3,x\n')
    info = read_csv(path)
    assert (info.rows, info.columns) == (3, 2)
    assert "rows_counted" not in info.properties


def test_large_quoted_csv_falls_back_to_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_CSV_RECORD_COUNT_BYTES", 10)
    path = _write(tmp_path / "q.csv", 'id,text\n1,"a\nb"\n2,c\n')
    info = read_csv(path)
    assert info.rows == 3
    assert info.properties["rows_counted"] == "physical-lines"


def test_csv_over_rowcount_cap_has_no_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ROWCOUNT_BYTES", 5)
    info = read_csv(_write(tmp_path / "big.csv", "a,b\n1,2\n"))
    assert (info.rows, info.columns) == (None, 2)


def test_tsv_and_column_name_bounds(tmp_path: Path) -> None:
    header = "\t".join(f"col{i}" for i in range(200))
    path = _write(tmp_path / "d.tsv", header + "\n" + "\t".join("1" * 200) + "\n")
    info = read_csv(path, delimiter="\t")
    assert (info.format, info.rows, info.columns) == ("tsv", 1, 200)
    assert info.properties["column_names"] == ",".join(f"col{i}" for i in range(50))
    assert info.properties["delimiter"] == "\t"


def test_csv_hostile(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="binary"):
        read_csv(_write(tmp_path / "bin.csv", bytes(range(256)) * 100))
    with pytest.raises(LimitExceeded):
        read_csv(_write(tmp_path / "long.csv", b"a" * (limits.MAX_DATASET_HEADER_BYTES + 10)))
    latin = read_csv(_write(tmp_path / "latin.csv", "caf\xe9,b\n1,2\n".encode("latin-1")))
    assert (latin.rows, latin.columns) == (1, 2)
    with pytest.raises(FormatError):
        read_csv(tmp_path / "missing.csv")


# --- JSON Lines ---


def test_jsonl_rows_and_first_object_keys(tmp_path: Path) -> None:
    lines = [json.dumps({"text": f"t{i}", "label": i % 2}) for i in range(5)]
    path = _write(tmp_path / "d.jsonl", "\n".join(lines[:3]) + "\n\n  \n" + "\n".join(lines[3:]))
    info = read_jsonl(path)
    assert (info.format, info.rows, info.columns) == ("jsonl", 5, 2)
    assert info.properties["column_names"] == "text,label"
    scalars = read_jsonl(_write(tmp_path / "s.jsonl", "1\n2\n"))
    assert (scalars.rows, scalars.columns) == (2, None)
    assert read_jsonl(_write(tmp_path / "e.jsonl", "\n\n")).rows == 0


def test_jsonl_hostile(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        read_jsonl(_write(tmp_path / "bin.jsonl", bytes(range(256)) * 10))
    with pytest.raises(FormatError, match="not JSON"):
        read_jsonl(_write(tmp_path / "bad.jsonl", "{not json}\n"))
    with pytest.raises(LimitExceeded):
        read_jsonl(_write(tmp_path / "deep.jsonl", "[" * 10_000 + "]" * 10_000 + "\n"))
    with pytest.raises(FormatError, match="UTF-8"):
        read_jsonl(_write(tmp_path / "latin.jsonl", '{"caf\xe9": 1}\n'.encode("latin-1")))


# --- Parquet ---


def test_parquet_footer_written_by_pyarrow(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(_table(), path, row_group_size=3)
    info = read_parquet(path)
    assert (info.format, info.rows, info.columns) == ("parquet", 7, 5)
    assert info.properties["column_names"] == "id,label,point.x,point.y,tags.list.element"
    assert info.properties["row_groups"] == "3"
    assert info.properties["parquet_version"] == "2"
    assert info.properties["created_by"].startswith("parquet-cpp-arrow version")


def _compact_field(fid_delta: int, ftype: int) -> bytes:
    return bytes([(fid_delta << 4) | ftype])


def _zigzag_varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _hand_built_parquet(num_rows: int) -> bytes:
    """FileMetaData{version=1, schema=[root(2 children), a, b], num_rows, created_by}."""

    def element(name: str, children: int | None) -> bytes:
        out = _compact_field(4, 8) + bytes([len(name)]) + name.encode()
        if children is not None:
            out += _compact_field(1, 5) + _zigzag_varint(children)
        return out + b"\x00"

    meta = (
        _compact_field(1, 5)
        + _zigzag_varint(1)
        + _compact_field(1, 9)
        + bytes([(3 << 4) | 12])
        + element("schema", 2)
        + element("a", None)
        + element("b", None)
        + _compact_field(1, 6)
        + _zigzag_varint(num_rows)
        + _compact_field(3, 8)
        + bytes([4])
        + b"hand"
        + b"\x00"
    )
    return b"PAR1" + b"\x00" * 16 + meta + struct.pack("<I", len(meta)) + b"PAR1"


def test_parquet_hand_built_footer(tmp_path: Path) -> None:
    info = read_parquet(_write(tmp_path / "h.parquet", _hand_built_parquet(12345)))
    assert (info.rows, info.columns) == (12345, 2)
    assert info.properties == {
        "columns": "2",
        "column_names": "a,b",
        "parquet_version": "1",
        "created_by": "hand",
    }


def test_parquet_hostile(tmp_path: Path) -> None:
    good = _hand_built_parquet(5)
    cases = {
        "tiny": b"PAR1",
        "no-start-magic": b"XXXX" + good[4:],
        "no-end-magic": good[:-4] + b"XXXX",
        "huge-footer-len": good[:-8] + struct.pack("<I", 0xFFFFFFF0) + b"PAR1",
        "truncated-footer": b"PAR1" + good[-30:],
        "garbage-footer": b"PAR1" + b"\xff" * 64 + struct.pack("<I", 64) + b"PAR1",
        "negative-rows": _hand_built_parquet(-3),
        "deep-struct": b"PAR1" + (b"\x1c" * 5000) + struct.pack("<I", 5000) + b"PAR1",
        "huge-list": b"PAR1" + b"\x19\xfc\xff\xff\xff\x0f" + struct.pack("<I", 6) + b"PAR1",
    }
    for name, data in cases.items():
        with pytest.raises(FormatError):
            read_parquet(_write(tmp_path / f"{name}.parquet", data))
    encrypted = read_parquet(_write(tmp_path / "enc.parquet", good[:-4] + b"PARE"))
    assert encrypted.properties == {"encrypted_footer": "true"}


# --- Arrow / Feather ---


def test_arrow_ipc_file_stream_and_feather(tmp_path: Path) -> None:
    table = _table()
    file_path = tmp_path / "d.arrow"
    with ipc.new_file(str(file_path), table.schema) as writer:
        writer.write_table(table, max_chunksize=2)
    info = read_arrow(file_path)
    assert (info.format, info.rows, info.columns) == ("arrow", 7, 4)
    assert info.properties == {
        "ipc": "file",
        "columns": "4",
        "column_names": "id,label,point,tags",
        "record_batches": "4",
    }

    stream_path = tmp_path / "data-00000-of-00001.arrow"
    with ipc.new_stream(str(stream_path), table.schema) as writer:
        writer.write_table(table, max_chunksize=3)
    stream = read_arrow(stream_path)
    assert (stream.rows, stream.columns, stream.properties["ipc"]) == (7, 4, "stream")
    assert stream.properties["record_batches"] == "3"

    v2 = tmp_path / "d.feather"
    feather.write_feather(table.select(["id", "label"]), str(v2))
    v2_info = read_arrow(v2)
    assert (v2_info.format, v2_info.rows, v2_info.columns) == ("arrow", 7, 2)

    v1 = tmp_path / "v1.feather"
    with pytest.warns(DeprecationWarning):
        feather.write_feather(table.select(["id", "label"]), str(v1), version=1)
    v1_info = read_arrow(v1)
    assert (v1_info.format, v1_info.rows, v1_info.columns) == ("feather", 7, 2)
    assert v1_info.properties["column_names"] == "id,label"


def test_arrow_hostile(tmp_path: Path) -> None:
    table = _table()
    good = tmp_path / "good.arrow"
    with ipc.new_file(str(good), table.schema) as writer:
        writer.write_table(table)
    data = good.read_bytes()
    cases = {
        "no-magic": b"NOTARROW" * 4,
        "start-only": data[:-6] + b"XXXXXX",
        "bad-footer-len": data[:-10] + struct.pack("<i", 10**9) + b"ARROW1",
        "zero-footer": data[:-10] + struct.pack("<i", -5) + b"ARROW1",
        "garbage-footer": b"ARROW1\x00\x00" + b"\xff" * 64 + struct.pack("<i", 60) + b"ARROW1",
        "stream-garbage": b"\xff\xff\xff\xff" + struct.pack("<i", 10**8) + b"\x00" * 32,
        "stream-truncated": b"\xff\xff\xff\xff" + struct.pack("<i", 64) + b"\x01" * 10,
        "feather-bad": b"FEA1" + b"\x00" * 8 + struct.pack("<I", 10**6) + b"FEA1",
        "empty": b"",
    }
    for name, blob in cases.items():
        with pytest.raises(FormatError):
            read_arrow(_write(tmp_path / f"{name}.arrow", blob))


def test_arrow_footer_tables_are_verified(tmp_path: Path) -> None:
    """The footer (apache/arrow format/File.fbs `table Footer`) is walked by the shared FlatBuffers
    reader, which checks every vtable as the flatbuffers Verifier does (google/flatbuffers
    include/flatbuffers/verifier.h `VerifyTableStart`: an even vtable size of at least 4, a table
    inside the buffer, fields inside their table); a footer that breaks these is refused."""
    table = _table()
    good = tmp_path / "good.arrow"
    with ipc.new_file(str(good), table.schema) as writer:
        writer.write_table(table)
    data = good.read_bytes()
    footer_len = struct.unpack("<i", data[-10:-6])[0]
    footer = len(data) - 10 - footer_len
    root = footer + struct.unpack("<I", data[footer : footer + 4])[0]
    vtable = root - struct.unpack("<i", data[root : root + 4])[0]

    def patched(at: int, value: int) -> bytes:
        return data[:at] + struct.pack("<H", value) + data[at + 2 :]

    assert read_arrow(good).properties["record_batches"] == "1"
    cases = {
        "odd_vtable_size": patched(vtable, 5),
        "table_overruns_footer": patched(vtable + 2, 0xFFF0),
        "field_outside_table": patched(vtable + 4 + 2 * 1, 0xFFF0),  # Footer.schema
    }
    for name, blob in cases.items():
        with pytest.raises(FormatError):
            read_arrow(_write(tmp_path / f"{name}.arrow", blob))


# --- Descriptors and redaction ---


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:tok3n@host.example/d.csv", "https://host.example/d.csv"),
        (
            "https://h.example/f?token=abc&x=1&Signature=zz&X-Amz-Credential=AKIA%2F1",
            "https://h.example/f?token=REDACTED&x=1&Signature=REDACTED&X-Amz-Credential=REDACTED",
        ),
        (
            "https://acct.blob.core.windows.net/c/f.parquet?sv=2020&sig=abc%3D",
            "https://acct.blob.core.windows.net/c/f.parquet?sv=2020&sig=REDACTED",
        ),
        ("s3://bucket/key.parquet", "s3://bucket/key.parquet"),
        (
            "https://h.example/cb#access_token=secret&state=1",
            "https://h.example/cb#access_token=REDACTED&state=1",
        ),
        ("https://u:p@[::1/x?password=1", "https://[::1/x"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_descriptor_list_with_credentials_redacted(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "datasets.yaml",
        f"""
datasets:
  - name: imagenet-subset
    url: https://alice:ghp_SECRET123@data.example/imagenet.tar
    license: CC-BY-4.0
    description: A subset.
    sha256: sha256:{"AB" * 32}
    classification: public
    splits:
      train: {{url: "https://data.example/train.parquet?X-Amz-Signature=deadbeef&X-Amz-Date=1"}}
      test:
        url: https://data.example/test.parquet?token=t0k
  - name: local-only
    license: [MIT, Apache-2.0]
  - https://mirror.example/raw.csv
""",
    )
    result = read_dataset_descriptor(path)
    assert result == [
        DatasetDescriptor(
            name="imagenet-subset",
            urls=(
                "https://data.example/imagenet.tar",
                "https://data.example/train.parquet?X-Amz-Signature=REDACTED&X-Amz-Date=REDACTED",
                "https://data.example/test.parquet?token=REDACTED",
            ),
            license="CC-BY-4.0",
            description="A subset.",
            sha256="ab" * 32,
            classification="public",
        ),
        DatasetDescriptor(name="local-only", urls=(), license="MIT, Apache-2.0"),
        DatasetDescriptor(name="datasets[2]", urls=("https://mirror.example/raw.csv",)),
    ]
    text = repr(result)
    for secret in ("ghp_SECRET123", "alice", "deadbeef", "t0k"):
        assert secret not in text


def test_single_descriptor_and_mapping_of_datasets(tmp_path: Path) -> None:
    single = _write(
        tmp_path / "wiki.dataset.yaml",
        "download_url: [https://a.example/1.gz, https://a.example/2.gz, https://a.example/1.gz]\n"
        "licence: {id: CC0-1.0}\n",
    )
    assert read_dataset_descriptor(single) == [
        DatasetDescriptor(
            name="wiki",
            urls=("https://a.example/1.gz", "https://a.example/2.gz"),
            license="CC0-1.0",
        )
    ]
    local = _write(
        tmp_path / "dataset.yaml",
        "name: iris\nlicense: CC0-1.0\ndescription: Local data.\nfiles: [{path: train.csv}]\n",
    )
    assert read_dataset_descriptor(local) == [
        DatasetDescriptor(name="iris", urls=(), license="CC0-1.0", description="Local data.")
    ]
    unrelated = _write(tmp_path / "data.yaml", "lr: 0.1\nepochs: 3\n")
    assert read_dataset_descriptor(unrelated) == []
    mapping = _write(
        tmp_path / "data.json",
        json.dumps(
            {"datasets": {"train": "https://x.example/t.csv", "eval": {"urls": ["hf://d/e"]}}}
        ),
    )
    assert [(d.name, d.urls) for d in read_dataset_descriptor(mapping)] == [
        ("train", ("https://x.example/t.csv",)),
        ("eval", ("hf://d/e",)),
    ]


def test_descriptor_hostile(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
        for i in range(10)
    )
    with pytest.raises(LimitExceeded):
        read_dataset_descriptor(_write(tmp_path / "bomb.yaml", bomb))
    with pytest.raises(FormatError):
        read_dataset_descriptor(_write(tmp_path / "bin.yaml", bytes(range(256)) * 10))
    with pytest.raises(FormatError):
        read_dataset_descriptor(_write(tmp_path / "scalar.yaml", "42\n"))
    with pytest.raises(FormatError):
        read_dataset_descriptor(_write(tmp_path / "bad.yaml", "datasets: 3\n"))
    with pytest.raises(FormatError):
        read_dataset_descriptor(_write(tmp_path / "deep.json", "[" * 50_000 + "]" * 50_000))


def test_mutated_files_raise_only_format_error(tmp_path: Path) -> None:
    """Random byte flips and truncations of real files: a result or FormatError, nothing else."""
    import random

    table = _table()
    sources = {
        "p.parquet": read_parquet,
        "f.arrow": read_arrow,
        "s.arrow": read_arrow,
    }
    pq.write_table(table, tmp_path / "p.parquet", row_group_size=2)
    with ipc.new_file(str(tmp_path / "f.arrow"), table.schema) as writer:
        writer.write_table(table, max_chunksize=2)
    with ipc.new_stream(str(tmp_path / "s.arrow"), table.schema) as writer:
        writer.write_table(table, max_chunksize=2)
    rng = random.Random(20261126)
    target = tmp_path / "mutant.bin"
    for name, reader in sources.items():
        data = (tmp_path / name).read_bytes()
        outcomes = {"ok": 0, "error": 0}
        for _ in range(150):
            mutant = bytearray(data)
            for _ in range(rng.randint(1, 6)):
                near_end = rng.random() < 0.5
                pos = (
                    len(mutant) - 1 - rng.randrange(min(len(mutant), 300))
                    if near_end
                    else (rng.randrange(len(mutant)))
                )
                mutant[pos] = rng.randrange(256)
            if rng.random() < 0.2:
                mutant = mutant[: rng.randrange(len(mutant))]
            target.write_bytes(bytes(mutant))
            try:
                info = reader(target)
            except FormatError:
                outcomes["error"] += 1
            else:
                outcomes["ok"] += 1
                assert info.rows is None or info.rows >= 0
        assert outcomes["error"] > 0, name


def test_parquet_large_footer_is_read_partially(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{i}": list(range(40)) for i in range(30)}), path, row_group_size=4)
    full = read_parquet(path)
    assert "created_by" in full.properties and "footer_read" not in full.properties
    monkeypatch.setattr(limits, "MAX_PARQUET_FULL_PARSE", 100)
    info = read_parquet(path)
    assert (info.rows, info.columns) == (40, 30)
    assert info.properties["row_groups"] == "10"
    assert info.properties["footer_read"] == "partial"
    assert "created_by" not in info.properties
