"""Kedro data catalogs and parameters: the reader, where the files are recognised, and the
components a scan makes of a project shaped like Kedro's spaceflights starter.

Sources the fixtures follow:
- kedro-org/kedro-starters `spaceflights-pandas/{{ cookiecutter.repo_name }}/conf/base/
  catalog.yml` (CSV, Excel, Parquet, versioned pickle and plotly entries, the commented S3 and
  SQL examples with `credentials:`), `conf/base/parameters_data_science.yml`,
  `conf/local/credentials.yml` and the `data/01_raw` ... `data/08_reporting` layout.
- kedro-org/kedro `kedro/config/omegaconf_config.py`: config patterns `catalog*`,
  `catalog*/**`, `**/catalog*` and `parameters*`, ...; `_`-prefixed top-level keys are dropped
  from the merged catalog; `kedro/io/catalog_config_resolver.py` (a key with `{` is a factory
  pattern); `kedro/io/core.py` `_get_versioned_path` (`<filepath>/<version>/<name>`) and
  `VERSION_FORMAT` (`%Y-%m-%dT%H.%M.%S.%fZ`, cut to milliseconds).
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import pytest

from tests.helpers import write_file
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.inspection.scan import scan
from unified_supply_chain.options import ScanOptions
from unified_supply_chain.records import Artifact, ArtifactKind, Storage
from unified_supply_chain.sources.datasets.kedro import (
    CatalogEntry,
    factory_regex,
    read_kedro_catalog,
)

CATALOG = """\
# Here you can define all your data sets by using simple YAML syntax.
_raw: data/01_raw

companies:
  type: pandas.CSVDataset
  filepath: ${_raw}/companies.csv
  metadata:
    kedro-viz:
      layer: raw

reviews:
  type: pandas.CSVDataset
  filepath: data/01_raw/reviews.csv

shuttles:
  type: pandas.ExcelDataset
  filepath: data/01_raw/shuttles.xlsx
  load_args:
    engine: openpyxl

weather:
  type: spark.SparkDataset
  filepath: s3a://AKIAEXAMPLE:wJalrXUtnFEMI@your_bucket/data/01_raw/weather*
  file_format: csv
  credentials: dev_s3

scooters:
  type: pandas.SQLTableDataset
  credentials: scooters_credentials
  table_name: scooters

preprocessed_companies:
  type: pandas.ParquetDataset
  filepath: data/02_intermediate/preprocessed_companies.parquet
  layer: intermediate

regressor:
  type: pickle.PickleDataset
  filepath: data/06_models/regressor.pickle
  versioned: true

dummy_confusion_matrix:
  type: matplotlib.MatplotlibDataset
  filepath: data/08_reporting/dummy_confusion_matrix.png
  versioned: true

"{name}_plot":
  type: plotly.JSONDataset
  filepath: data/08_reporting/{name}.json
"""

CREDENTIALS = (
    "dev_s3:\n  client_kwargs:\n"
    "    aws_access_key_id: AKIAEXAMPLE\n    aws_secret_access_key: wJalrXUtnFEMI\n"
)
PARAMETERS_DS = """\
model_options:
  test_size: 0.2
  random_state: 3
  features:
    - engines
    - passenger_capacity
"""
V1 = "2024-01-01T10.00.00.000Z"
V2 = "2024-02-01T10.00.00.000Z"


def test_reader_entries(tmp_path: Path) -> None:
    entries = read_kedro_catalog(write_file(tmp_path / "catalog.yml", CATALOG))
    by_key = {e.key: e for e in entries}
    assert list(by_key) == [
        "companies",
        "reviews",
        "shuttles",
        "weather",
        "scooters",
        "preprocessed_companies",
        "regressor",
        "dummy_confusion_matrix",
        "{name}_plot",
    ]
    assert by_key["companies"] == CatalogEntry(
        name="companies",
        key="companies",
        type="pandas.CSVDataset",
        filepath="data/01_raw/companies.csv",
        layer="raw",
    )
    weather = by_key["weather"]
    assert weather.remote and weather.filepath == "s3a://your_bucket/data/01_raw/weather*"
    assert by_key["scooters"].filepath is None
    assert by_key["preprocessed_companies"].layer == "intermediate"
    assert by_key["regressor"].versioned and not by_key["reviews"].versioned
    assert by_key["{name}_plot"].pattern and not by_key["companies"].pattern
    # Credentials are never read: neither the name nor any secret reaches a record.
    text = repr(entries)
    for secret in ("dev_s3", "scooters_credentials", "AKIAEXAMPLE", "wJalrXUtnFEMI", "openpyxl"):
        assert secret not in text


def test_reader_transcoding_file_urls_and_bad_input(tmp_path: Path) -> None:
    text = (
        "companies@spark:\n  type: spark.SparkDataset\n  filepath: file:///data/c.parquet\n"
        "parts:\n  type: partitions.PartitionedDataset\n  path: data/parts\n"
        "not_a_dataset: 3\nnotes:\n  description: no type\n"
    )
    entries = read_kedro_catalog(write_file(tmp_path / "c.yml", text))
    assert [(e.name, e.filepath, e.remote) for e in entries] == [
        ("companies", "/data/c.parquet", False),
        ("parts", "data/parts", False),
    ]
    assert read_kedro_catalog(write_file(tmp_path / "empty.yml", "")) == []
    with pytest.raises(FormatError):
        read_kedro_catalog(write_file(tmp_path / "list.yml", "- a\n- b\n"))
    with pytest.raises(FormatError):
        read_kedro_catalog(write_file(tmp_path / "broken.yml", "a: [\n"))


def test_factory_regex() -> None:
    regex = factory_regex("data/08_reporting/{name}.json")
    assert regex.fullmatch("data/08_reporting/capacity.json")
    assert not regex.fullmatch("data/08_reporting/sub/capacity.json")
    assert not regex.fullmatch("data/08_reporting/capacity.csv")


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("conf/base/catalog.yml", "kedro-catalog"),
        ("conf/local/catalog_genai.yml", "kedro-catalog"),
        ("conf/base/catalog/raw.yml", "kedro-catalog"),
        ("conf/base/pipelines/ds/catalog.yaml", "kedro-catalog"),
        ("projects/flights/conf/prod/catalog.yml", "kedro-catalog"),
        ("conf/base/parameters.yml", "kedro-parameters"),
        ("conf/base/parameters_data_science.yml", "kedro-parameters"),
        ("conf/base/parameters/reporting.yml", "kedro-parameters"),
        # Not Kedro's: a file directly in conf/ (no environment), credentials, logging, Hydra.
        ("conf/catalog.yml", "hydra-config"),
        ("conf/local/credentials.yml", "hydra-config"),
        ("conf/logging.yml", "hydra-config"),
        ("conf/config.yaml", "hydra-config"),
        ("catalog.yml", None),
    ],
)
def test_classification(rel: str, expected: str | None) -> None:
    assert classify(b"a: 1\n", rel) == expected


def _xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def spaceflights(root: Path) -> None:
    """A Kedro project shaped like the spaceflights-pandas starter after one run."""
    write_file(root / "conf/base/catalog.yml", CATALOG)
    write_file(root / "conf/base/parameters.yml", "")
    write_file(root / "conf/base/parameters_data_science.yml", PARAMETERS_DS)
    write_file(root / "conf/base/parameters_data_processing.yml", "# none yet\n")
    write_file(root / "conf/local/credentials.yml", CREDENTIALS)
    write_file(root / "conf/logging.yml", "version: 1\nhandlers: {}\n")
    write_file(root / "data/01_raw/companies.csv", "id,company_rating\n1,90%\n2,80%\n")
    write_file(root / "data/01_raw/shuttles.xlsx", _xlsx())
    write_file(root / "data/01_raw/.gitkeep", "")
    for v in (V1, V2):
        write_file(
            root / f"data/06_models/regressor.pickle/{v}/regressor.pickle",
            pickle.dumps({"coef": [1.0, 2.0], "v": v}, protocol=4),
        )
    write_file(
        root / f"data/08_reporting/dummy_confusion_matrix.png/{V1}/dummy_confusion_matrix.png",
        b"\x89PNG",
    )
    write_file(root / "data/08_reporting/capacity.json", '{"data": []}')


def _props(a: Artifact) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in a.extra_properties:
        out.setdefault(k, []).append(v)
    return out


def test_scan_spaceflights(tmp_path: Path) -> None:
    spaceflights(tmp_path)
    artifacts = scan(ScanOptions(root=tmp_path, jobs=1)).inventory.artifacts
    by_ref = {a.ref: a for a in artifacts}
    cat = "conf/base/catalog.yml"
    assert set(by_ref) == {
        "dataset:data/01_raw/companies.csv",
        "dataset:data/01_raw/shuttles.xlsx",
        f"dataset:{cat}#reviews",
        f"dataset:{cat}#weather",
        f"dataset:{cat}#scooters",
        f"dataset:{cat}#preprocessed_companies",
        f"model:data/06_models/regressor.pickle/{V1}/regressor.pickle",
        f"model:data/06_models/regressor.pickle/{V2}/regressor.pickle",
        f"dataset:{cat}#dummy_confusion_matrix",
        f"dataset:{cat}#{{name}}_plot",
        "hyperparameters:conf/base/parameters.yml",
        "hyperparameters:conf/base/parameters_data_science.yml",
        "hyperparameters:conf/base/parameters_data_processing.yml",
    }
    companies = by_ref["dataset:data/01_raw/companies.csv"]
    p = _props(companies)
    assert companies.content_present and companies.hashes
    assert p[Prop.DESCRIPTOR.value] == [cat]
    assert p[Prop.KEDRO_TYPE.value] == ["pandas.CSVDataset"]
    assert p[Prop.KEDRO_LAYER.value] == ["raw"]
    assert by_ref["dataset:data/01_raw/shuttles.xlsx"].name == "shuttles"

    reviews = by_ref[f"dataset:{cat}#reviews"]
    assert not reviews.content_present and reviews.path == cat
    assert _props(reviews)[Prop.DATASET_ABSENT.key("filepath")] == ["data/01_raw/reviews.csv"]

    weather = by_ref[f"dataset:{cat}#weather"]
    assert weather.storage is Storage.REMOTE and not weather.content_present
    assert weather.url == "s3a://your_bucket/data/01_raw/weather*"
    assert by_ref[f"dataset:{cat}#scooters"].url is None

    # Both saved versions of the versioned model stay models, carrying the entry and version.
    for v in (V1, V2):
        model = by_ref[f"model:data/06_models/regressor.pickle/{v}/regressor.pickle"]
        mp = _props(model)
        assert mp[Prop.DATASET_NAME.value] == ["regressor"]
        assert mp[Prop.KEDRO_VERSIONED.value] == ["true"]
        assert mp[Prop.KEDRO_VERSION.value] == [v]
    plot = by_ref[f"dataset:{cat}#dummy_confusion_matrix"]
    assert [f[0] for f in plot.files] == [
        f"data/08_reporting/dummy_confusion_matrix.png/{V1}/dummy_confusion_matrix.png"
    ]
    assert plot.content_present and plot.hashes

    factory = by_ref[f"dataset:{cat}#{{name}}_plot"]
    assert [f[0] for f in factory.files] == ["data/08_reporting/capacity.json"]
    assert _props(factory)[Prop.KEDRO_FACTORY.value] == ["{name}_plot"]

    ds_params = by_ref["hyperparameters:conf/base/parameters_data_science.yml"]
    assert ds_params.format == "kedro-parameters"
    assert ds_params.params == (
        ("model_options.test_size", "0.2"),
        ("model_options.random_state", "3"),
        ("model_options.features", '["engines", "passenger_capacity"]'),
    )
    assert by_ref["hyperparameters:conf/base/parameters.yml"].params == ()

    # Nothing of the credentials file reaches any component.
    text = repr(artifacts)
    for secret in ("AKIAEXAMPLE", "wJalrXUtnFEMI", "dev_s3", "scooters_credentials"):
        assert secret not in text


def test_unreadable_catalog_is_a_problem(tmp_path: Path) -> None:
    write_file(tmp_path / "conf/base/catalog.yml", "companies: [\n")
    result = scan(ScanOptions(root=tmp_path, jobs=1)).inventory
    assert result.artifacts == ()
    assert [(p.path, p.message.split(":")[0]) for p in result.problems] == [
        ("conf/base/catalog.yml", "unreadable Kedro catalog")
    ]


def test_catalog_paths_outside_the_project_are_absent(tmp_path: Path) -> None:
    write_file(
        tmp_path / "proj/conf/base/catalog.yml",
        "a:\n  type: pandas.CSVDataset\n  filepath: ../../etc/passwd\n"
        "b:\n  type: pandas.CSVDataset\n  filepath: data/b.csv\n",
    )
    write_file(tmp_path / "proj/data/b.csv", "x\n1\n")
    write_file(tmp_path / "data/b.csv", "x\n2\n")  # outside the project: not what `b` names
    artifacts = {a.ref: a for a in scan(ScanOptions(root=tmp_path, jobs=1)).inventory.artifacts}
    a = artifacts["dataset:proj/conf/base/catalog.yml#a"]
    assert not a.content_present
    assert _props(a)[Prop.DATASET_ABSENT.key("filepath")] == ["../../etc/passwd"]
    assert (Prop.DATASET_NAME.value, "b") in artifacts["dataset:proj/data/b.csv"].extra_properties
    assert (Prop.DATASET_NAME.value, "b") not in artifacts["dataset:data/b.csv"].extra_properties
    assert all(x.kind is ArtifactKind.DATASET for x in artifacts.values())
