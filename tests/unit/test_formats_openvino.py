"""OpenVINO IR reader on networks written to the OpenVINO docs' "OpenVINO IR format" page (the
openvino package is not a dependency): content recognition, the weights `.bin`, hostile XML."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.targets import openvino_xml
from tests.unit.format_helpers import (
    MUTATION_SETTINGS,
    assert_each_is_format_error,
    check_mutation,
)
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats.openvino import read_openvino


def test_network_and_weights(tmp_path: Path) -> None:
    xml = tmp_path / "model.xml"
    xml.write_bytes(openvino_xml("resnet", 11))
    (tmp_path / "model.bin").write_bytes(b"\0" * 64)
    info = read_openvino(xml)
    p = info.properties
    assert info.format == "openvino-ir"
    assert (p["net_name"], p["ir_version"], p["layer_count"]) == ("resnet", "11", "4")
    assert set(p["layer_types"].split(",")) == {"Parameter:1", "Const:1", "MatMul:1", "Result:1"}
    assert (p["inputs"], p["outputs"]) == ("x", "y")
    assert (p["weights_file"], p["weights_bytes"]) == ("model.bin", "64")


def test_without_weights_file(tmp_path: Path) -> None:
    xml = tmp_path / "m.xml"
    xml.write_bytes(openvino_xml(version=10))
    p = read_openvino(xml).properties
    assert p["ir_version"] == "10" and "weights_bytes" not in p


def test_only_openvino_xml_is_claimed() -> None:
    assert classify(openvino_xml(), "ir/model.xml") == "openvino-ir"
    assert classify(openvino_xml(), "renamed.dat") == "openvino-ir"
    pom = b'<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
    assert classify(pom, "pom.xml") is None
    assert classify(b"<network version='1'></network>", "n.xml") is None
    assert classify(b"<net name='x'><layers/></net>", "n.xml") is None  # no version: not IR


def test_hostile_xml(tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE net [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<net name="&b;" version="11"><layers/></net>'
    )
    external = b'<!DOCTYPE net SYSTEM "file:///etc/passwd"><net version="11"><layers/></net>'
    cases = {
        "empty": b"",
        "entities": laughs,
        "external_dtd": external,
        "not_net": b'<project version="11"><layers/></project>',
        "no_layers": b'<net name="x" version="11"></net>',
        "no_version": b'<net name="x"><layers/></net>',
        "unclosed": openvino_xml()[:-20],
        "binary": b"\x00\x01\x02<net",
        # expat looks the declared encoding up by name: an unknown one is a LookupError there.
        "unknown_encoding": (
            b'<?xml version="1.0" encoding="U-F-8"?><net version="11"><layers/></net>'
        ),
    }
    assert_each_is_format_error(read_openvino, tmp_path, cases, ".xml")


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutations_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, openvino_xml(), read_openvino, "openvino-ir")
