"""LightGBM text models (`model.txt`): the key=value header, the tree size table, parameters.

The layout is GBDT::SaveModelToString in microsoft/LightGBM src/boosting/gbdt_model_text.cpp:
the sub-model name `tree`, `version=v3|v4`, header keys up to a blank line, then one `Tree=i`
block per tree (their byte sizes listed in `tree_sizes=`), `end of trees`, feature importances
and a `parameters:` ... `end of parameters` section. Only the header and the tail are read;
files are recognised by content alone, never by their `.txt` name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import HeaderInfo

_CHUNK = 1 << 16
#: Versions GBDT::LoadModelFromString accepts (kModelVersion and the ones before it).
KNOWN_VERSIONS = ("v2", "v3", "v4")
#: Feature names listed in properties (the count is always given).
MAX_LISTED_FEATURES = 50
#: Training parameters of the tail kept as properties (`lightgbm.param.<name>`).
KEPT_PARAMETERS = (
    "boosting",
    "objective",
    "num_iterations",
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_data_in_leaf",
    "feature_fraction",
    "bagging_fraction",
    "lambda_l1",
    "lambda_l2",
    "linear_tree",
)
_PARAM_LINE = re.compile(rb"^\[([a-z0-9_]+): ?(.*)\]$")


def _read_header(fh: BinaryIO) -> bytes:
    """The bytes up to the first blank line (the header), under the cap."""
    cap = limits.MAX_LIGHTGBM_HEADER
    data = b""
    while True:
        chunk = fh.read(min(_CHUNK, cap + 2 - len(data)))
        start = max(0, len(data) - 1)
        data += chunk
        end = data.find(b"\n\n", start)
        if 0 <= end < cap:
            return data[: end + 1]
        if len(data) > cap:
            raise LimitExceeded(f"header longer than {cap} bytes")
        if not chunk:
            raise FormatError("no blank line ends the header: not a complete LightGBM model")


def _int(values: dict[str, str], key: str) -> int | None:
    text = values.get(key)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise FormatError(f"{key}={text[:40]!r} is not an integer") from None
    if value < 0 or value > 2**31:
        raise FormatError(f"{key}={value} is out of range")
    return value


def _count_trees(fh: BinaryIO, start: int, size: int) -> int | None:
    """`Tree=` blocks after the header, scanned in bounded chunks (None past the cap)."""
    if size - start > limits.MAX_TREE_COUNT_SCAN:
        return None
    fh.seek(start - 1)
    count = 0
    tail = b""
    while chunk := fh.read(_CHUNK):
        window = tail + chunk
        end = window.find(b"\nend of trees")
        if end >= 0:
            # Feature importances follow, and a feature may be named "Tree".
            return count + window[:end].count(b"\nTree=")
        count += window.count(b"\nTree=")
        tail = window[-13:]  # markers split across chunks are seen whole in the next window
        count -= tail.count(b"\nTree=")
    return count


def _parameters(fh: BinaryIO, size: int) -> dict[str, str]:
    """The kept training parameters from the `parameters:` section near the file's end."""
    fh.seek(max(0, size - limits.MAX_LIGHTGBM_TAIL))
    tail = fh.read(limits.MAX_LIGHTGBM_TAIL)
    begin = tail.rfind(b"\nparameters:\n")
    end = tail.rfind(b"\nend of parameters")
    if begin < 0 or end < begin:
        return {}
    found: dict[str, str] = {}
    for line in tail[begin:end].splitlines():
        match = _PARAM_LINE.match(line.strip())
        if match is None:
            continue
        key = match.group(1).decode("ascii")
        if key in KEPT_PARAMETERS:
            found[key] = match.group(2).decode("utf-8", "replace")[:200]
    return found


def read_lightgbm(path: Path) -> HeaderInfo:
    """Read a LightGBM text model's header and parameters. Raises FormatError only."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            raw = _read_header(fh)
            return _describe(fh, raw, size)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc


def _describe(fh: BinaryIO, raw: bytes, size: int) -> HeaderInfo:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"header is not UTF-8 (byte {exc.start})") from exc
    lines = text.split("\n")
    if lines[0].rstrip("\r") != "tree":
        raise FormatError("first line is not 'tree': not a LightGBM model")
    values: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.rstrip("\r").partition("=")
        if sep:
            values.setdefault(key, value)
    version = values.get("version")
    if version not in KNOWN_VERSIONS:
        raise FormatError(f"unknown LightGBM model version {str(version)[:20]!r}")
    properties = {"lightgbm.version": version}
    for key in ("num_class", "num_tree_per_iteration", "label_index"):
        number = _int(values, key)
        if number is not None:
            properties[key] = str(number)
    max_feature = _int(values, "max_feature_idx")
    if max_feature is not None:
        properties["feature_count"] = str(max_feature + 1)
    objective = values.get("objective")
    if objective:
        properties["objective"] = objective[:200]
    names = values.get("feature_names", "").split()
    if names:
        properties["feature_names"] = ",".join(names[:MAX_LISTED_FEATURES])[:4096]
        if len(names) > MAX_LISTED_FEATURES:
            properties["feature_names_truncated"] = "true"
    trees_start = len(raw) + 1
    sizes_text = values.get("tree_sizes")
    if sizes_text is not None:
        try:
            sizes = [int(s) for s in sizes_text.split()]
        except ValueError:
            raise FormatError("tree_sizes holds a value that is not an integer") from None
        if any(s <= 0 for s in sizes) or trees_start + sum(sizes) > size:
            raise FormatError("tree_sizes point past the end of the file")
        # LightGBM finds each tree by these sizes; a table that misses them is corrupt.
        fh.seek(trees_start)
        first = fh.read(6)
        fh.seek(trees_start + sum(sizes))
        after = fh.read(12)
        if (sizes and first != b"Tree=0") or after != b"end of trees":
            raise FormatError("tree_sizes do not match the tree blocks")
        trees: int | None = len(sizes)
    else:
        trees = _count_trees(fh, trees_start, size)
    if trees is not None:
        properties["tree_count"] = str(trees)
    parameters = _parameters(fh, size)
    for key, value in parameters.items():
        properties[f"lightgbm.param.{key}"] = value
    return HeaderInfo(
        format="lightgbm",
        properties=properties,
        architecture=f"lightgbm-{parameters.get('boosting', 'gbdt')}",
    )


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402


def sniff_lightgbm(head: bytes, name: str) -> bool:
    """First line exactly `tree`, the second `version=`: the header SaveModelToString writes."""
    return head.startswith((b"tree\nversion=", b"tree\r\nversion="))


SPECS = (
    FormatSpec(
        id="lightgbm",
        kind=Kind.MODEL,
        description="first line 'tree', then 'version=' (LightGBM text model; never by .txt)",
        sniffs=(Sniff(130, sniff_lightgbm),),
        reader=read_lightgbm,
    ),
)
