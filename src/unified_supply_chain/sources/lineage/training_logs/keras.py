"""Keras `ModelCheckpoint` sequences: the files one callback wrote over a run.

keras/src/callbacks/model_checkpoint.py saves to `filepath.format(epoch=epoch + 1, **logs)`,
where `filepath` ends `.keras` or `.h5` (whole model) or `.weights.h5` (`save_weights_only`) and
may hold placeholders (`weights.{epoch:02d}-{val_loss:.2f}.keras`). A template leaves its trace
on disk as files of one directory with one suffix whose names differ only in their numbers; two
or more such files are taken as the checkpoints of one run (a heuristic: only the numbers tell
the epochs apart). `epoch` is read where the template spells it (`epoch{epoch:02d}`,
`epoch=3`, `epoch_03`), as `_get_most_recently_modified_file_matching_pattern` cannot tell
either.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from unified_supply_chain import records
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.sources.lineage.training_logs.state import Collector, is_model_path

TRACKER = "keras"
#: Suffixes ModelCheckpoint accepts, the longest first (`.weights.h5` before `.h5`).
SUFFIXES = (".weights.h5", ".keras", ".h5")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_EPOCH = re.compile(r"epoch[=_-]?(\d+)")


def _split(name: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(template with `{}` for each number, suffix, the numbers) of a checkpoint-like name."""
    lower = name.lower()
    suffix = next((s for s in SUFFIXES if lower.endswith(s)), None)
    if suffix is None:
        return None
    stem = name[: -len(suffix)]
    numbers = tuple(_NUMBER.findall(stem))
    if not numbers:
        return None
    return _NUMBER.sub("{}", stem), suffix, numbers


def _order(numbers: tuple[str, ...]) -> tuple[float, ...]:
    return tuple(float(n) for n in numbers)


def read_keras_sequences(out: Collector, files: Sequence[str]) -> None:
    """Every checkpoint sequence among `files` (not already part of another run) as a run."""
    groups: dict[tuple[str, str, str], list[tuple[tuple[str, ...], str]]] = {}
    for rel in files:
        if rel in out.claimed or not is_model_path(rel):
            continue
        parts = _split(posixpath.basename(rel))
        if parts is None:
            continue
        template, suffix, numbers = parts
        groups.setdefault((posixpath.dirname(rel), template, suffix), []).append((numbers, rel))
    for (directory, template, suffix), members in sorted(groups.items()):
        if len(members) < 2 or len({n for n, _ in members}) != len(members):
            continue
        members.sort(key=lambda item: (_order(item[0]), item[1]))
        sequence = posixpath.join(directory, template + suffix)
        outputs = tuple(rel for _, rel in members)
        for position, (_numbers, rel) in enumerate(members, start=1):
            props = [
                (Prop.TRACKER.value, TRACKER),
                (Prop.CHECKPOINT.key("sequence"), sequence),
                (Prop.CHECKPOINT.key("position"), str(position)),
            ]
            epoch = _EPOCH.search(posixpath.basename(rel).lower())
            if epoch:
                props.append((Prop.CHECKPOINT.key("epoch"), str(int(epoch.group(1)))))
            if position == len(members):
                props.append((Prop.CHECKPOINT.key("last"), "true"))
            out.declared.append(
                records.Declared(
                    path=rel,
                    kind=None,  # what the content says (an HDF5 file of data stays a dataset)
                    source=sequence,
                    properties=tuple(props),
                )
            )
            out.claimed.add(rel)
        out.stages.append(
            records.Stage(
                name=sequence,
                command=None,
                inputs=(),
                outputs=outputs,
                source=sequence,
                properties=((Prop.TRACKER.value, TRACKER),),
            )
        )
