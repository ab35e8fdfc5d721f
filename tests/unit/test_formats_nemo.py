"""NeMo checkpoints (formats/nemo.py): built as NVIDIA/NeMo's SaveRestoreConnector writes them
(nemo/core/connectors/save_restore_connector.py; see tests/fuzz/archive_seeds.nemo_bytes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.archive_seeds import nemo_bytes, pickle_payload, tar_bytes, torch_zip_bytes
from tests.helpers import refuse_unpickling, system_payload
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats.nemo import read_nemo
from unified_supply_chain.records import Severity
from unified_supply_chain.safety.scan import scan_file


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_unpickling(monkeypatch)


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_config_and_members_are_read(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "asr.nemo"
    path.write_bytes(nemo_bytes(torch_zip_bytes(pickle_payload()), mode))
    assert classify(path.read_bytes()[:512], "models/asr.nemo") == "nemo"
    info = read_nemo(path)
    assert info.architecture == "EncDecCTCModel"
    assert info.properties["nemo.target"] == "nemo.collections.asr.models.EncDecCTCModel"
    assert info.properties["nemo.sample_rate"] == "16000"
    assert info.properties["nemo.tokenizer.library"] == "sentencepiece"
    assert info.properties["nemo.members"] == "3"
    assert info.properties["nemo.weights"] == "true"
    assert scan_file(path, "asr.nemo", "nemo") == []


def test_checkpoint_pickles_are_scanned(tmp_path: Path) -> None:
    path = tmp_path / "asr.nemo"
    path.write_bytes(nemo_bytes(torch_zip_bytes(system_payload("id", 2))))
    findings = scan_file(path, "asr.nemo", "nemo")
    assert [(f.severity, f.path) for f in findings] == [
        (Severity.CRITICAL, "asr.nemo!./model_weights.ckpt!archive/data.pkl")
    ]
    cut = tmp_path / "cut.nemo"
    cut.write_bytes(path.read_bytes()[:1500])
    found = scan_file(cut, "cut.nemo", "nemo")
    assert found and all(f.severity is Severity.HIGH for f in found)


def test_a_tar_without_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.nemo"
    path.write_bytes(tar_bytes({"./notes.txt": b"x"}))
    with pytest.raises(FormatError, match=r"no model_config\.yaml"):
        read_nemo(path)


# --- PaddlePaddle's legacy .pdparams/.pdopt: pickles (python/paddle/framework/io.py). ----------


def test_paddle_pickles_are_pickles_and_scanned(tmp_path: Path) -> None:
    from tests.fuzz.archive_seeds import paddle_pickle_seeds
    from unified_supply_chain.formats.pickles import read_pickle

    (tree, victim) = paddle_pickle_seeds()[0]
    path = tmp_path / "net.pdparams"
    path.write_bytes(tree[victim])
    assert classify(tree[victim][:512], victim) == "paddle-pickle"
    assert read_pickle(path).format == "pickle"
    assert scan_file(path, victim, "paddle-pickle") == []
    bad = tmp_path / "opt.pdopt"
    bad.write_bytes(system_payload("id", 4))
    assert Severity.CRITICAL in {f.severity for f in scan_file(bad, "opt.pdopt", "paddle-pickle")}
