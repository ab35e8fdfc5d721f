"""`usc` command line. The only module that exits or turns errors into exit codes.

Sub-commands live in `unified_supply_chain.commands.<name>`; each module exposes
`configure(parser)` (cheap: argparse only) and `run(args) -> int` (imports what it needs lazily),
so `usc --help` stays fast.

Exit codes (documented in the README):
  0  success (nothing to report)
  1  a result that is not an error: policy failure at --fail-on, differences found by `diff`,
     nothing found by `trace`
  2  usage error: a bad argument, option or input value
  3  runtime error: unreadable input, unwritable output, bad merge input, GitHub API failure
  4  internal error: a bug (for example a document that fails schema validation)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from unified_supply_chain import __version__

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_ERROR = 3
EXIT_BUG = 4

#: name -> (module under unified_supply_chain.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "sbom": ("sbom", "write a CycloneDX ML-BOM of a repository"),
    "diff": ("diff", "compare two SBOMs (or directories / git refs), ML-aware"),
    "check": ("check", "publish the SBOM diff and policy findings as a GitHub Check Run"),
    "record": ("record", "write a training record (inputs, parameters, outputs, run)"),
    "gate": ("gate", "gate a metrics file on thresholds and regressions"),
    "trace": ("trace", "find which SBOM component a model file or digest is, and its lineage"),
    "submit-dependencies": ("submit", "post the SBOM to GitHub's dependency submission API"),
    "validate": ("validate", "validate a CycloneDX JSON document against the official schema"),
    "action": ("action", "entry point of the composite action (reads INPUT_* variables)"),
}


def _fatal(message: str, code: int = EXIT_ERROR) -> NoReturn:
    from unified_supply_chain import console

    console.say(f"usc: error: {message}")
    raise SystemExit(code)


class _Parser(argparse.ArgumentParser):
    """argparse's printing through `console`: its errors quote the arguments given."""

    def print_help(self, file: object = None) -> None:
        """The help text: ours, so only control characters are escaped (nothing redacted, so
        `usc --help` loads no redaction patterns)."""
        from unified_supply_chain import console

        to_stdout = file is None or file is console.stream("out")
        console.write(self.format_help(), "out" if to_stdout else "err", redact=False)

    def _print_message(self, message: str, file: object = None) -> None:
        from unified_supply_chain import console

        if message:
            console.write(message, "out" if file is console.stream("out") else "err")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The `usc` parser. Given `argv`, only the sub-command it names is configured (the others
    are listed by name and help only), so one run imports one command module, not all of them."""
    parser = _Parser(
        prog="usc",
        description="unified-supply-chain: ML models, datasets and hyperparameters in your SBOM.",
    )
    parser.add_argument("--version", action="version", version=f"usc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    for name, (module_name, help_text) in COMMANDS.items():
        if argv is not None and name != wanted:
            sub.add_parser(name, help=help_text, description=help_text)
            continue
        module = importlib.import_module(f"unified_supply_chain.commands.{module_name}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(p)
        p.set_defaults(_module=module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from unified_supply_chain.errors import (
        MergeError,
        OutputError,
        PolicyError,
        UsageError,
        UscError,
        ValidationError,
    )

    if argv is None:  # the real command line, not a call from Python
        from unified_supply_chain import console

        console.install_excepthook()
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        from unified_supply_chain import console

        parser.print_help(console.stream("err"))
        return EXIT_USAGE
    module = importlib.import_module(f"unified_supply_chain.commands.{args._module}")
    try:
        return int(module.run(args))
    except UsageError as exc:
        _fatal(str(exc), EXIT_USAGE)
    except ValidationError as exc:
        _fatal(f"internal error, the document is not valid CycloneDX: {exc}", EXIT_BUG)
    except (MergeError, OutputError, PolicyError) as exc:
        _fatal(str(exc), EXIT_ERROR)
    except UscError as exc:
        _fatal(str(exc), EXIT_ERROR)
    except KeyboardInterrupt:
        _fatal("interrupted", 130)
    except BrokenPipeError:
        # stdout closed early (e.g. `usc diff ... | head`): not an error worth a traceback.
        from unified_supply_chain import console

        console.discard_stdout()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
