"""PMML documents built to the DMG PMML 4.4 schema (https://dmg.org/pmml/v4-4/GeneralStructure.html:
PMML@version, Header/Application, DataDictionary/DataField, model elements with functionName)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats.pmml import read_pmml


def document(fields: int = 3, segments: int = 2) -> bytes:
    data_fields = "".join(
        f'<DataField name="x{i}" optype="continuous" dataType="double"/>' for i in range(fields)
    )
    segment_xml = "".join(
        f'<Segment id="{i}"><True/><TreeModel functionName="classification">'
        f'<MiningSchema><MiningField name="x0"/></MiningSchema><Node score="1"><True/></Node>'
        f"</TreeModel></Segment>"
        for i in range(segments)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">\n'
        '<Header copyright="x"><Application name="SkLearn2PMML package" version="0.110.0"/>'
        "</Header>"
        f'<DataDictionary numberOfFields="{fields}">{data_fields}</DataDictionary>'
        '<MiningModel functionName="classification" modelName="churn">'
        '<MiningSchema><MiningField name="x0"/></MiningSchema>'
        f'<Segmentation multipleModelMethod="majorityVote">{segment_xml}</Segmentation>'
        "</MiningModel>"
        '<RegressionModel functionName="regression"><MiningSchema/></RegressionModel>'
        "</PMML>\n"
    ).encode()


def _write(tmp_path: Path, data: bytes, name: str = "model.pmml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_pmml_header(tmp_path: Path) -> None:
    info = read_pmml(_write(tmp_path, document(fields=4, segments=3)))
    props = info.properties
    assert info.format == "pmml" and info.architecture == "MiningModel"
    assert props["pmml.version"] == "4.4"
    assert props["producer"] == "SkLearn2PMML package"
    assert props["producer_version"] == "0.110.0"
    assert props["data_fields"] == "4"
    assert props["model_elements"] == "MiningModel,RegressionModel"
    assert props["function_name"] == "classification,regression"
    assert props["nested_models"] == "3"
    assert props["model_name"] == "churn"


def test_pmml_sniff(tmp_path: Path) -> None:
    head = document()[: limits.SNIFF_BYTES]
    assert classify(head, "model.xml") == "pmml"
    assert classify(head, "renamed.dat") == "pmml"
    pom = b'<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"></project>'
    assert classify(pom, "pom.xml") is None
    other = b'<PMML xmlns="urn:not-dmg"/>'
    assert classify(other, "x.xml") is None


def test_pmml_refuses_declarations_and_other_roots(tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE PMML [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header>&b;</Header></PMML>'
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE PMML SYSTEM "file:///etc/passwd">'
        b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"/>'
    )
    cases = {
        "empty": b"",
        "laughs": laughs,
        "external": external,
        "wrong-root": b'<project xmlns="http://www.dmg.org/PMML-4_4"/>',
        "wrong-namespace": b'<PMML xmlns="urn:x" version="4.4"/>',
        "truncated": document()[:200],
        "utf16": "\ufeff<PMML/>".encode("utf-16"),
    }
    assert_each_is_format_error(read_pmml, tmp_path, cases, ".pmml")


def test_pmml_with_an_unknown_declared_encoding_is_a_format_error(tmp_path: Path) -> None:
    # Found by the mutation test: expat looks the declared encoding up by name (LookupError).
    path = tmp_path / "m.pmml"
    path.write_bytes(
        b'<?xml version="1.0" encoding="U-F-8"?>'
        b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/></PMML>'
    )
    with pytest.raises(FormatError, match="unknown encoding"):
        read_pmml(path)


def test_pmml_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "d.pmml").mkdir()
    with pytest.raises(FormatError):
        read_pmml(tmp_path / "d.pmml")


@MUTATION_SETTINGS
@given(data=st.data())
def test_pmml_mutations(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, document(), read_pmml, "pmml")
