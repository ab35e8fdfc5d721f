"""Hydra composition order (`usc:config:source`) and packages, checked against Hydra's own examples.

Sources:
- https://hydra.cc/docs/advanced/defaults_list/ (facebookresearch/hydra
  `website/docs/advanced/defaults_list.md`): the `server/apache` example and its
  `--info defaults` table (Final Defaults List: server/db/mysql, server/apache, config),
  "Overriding Config Group options", "Composition order" (`_self_` first / last), the Hydra 1.4
  slash-option shorthand (`foo: bar/baz` is `foo/bar: baz`, package `foo.bar`).
- https://hydra.cc/docs/advanced/overriding_packages/ (`server/apache@admin`, `db@backup`;
  priority: Defaults List package > `# @package` header > default package).
- facebookresearch/hydra `hydra/_internal/defaults_list.py` (`_create_defaults_tree_impl` walks
  each list in reverse and registers overrides as it meets them, so a later config's override
  applies to earlier group defaults; `_validate_self` appends a missing `_self_`;
  `ensure_overrides_used` refuses an override that matches nothing) and
  `hydra/core/default_element.py` (`_get_final_package`, `get_override_key`).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_file
from unified_supply_chain.sources.hydra import compose_hydra, final_package, override_key


def _apache(root: Path, config: str) -> None:
    write_file(root / "conf/config.yaml", config)
    write_file(root / "conf/server/apache.yaml", "defaults:\n  - db: mysql\n\nname: apache\n")
    write_file(root / "conf/server/db/mysql.yaml", "name: mysql\n")
    write_file(root / "conf/server/db/sqlite.yaml", "name: sqlite\n")


def test_docs_example_final_defaults_list(tmp_path: Path) -> None:
    _apache(tmp_path, "defaults:\n  - server/apache\n\ndebug: false\n")
    result = compose_hydra(tmp_path, "conf/config.yaml")
    assert result.sources == (
        "conf/server/db/mysql.yaml",
        "conf/server/apache.yaml",
        "conf/config.yaml",
    )
    assert dict(result.params) == {
        "server.db.name": "mysql",
        "server.name": "apache",
        "debug": "false",
    }
    assert result.warnings == ()


def test_docs_override_of_a_nested_group(tmp_path: Path) -> None:
    _apache(
        tmp_path, "defaults:\n  - server/apache\n  - override server/db: sqlite\n\ndebug: false\n"
    )
    result = compose_hydra(tmp_path, "conf/config.yaml")
    assert result.sources == (
        "conf/server/db/sqlite.yaml",
        "conf/server/apache.yaml",
        "conf/config.yaml",
    )
    assert dict(result.params)["server.db.name"] == "sqlite"
    assert result.warnings == ()


def test_self_first_puts_the_primary_first(tmp_path: Path) -> None:
    write_file(
        tmp_path / "conf/config.yaml",
        "defaults:\n  - _self_\n  - db: mysql\n\ndb:\n  host: backup\n",
    )
    write_file(tmp_path / "conf/db/mysql.yaml", "driver: mysql\nhost: localhost\nport: 3306\n")
    result = compose_hydra(tmp_path, "conf/config.yaml")
    assert result.sources == ("conf/config.yaml", "conf/db/mysql.yaml")
    assert dict(result.params) == {"db.host": "localhost", "db.driver": "mysql", "db.port": "3306"}
    write_file(tmp_path / "conf/config.yaml", "defaults:\n  - db: mysql\n\ndb:\n  host: backup\n")
    last = compose_hydra(tmp_path, "conf/config.yaml")
    assert last.sources == ("conf/db/mysql.yaml", "conf/config.yaml")
    assert dict(last.params)["db.host"] == "backup"


def test_docs_packages_relocate_the_subtree(tmp_path: Path) -> None:
    write_file(
        tmp_path / "conf/config.yaml", "defaults:\n  - server/apache@admin\n\ndebug: false\n"
    )
    write_file(
        tmp_path / "conf/server/apache.yaml", "defaults:\n - db@backup: mysql\n\nname: apache\n"
    )
    write_file(tmp_path / "conf/server/db/mysql.yaml", "# @package elsewhere\nname: mysql\n")
    result = compose_hydra(tmp_path, "conf/config.yaml")
    # The Defaults List package wins over the file's `# @package` header.
    assert dict(result.params) == {
        "admin.backup.name": "mysql",
        "admin.name": "apache",
        "debug": "false",
    }
    assert result.sources == (
        "conf/server/db/mysql.yaml",
        "conf/server/apache.yaml",
        "conf/config.yaml",
    )


def test_experiment_overrides_an_earlier_group_and_header_package(tmp_path: Path) -> None:
    # The lightning-hydra-template pattern: `experiment/*.yaml` is `# @package _global_` and
    # overrides `/model`; it comes later in the list, so the reverse walk applies it first.
    write_file(
        tmp_path / "configs/train.yaml",
        "defaults:\n  - _self_\n  - model: resnet\n  - trainer: default\n  - experiment: fast\n"
        "seed: 1\n",
    )
    write_file(tmp_path / "configs/model/resnet.yaml", "lr: 0.1\ndepth: 50\n")
    write_file(tmp_path / "configs/model/vit.yaml", "lr: 0.001\npatch: 16\n")
    write_file(tmp_path / "configs/trainer/default.yaml", "max_epochs: 10\n")
    write_file(
        tmp_path / "configs/experiment/fast.yaml",
        "# @package _global_\ndefaults:\n  - override /model: vit\n\ntrainer:\n  max_epochs: 1\n"
        "seed: 7\n",
    )
    result = compose_hydra(tmp_path, "configs/train.yaml")
    assert result.sources == (
        "configs/train.yaml",
        "configs/model/vit.yaml",
        "configs/trainer/default.yaml",
        "configs/experiment/fast.yaml",
    )
    assert dict(result.params) == {
        "seed": "7",
        "model.lr": "0.001",
        "model.patch": "16",
        "trainer.max_epochs": "1",
    }
    assert result.warnings == ()


def test_slash_option_list_options_null_and_unused_override(tmp_path: Path) -> None:
    write_file(
        tmp_path / "conf/config.yaml",
        "defaults:\n  - foo: bar/baz\n  - db@dbs.src: mysql\n  - db@dbs.dst: mysql\n"
        "  - callbacks: [early, ckpt]\n  - logger: null\n  - override nothing: here\n",
    )
    write_file(tmp_path / "conf/foo/bar/baz.yaml", "x: 1\n")
    write_file(tmp_path / "conf/db/mysql.yaml", "port: 3306\n")
    write_file(tmp_path / "conf/callbacks/early.yaml", "patience: 3\n")
    write_file(tmp_path / "conf/callbacks/ckpt.yaml", "every: 100\n")
    result = compose_hydra(tmp_path, "conf/config.yaml")
    assert dict(result.params) == {
        "foo.bar.x": "1",
        "dbs.src.port": "3306",
        "dbs.dst.port": "3306",
        "callbacks.patience": "3",
        "callbacks.every": "100",
    }
    # One entry per use in the Final Defaults List; `members` names each file once.
    assert result.sources == (
        "conf/foo/bar/baz.yaml",
        "conf/db/mysql.yaml",
        "conf/db/mysql.yaml",
        "conf/callbacks/early.yaml",
        "conf/callbacks/ckpt.yaml",
        "conf/config.yaml",
    )
    assert result.members == (
        "conf/foo/bar/baz.yaml",
        "conf/db/mysql.yaml",
        "conf/callbacks/early.yaml",
        "conf/callbacks/ckpt.yaml",
        "conf/config.yaml",
    )
    assert result.warnings == (
        "conf/config.yaml: override of 'nothing' matches no earlier default",
    )


def test_final_package_and_override_key_follow_default_element() -> None:
    assert final_package("", None, "server/db") == "server.db"
    assert final_package("server", "backup", "db") == "server.backup"
    assert final_package("server", "_here_", "db") == "server"
    assert final_package("a.b", "_global_.x", "db") == "x"
    assert final_package("a.b", "_global_", "db") == ""
    assert override_key("server/db", "server.db") == "server/db"
    assert override_key("db", "dbs.src") == "db@dbs.src"
    assert override_key("db", "") == "db@_global_"


def test_hydra_settings_group_is_a_source_but_not_a_parameter(tmp_path: Path) -> None:
    write_file(tmp_path / "conf/config.yaml", "defaults:\n  - hydra: default\n  - _self_\nlr: 1\n")
    write_file(tmp_path / "conf/hydra/default.yaml", "run:\n  dir: outputs\n")
    result = compose_hydra(tmp_path, "conf/config.yaml")
    assert result.params == (("lr", "1"),)
    assert result.sources == ("conf/hydra/default.yaml", "conf/config.yaml")
