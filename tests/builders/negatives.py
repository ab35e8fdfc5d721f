"""Repositories shaped like real public ones, full of files that are not ML artifacts.

Layouts follow: ultralytics/yolov5 (`models/yolov5s.yaml`, `models/hub/`, `models/segment/`:
architecture YAML with `backbone:`/`head:`, no hyperparameters; `data/hyps/hyp.scratch-low.yaml`
and `data/coco128.yaml` are the true positives; `data/images/*.jpg` sample images) and
ultralytics/ultralytics (`ultralytics/cfg/models/v8/yolov8.yaml`, `cfg/trackers/botsort.yaml`);
an MkDocs + Read the Docs site, a Hugo site (`config/_default/params.yaml` is Hugo's site params,
https://gohugo.io/getting-started/configuration/#configuration-directory), Docusaurus and Jekyll;
a CI-heavy repository (GitHub Actions workflows named like ML files, GitLab CI, CircleCI, Azure
Pipelines, Codecov, docker-compose, conda, Helm); a package (npm, Cargo, Python, an MLproject
whose `command` names `train.py`, test fixtures under `tests/fixtures/`, `tests/data/`,
`__tests__/fixtures/`, `test/data/`). Each `(name, builder)` in `REPOSITORIES` writes one.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path


def w(path: Path, data: str | bytes) -> None:
    """Write `data` to `path`, creating its parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


PNG = (
    b"\x89PNG\r\n\x1a\n"
    + struct.pack(">I", 13)
    + b"IHDR"
    + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    + b"\0\0\0\0"
)
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def yolo_like(r: Path) -> None:
    """An ultralytics/yolov5-shaped repository."""
    w(
        r / "models/yolov5s.yaml",
        (
            "# YOLOv5 by Ultralytics\nnc: 80\ndepth_multiple: 0.33\nwidth_multiple: 0.50\n"
            "anchors:\n  - [10,13, 16,30, 33,23]\nbackbone:\n  [[-1, 1, Conv, [64, 6, 2, 2]],\n"
            "   [-1, 1, SPPF, [1024, 5]]]\nhead:\n  [[-1, 1, Conv, [512, 1, 1]],\n   [[17, 20, "
            "23], 1, Detect, [nc, anchors]]]\n"
        ),
    )
    w(
        r / "models/hub/yolov5-p6.yaml",
        (
            "nc: 80\ndepth_multiple: 1.0\nwidth_multiple: 1.0\nanchors: 3\nbackbone:\n  [[-1, 1, "
            "Conv, [64, 6, 2, 2]]]\nhead:\n  [[-1, 1, Detect, [nc, anchors]]]\n"
        ),
    )
    w(
        r / "models/segment/yolov5s-seg.yaml",
        (
            "nc: 80\nbackbone:\n  [[-1, 1, Conv, [64, 6, 2, 2]]]\nhead:\n  [[-1, 1, Segment, "
            "[nc, anchors, 32, 256]]]\n"
        ),
    )
    w(
        r / "ultralytics/cfg/models/v8/yolov8.yaml",
        (
            "nc: 80\nscales:\n  n: [0.33, 0.25, 1024]\nbackbone:\n  - [-1, 1, Conv, [64, 3, 2]]\n"
            "head:\n  - [[15, 18, 21], 1, Detect, [nc]]\n"
        ),
    )
    w(
        r / "ultralytics/cfg/trackers/botsort.yaml",
        "tracker_type: botsort\ntrack_high_thresh: 0.25\n",
    )
    w(r / "models/common.py", "import torch\n")
    w(r / "models/__init__.py", "")
    w(r / "train.py", "import argparse\n")
    w(r / "data/hyps/hyp.scratch-low.yaml", "lr0: 0.01\nmomentum: 0.937\n")
    w(
        r / "data/coco128.yaml",
        (
            "path: ../datasets/coco128\ntrain: images/train2017\nval: images/train2017\nnames:\n"
            "  0: person\n  1: bicycle\ndownload: https://ultralytics.com/assets/coco128.zip\n"
        ),
    )
    w(r / "data/images/bus.jpg", JPG)
    w(r / "data/images/zidane.jpg", JPG)
    w(r / "data/scripts/get_coco.sh", "#!/bin/bash\n")
    w(r / "utils/docker/Dockerfile", "FROM python:3.11\n")
    w(r / "requirements.txt", "torch>=1.8.0\nnumpy>=1.23.5\n")
    w(
        r / "pyproject.toml",
        '[project]\nname = "yolov5"\nversion = "7.0"\ndependencies = ["torch>=1.8"]\n',
    )
    w(r / "setup.cfg", "[metadata]\nname = yolov5\n[flake8]\nmax-line-length = 120\n")
    w(
        r / ".pre-commit-config.yaml",
        (
            "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v4.5.0\n"
            "    hooks:\n      - id: end-of-file-fixer\n"
        ),
    )
    w(
        r / ".github/workflows/ci-testing.yml",
        (
            "name: YOLOv5 CI\non: [push]\njobs:\n  tests:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - run: python train.py --epochs 1\n"
        ),
    )
    w(
        r / ".github/dependabot.yml",
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n",
    )
    w(r / ".github/ISSUE_TEMPLATE/config.yml", "blank_issues_enabled: true\ncontact_links: []\n")
    w(r / "CITATION.cff", "cff-version: 1.2.0\n")
    w(r / "README.md", "# YOLOv5\n\n![bus](data/images/bus.jpg)\n")
    w(r / "tests/fixtures/tiny.onnx", b"\x08\x07\x12\x07pytorch")
    w(r / "tests/data/sample.csv", "a,b\n1,2\n")
    w(r / "tests/test_train.py", "def test_x():\n    pass\n")


def docs_site(r: Path) -> None:
    """Documentation sites: MkDocs, Read the Docs, Hugo, Docusaurus, Jekyll."""
    w(
        r / "mkdocs.yml",
        (
            "site_name: Docs\nnav:\n  - Home: index.md\ntheme:\n  name: material\nplugins:\n"
            "  - search\n"
        ),
    )
    w(r / "docs/index.md", "# Home\n")
    w(r / "docs/assets/logo.png", PNG)
    w(r / "docs/images/architecture.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    w(r / "docs/config/settings.yaml", "theme: dark\nsidebar: true\n")
    w(
        r / ".readthedocs.yaml",
        (
            "version: 2\nbuild:\n  os: ubuntu-22.04\n  tools:\n    python: '3.11'\nmkdocs:\n"
            "  configuration: mkdocs.yml\n"
        ),
    )
    # Hugo site
    w(r / "site/hugo.yaml", "baseURL: https://example.org/\ntitle: Site\n")
    w(r / "site/config/_default/params.yaml", "description: My site\nshowReadingTime: true\n")
    w(r / "site/config/_default/menus.yaml", "main:\n  - name: Docs\n    url: /docs/\n")
    w(r / "site/config/_default/hugo.yaml", "languageCode: en-us\n")
    w(r / "site/data/authors.yaml", "alice:\n  name: Alice\n")
    w(r / "site/content/_index.md", "# Welcome\n")
    w(r / "site/static/images/hero.jpg", JPG)
    w(r / "website/docusaurus.config.js", "module.exports = {title: 'x'};\n")
    w(
        r / "website/package.json",
        json.dumps(
            {"name": "website", "version": "1.0.0", "dependencies": {"@docusaurus/core": "3.0.0"}}
        ),
    )
    w(r / "website/static/img/favicon.ico", b"\x00\x00\x01\x00")
    w(r / "_config.yml", "title: Jekyll\ntheme: minima\n")
    w(r / "_data/navigation.yml", "- title: Home\n  url: /\n")


def ci_heavy(r: Path) -> None:
    """A repository that is mostly CI configuration."""
    w(
        r / ".github/workflows/ci.yml",
        (
            "name: CI\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - uses: actions/checkout@v4\n"
        ),
    )
    w(
        r / ".github/workflows/release.yaml",
        "name: release\non:\n  release:\n    types: [published]\njobs: {}\n",
    )
    w(
        r / ".github/actions/setup/action.yml",
        "name: setup\nruns:\n  using: composite\n  steps: []\n",
    )
    w(
        r / ".gitlab-ci.yml",
        "default:\n  image: python:3.11\nstages: [test]\ntest:\n  script: [pytest]\n",
    )
    w(
        r / ".circleci/config.yml",
        "version: 2.1\njobs:\n  build:\n    docker:\n      - image: cimg/python:3.11\n",
    )
    w(r / "azure-pipelines.yml", "trigger: [main]\npool:\n  vmImage: ubuntu-latest\n")
    w(
        r / "codecov.yml",
        "coverage:\n  status:\n    project:\n      default:\n        target: 80%\n",
    )
    w(r / ".codecov.yml", "comment: false\n")
    w(
        r / "docker-compose.yml",
        "services:\n  app:\n    image: app:latest\n    environment:\n      - DEBUG=1\n",
    )
    w(r / "environment.yml", "name: dev\ndependencies:\n  - python=3.11\n  - numpy=1.26.0\n")
    w(r / ".travis.yml", "language: python\n")
    w(r / "tox.ini", "[tox]\nenvlist = py311\n")
    w(r / ".github/configs/labeler.yml", "documentation:\n  - docs/**\n")
    w(r / ".github/workflows/hypothesis.yml", "name: hypothesis\non: [push]\njobs: {}\n")
    w(r / ".github/workflows/params-check.yml", "name: params\non: [push]\njobs: {}\n")
    w(r / ".github/workflows/data.yaml", "name: data\non: [push]\njobs: {}\n")
    w(r / ".github/workflows/dataset.yml", "name: dataset\non: [push]\njobs: {}\n")
    w(r / ".github/workflows/eval.json", "{}")
    w(r / ".gitlab/ci/params.yml", "variables:\n  X: 1\n")
    w(r / "docs/datasets.yml", "nav: []\n")
    w(r / "deploy/helm/values.yaml", "replicaCount: 1\nimage:\n  repository: app\n")
    w(
        r / "deploy/k8s/config/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n",
    )
    w(
        r / "config/database.yml",
        "default: &default\n  adapter: postgresql\ndevelopment:\n  <<: *default\n",
    )


def package(r: Path) -> None:
    """A package: npm, Cargo and Python manifests, an MLproject, test fixtures."""
    w(
        r / "package.json",
        json.dumps({"name": "pkg", "version": "2.0.0", "dependencies": {"left-pad": "^1.3.0"}}),
    )
    w(
        r / "package-lock.json",
        json.dumps(
            {
                "name": "pkg",
                "version": "2.0.0",
                "lockfileVersion": 3,
                "packages": {"": {"name": "pkg"}, "node_modules/left-pad": {"version": "1.3.0"}},
            }
        ),
    )
    w(r / "tsconfig.json", json.dumps({"compilerOptions": {"target": "es2020"}}))
    w(r / "config.json", json.dumps({"port": 8080, "debug": False}))
    w(r / "src/config.json", json.dumps({"apiUrl": "https://example.org"}))
    w(r / "Cargo.toml", '[package]\nname = "pkg"\nversion = "0.1.0"\n[dependencies]\nserde = "1"\n')
    w(r / "src/lib.rs", "pub fn f() {}\n")
    w(r / "python/pyproject.toml", '[project]\nname = "pkg-py"\nversion = "0.1"\n')
    w(r / "python/setup.cfg", "[metadata]\nname = pkg-py\n")
    w(
        r / "MLproject",
        (
            "name: pkg\nentry_points:\n  main:\n    parameters:\n"
            "      alpha: {type: float, default: 0.5}\n"
            '    command: "python train.py --alpha {alpha}"\n'
        ),
    )
    w(r / "train.py", "print('train')\n")
    w(r / "tests/fixtures/data.json", json.dumps({"rows": [1, 2]}))
    w(r / "tests/fixtures/config.yaml", "defaults:\n  - db: mysql\n")
    w(r / "tests/fixtures/db/mysql.yaml", "host: localhost\n")
    w(r / "__tests__/fixtures/sample.csv", "x,y\n1,2\n")
    w(r / "test/data/example.parquet", b"PAR1\x00\x00PAR1")
    w(r / "CHANGELOG.md", "# 2.0.0\n")
    w(r / "docs/diagram.png", PNG)
    w(r / "assets/icon.jpg", JPG)
    w(r / "LICENSE", "MIT\n")


REPOSITORIES: tuple[tuple[str, Callable[[Path], None]], ...] = (
    ("yolo", yolo_like),
    ("docs", docs_site),
    ("ci", ci_heavy),
    ("pkg", package),
)
