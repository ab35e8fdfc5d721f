"""Realistic Data Package and Croissant documents, shared by the fuzz seeds and the unit tests.

The Data Package is shaped like datasets/co2-fossil-global `datapackage.json` (a published
Frictionless core dataset), with the resource properties of the Data Resource standard
(https://datapackage.org/standard/data-resource/: `path` string or list, `bytes`, `hash` MD5 by
default or `{algorithm}:{hash}`, `licenses`, `schema.fields`). The Croissant document is shaped
like mlcommons/croissant `datasets/1.0/fashion-mnist/metadata.json` (its `@context`,
`conformsTo`, a git FileObject with a FileSet `containedIn` it) plus local FileObjects and a
FileSet with `includes` as the Croissant 1.0 spec describes
(https://docs.mlcommons.org/croissant/docs/croissant-spec.html#fileobject,
#fileset).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GLOBAL_CSV = b"Year,Total,Gas Fuel\n1751,3,0\n1752,3,0\n"
LABELS_CSV = b"file,label\ncat1.jpg,cat\ndog1.jpg,dog\n"

#: The Croissant 1.0 `@context` as the mlcommons/croissant examples write it (abridged).
CROISSANT_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dct": "http://purl.org/dc/terms/",
    "field": "cr:field",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "includes": "cr:includes",
    "md5": "cr:md5",
    "recordSet": "cr:recordSet",
    "sc": "https://schema.org/",
    "source": "cr:source",
}


def datapackage(global_csv: bytes = GLOBAL_CSV) -> dict[str, Any]:
    """A Data Package with a present, an absent, a multi-part and a remote resource."""
    return {
        "profile": "data-package",
        "name": "co2-fossil-global",
        "title": "Global CO2 Emissions from Fossil Fuels since 1751",
        "licenses": [
            {
                "name": "ODC-PDDL-1.0",
                "path": "http://opendatacommons.org/licenses/pddl/",
                "title": "Open Data Commons Public Domain Dedication and License v1.0",
            }
        ],
        "sources": [
            {
                "name": "CDIAC",
                "path": "http://cdiac.esd.ornl.gov/ftp/ndp030/CSV-FILES/global.1751_2010.csv",
                "title": "CDIAC",
            }
        ],
        "resources": [
            {
                "name": "global",
                "path": "global.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": len(global_csv),
                "hash": "sha256:" + hashlib.sha256(global_csv).hexdigest(),
                "profile": "tabular-data-resource",
                "schema": {
                    "fields": [
                        {"name": "Year", "type": "year"},
                        {"name": "Total", "type": "number"},
                        {"name": "Gas Fuel", "type": "number"},
                    ]
                },
            },
            {
                "name": "national",
                "path": "national.csv",
                "format": "csv",
                "hash": hashlib.md5(b"not here", usedforsecurity=False).hexdigest(),
                "licenses": [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0"}],
            },
            {
                "name": "monthly",
                "path": ["monthly/part-1.csv", "monthly/part-2.csv"],
                "format": "csv",
            },
            {
                "name": "mirror",
                "path": "https://user:hunter2@data.example.org/co2/global.csv",
                "format": "csv",
                "mediatype": "text/csv",
            },
        ],
    }


def croissant() -> dict[str, Any]:
    """A Croissant dataset with a local FileObject, a local FileSet and a remote repository."""
    return {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "name": "pets",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "description": "Cats and dogs.",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "url": "https://huggingface.co/datasets/example/pets",
        "distribution": [
            {
                "@type": "cr:FileObject",
                "name": "labels.csv",
                "contentUrl": "labels.csv",
                "encodingFormat": "text/csv",
                "sha256": hashlib.sha256(LABELS_CSV).hexdigest(),
            },
            {
                "@type": "cr:FileSet",
                "name": "images",
                "encodingFormat": "image/jpeg",
                "includes": ["images/*.jpg"],
            },
            {
                "@type": "cr:FileObject",
                "name": "repo",
                "contentUrl": "https://huggingface.co/datasets/example/pets/tree/refs%2Fconvert%2Fparquet",
                "encodingFormat": "git+https",
                "sha256": "6894fa1803ae2e42ac3d46a7613037b5b59b47622f7e75c55d3f076657b21531",
            },
            {
                "@type": "cr:FileSet",
                "name": "parquet-files",
                "containedIn": "repo",
                "encodingFormat": "application/x-parquet",
                "includes": "*/*/*.parquet",
            },
        ],
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "name": "default",
                "field": [
                    {"@type": "cr:Field", "name": "image", "dataType": "sc:ImageObject"},
                    {"@type": "cr:Field", "name": "label", "dataType": "sc:Text"},
                ],
            }
        ],
    }


def as_bytes(document: dict[str, Any]) -> bytes:
    """A document as its JSON file's bytes."""
    return json.dumps(document, indent=2).encode()
