"""The `usc` command table: every listed command is a module of the package that configures and
runs, so a command can never silently vanish from `usc --help` (its import is not guarded)."""

from __future__ import annotations

import argparse
import importlib

import pytest

from unified_supply_chain import cli


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_command_module_imports_and_configures(name: str) -> None:
    module_name, _help = cli.COMMANDS[name]
    module = importlib.import_module(f"unified_supply_chain.commands.{module_name}")
    assert callable(module.run)
    parser = cli.build_parser([name])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    configured = sub.choices[name]
    # The named command is configured by its module: it has options beyond -h (the action's
    # entry point reads INPUT_* variables instead), and knows its module.
    assert len(configured._actions) > (0 if name == "action" else 1)
    assert configured.get_default("_module") == module_name


def test_listing_without_argv_names_every_command() -> None:
    parser = cli.build_parser([])
    help_text = parser.format_help()
    for name in cli.COMMANDS:
        assert name in help_text
