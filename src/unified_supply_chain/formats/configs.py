"""Configuration files by naming convention: hyperparameters, manifests, lineage records, cards.

None of these is recognised by content; each is read by its source under `sources/`, chosen by
the spec's `role`. Name patterns are tried in the order of this tuple (a `*.training-record.json`
is a training record before it is a `*metrics*.json`).
"""

from __future__ import annotations

import re

from unified_supply_chain.formats import DirectoryModelSpec, FormatSpec, Kind, PathRule, Role
from unified_supply_chain.formats._names import suffix

_CONFIG_DIRS = frozenset({"conf", "config", "configs"})


#: Directories of CI services' own configuration (GitHub Actions, GitLab CI, CircleCI, Buildkite,
#: Azure Pipelines): a `hypothesis.yml` workflow or a `params.yml` CI include there is not ML.
CI_DIRS = frozenset({".github", ".gitlab", ".circleci", ".buildkite", ".azure-pipelines"})
#: Hugo's configuration directory `config/<environment>/` (`config/_default/params.toml` is the
#: site's `.Site.Params`, https://gohugo.io/getting-started/configuration/#configuration-directory).
_HUGO_ENVIRONMENTS = frozenset({"_default", "production", "staging", "development"})


def is_non_ml_config_dir(parents: list[str]) -> bool:
    """Whether files in this directory (lower-case parts) configure CI or a Hugo site: their
    names (`params.yaml`, `hyp*.yml`, `data.yaml`) say nothing about hyperparameters or data."""
    if parents and parents[0] in CI_DIRS:
        return True
    return len(parents) >= 2 and parents[-2] == "config" and parents[-1] in _HUGO_ENVIRONMENTS


def in_requirements_dir(name: str, parents: list[str]) -> bool:
    """`requirements/*.txt`."""
    return suffix(name) == ".txt" and bool(parents) and parents[-1] == "requirements"


def in_config_dir(name: str, parents: list[str]) -> bool:
    """YAML under a `conf/`, `config/` or `configs/` directory (Hydra's layout)."""
    return suffix(name) in (".yaml", ".yml") and bool(_CONFIG_DIRS.intersection(parents))


def is_dataset_builder_script(name: str, parents: list[str]) -> bool:
    """A `datasets` loading script named after its directory (`squad/squad.py`), or a TFDS
    builder (`<name>_dataset_builder.py`, as `tfds new` writes it)."""
    if suffix(name) != ".py":
        return False
    stem = name[: -len(".py")]
    return stem.endswith("_dataset_builder") or (bool(parents) and parents[-1] == stem)


def _kedro_conf_rule(prefix: str) -> PathRule:
    """Kedro's config patterns `<prefix>*`, `<prefix>*/**`, `**/<prefix>*` inside an environment
    directory of `conf/` (kedro/config/omegaconf_config.py)."""

    def rule(name: str, parents: list[str]) -> bool:
        if suffix(name) not in (".yaml", ".yml") or "conf" not in parents:
            return False
        below = parents[len(parents) - parents[::-1].index("conf") :]
        if not below:
            return False  # conf/<file>: no environment, not read by Kedro
        return name.startswith(prefix) or (len(below) > 1 and below[1].startswith(prefix))

    rule.__doc__ = f"`conf/<env>/{prefix}*.yml`, `conf/<env>/{prefix}*/**.yml`, ...: Kedro."
    return rule


in_kedro_catalog = _kedro_conf_rule("catalog")
in_kedro_parameters = _kedro_conf_rule("parameters")


def in_dataset_yaml_dir(name: str, parents: list[str]) -> bool:
    """YAML directly in a `data/` or `datasets/` directory (YOLO: `data/coco128.yaml`,
    `ultralytics/cfg/datasets/coco8.yaml`); confirmed by content at inspection."""
    return (
        suffix(name) in (".yaml", ".yml")
        and bool(parents)
        and parents[-1]
        in (
            "data",
            "datasets",
        )
    )


_LIGHTNING_VERSION = re.compile(r"version_\d+")
_WANDB_RUN = re.compile(r"(?:offline-)?run-\d{8}_\d{6}-[^/]+")


def in_lightning_log_dir(parents: list[str]) -> bool:
    """A Lightning logger's `log_dir`: `<save_dir>/<name>/version_<n>` (the version may be a
    string when the name is the default `lightning_logs`); lightning/pytorch/loggers/csv_logs.py
    and tensorboard.py `log_dir`."""
    if not parents:
        return False
    return bool(_LIGHTNING_VERSION.fullmatch(parents[-1])) or (
        len(parents) > 1 and parents[-2] == "lightning_logs"
    )


def is_lightning_hparams(name: str, parents: list[str]) -> bool:
    """`hparams.yaml` in a Lightning log directory (`NAME_HPARAMS_FILE`)."""
    return name == "hparams.yaml" and in_lightning_log_dir(parents)


def is_lightning_metrics(name: str, parents: list[str]) -> bool:
    """`metrics.csv` in a Lightning log directory (CSVLogger's `NAME_METRICS_FILE`)."""
    return name == "metrics.csv" and in_lightning_log_dir(parents)


def in_wandb_run_files(parents: list[str]) -> bool:
    """`wandb/run-<YYYYmmdd_HHMMSS>-<id>/files/` (wandb/sdk/wandb_settings.py `sync_dir`,
    `files_dir`; `wandb` or `.wandb` per wandb/sdk/lib/filenames.py `WANDB_DIRS`)."""
    return (
        len(parents) >= 3
        and parents[-1] == "files"
        and bool(_WANDB_RUN.fullmatch(parents[-2]))
        and parents[-3] in ("wandb", ".wandb")
    )


def is_wandb_config(name: str, parents: list[str]) -> bool:
    """A W&B run's `config.yaml` (`CONFIG_FNAME`)."""
    return name == "config.yaml" and in_wandb_run_files(parents)


def is_wandb_summary(name: str, parents: list[str]) -> bool:
    """A W&B run's `wandb-summary.json` (`SUMMARY_FNAME`)."""
    return name == "wandb-summary.json" and in_wandb_run_files(parents)


def is_wandb_metadata(name: str, parents: list[str]) -> bool:
    """A W&B run's `wandb-metadata.json` (`METADATA_FNAME`)."""
    return name == "wandb-metadata.json" and in_wandb_run_files(parents)


def _config(format_id: str, role: Role, description: str, **kwargs: object) -> FormatSpec:
    return FormatSpec(
        id=format_id,
        kind=Kind.CONFIG,
        role=role,
        description=description,
        **kwargs,  # type: ignore[arg-type]
    )


SPECS = (
    _config(
        "training-record",
        Role.TRAINING_RECORD,
        "training-record.json / *.training-record.json",
        names=("training-record.json",),
        name_patterns=(r".*\.training-record\.json",),
    ),
    _config(
        "params-yaml",
        Role.HYPERPARAMETERS,
        "params*.yaml / params*.yml",
        name_patterns=(r"params[^/]*\.ya?ml",),
    ),
    _config(
        "hyp-yaml",
        Role.HYPERPARAMETERS,
        "hyp*.yaml / hyp*.yml",
        name_patterns=(r"hyp[^/]*\.ya?ml",),
    ),
    _config(
        "dataset-descriptor",
        Role.DESCRIPTOR,
        "*.dataset.yaml, dataset(s).yaml, data.yaml",
        names=(
            "dataset.yaml",
            "dataset.yml",
            "datasets.yaml",
            "datasets.yml",
            "data.yaml",
            "data.yml",
        ),
        name_patterns=(r".*\.dataset\.ya?ml",),
    ),
    _config(
        "frictionless-datapackage",
        Role.DESCRIPTOR,
        "datapackage.json / datapackage.yaml (Frictionless Data Package)",
        names=("datapackage.json", "datapackage.yaml", "datapackage.yml"),
    ),
    _config(
        "croissant",
        Role.DESCRIPTOR,
        "croissant.json, *.croissant.json, croissant*.jsonld (MLCommons Croissant; other JSON-LD "
        "*.json files are recognised by content during inspection)",
        names=("croissant.json", "croissant.jsonld"),
        name_patterns=(r".*[._-]croissant\.json(ld)?",),
    ),
    _config(
        "dataset-builder-script",
        Role.DESCRIPTOR,
        "<name>/<name>.py, *_dataset_builder.py (datasets / TFDS builder scripts, read with ast)",
        path_rules=(is_dataset_builder_script,),
    ),
    _config(
        "requirements",
        Role.LIBRARIES,
        "requirements*.txt, requirements/*.txt",
        name_patterns=(r"requirements[^/]*\.txt",),
        path_rules=(in_requirements_dir,),
    ),
    _config(
        "metrics-json",
        Role.METRICS,
        "metrics.json, *metrics*.json, eval*.json, evaluation*.json",
        names=("metrics.json",),
        name_patterns=(r"(.*metrics.*|eval.*|evaluation.*)\.json",),
    ),
    _config("dvc-file", Role.LINEAGE, "*.dvc", name_patterns=(r".*\.dvc",)),
    _config("dvc-yaml", Role.LINEAGE, "dvc.yaml", names=("dvc.yaml", "dvc.yml")),
    _config("dvc-lock", Role.LINEAGE, "dvc.lock", names=("dvc.lock",)),
    _config("mlproject", Role.LINEAGE, "MLproject", names=("mlproject",)),
    _config("mlmodel", Role.LINEAGE, "MLmodel", names=("mlmodel",)),
    _config(
        "tensorboard-events",
        Role.LINEAGE,
        "events.out.tfevents.* (TensorBoard event files; hparams sessions by content)",
        name_patterns=(r"events\.out\.tfevents\..*",),
    ),
    _config(
        "lightning-hparams",
        Role.HYPERPARAMETERS,
        "hparams.yaml in a Lightning log directory (lightning_logs/version_<n>/)",
        path_rules=(is_lightning_hparams,),
    ),
    _config(
        "lightning-metrics",
        Role.METRICS,
        "metrics.csv in a Lightning log directory (CSVLogger)",
        path_rules=(is_lightning_metrics,),
    ),
    _config(
        "wandb-config",
        Role.HYPERPARAMETERS,
        "config.yaml of a Weights & Biases run (wandb/run-<date>_<time>-<id>/files/)",
        path_rules=(is_wandb_config,),
    ),
    _config(
        "wandb-summary",
        Role.METRICS,
        "wandb-summary.json of a Weights & Biases run",
        path_rules=(is_wandb_summary,),
    ),
    _config(
        "wandb-metadata",
        Role.LINEAGE,
        "wandb-metadata.json of a Weights & Biases run (program, git commit)",
        path_rules=(is_wandb_metadata,),
    ),
    _config(
        "kedro-catalog",
        Role.DESCRIPTOR,
        "conf/<env>/catalog*.yml, conf/<env>/catalog*/**.yml (Kedro data catalog)",
        path_rules=(in_kedro_catalog,),
    ),
    _config(
        "kedro-parameters",
        Role.HYPERPARAMETERS,
        "conf/<env>/parameters*.yml, conf/<env>/parameters*/**.yml (Kedro parameters)",
        path_rules=(in_kedro_parameters,),
    ),
    _config(
        "hydra-config",
        Role.HYPERPARAMETERS,
        "*.yaml / *.yml under a conf/, config/ or configs/ directory",
        path_rules=(in_config_dir,),
    ),
    _config(
        "yolo-dataset",
        Role.DESCRIPTOR,
        "Ultralytics/YOLO dataset YAML (`names` and `train`/`val`), by content; data/*.yaml",
        path_rules=(in_dataset_yaml_dir,),
    ),
    _config(
        "hf-config",
        Role.HYPERPARAMETERS,
        "config.json (a hyperparameter set inside a Hugging Face model directory)",
        names=("config.json",),
    ),
    _config("pyproject", Role.LIBRARIES, "pyproject.toml", names=("pyproject.toml",)),
    _config("lockfile-poetry", Role.LIBRARIES, "poetry.lock", names=("poetry.lock",)),
    _config("lockfile-uv", Role.LIBRARIES, "uv.lock", names=("uv.lock",)),
    _config("lockfile-pipfile", Role.LIBRARIES, "Pipfile.lock", names=("pipfile.lock",)),
    _config(
        "conda-env",
        Role.LIBRARIES,
        "environment.yml / environment.yaml / conda.yaml",
        names=("environment.yml", "environment.yaml", "conda.yaml", "conda.yml"),
    ),
    _config("lockfile-npm", Role.LIBRARIES, "package-lock.json", names=("package-lock.json",)),
    _config(
        "model-card",
        Role.CARD,
        "README.md, MODEL_CARD.md, model_card.md",
        names=("readme.md", "model_card.md"),
    ),
)

DIRECTORY_MODELS = (
    DirectoryModelSpec(id="mlflow-model", markers=("MLmodel",)),
    DirectoryModelSpec(
        id="huggingface",
        markers=("config.json",),
        recursive=False,
        accept="unified_supply_chain.sources.cards.huggingface:is_hf_model_dir",
    ),
)
