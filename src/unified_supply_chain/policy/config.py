"""The policy file: rules, severities, allow-lists, thresholds and `fail-on`.

Secure defaults: without a policy file, or with one that does not set `fail-on`, a finding of
severity high or above fails (`DEFAULT_FAIL_ON`); only an explicit `fail-on: none` never fails.
Every command (`usc sbom`, `usc check`, the action) takes its fallback from here.

The YAML is composed to nodes (not loaded straight to Python values) so that every error names
the file and the line of the offending key or value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, PolicyError
from unified_supply_chain.records import Severity, parse_severity

#: Where the policy file lives by default, relative to the repository root.
DEFAULT_POLICY_PATHS = (".github/unified-supply-chain.yml", ".github/unified-supply-chain.yaml")

#: The least severity that fails a run when neither the policy file nor an option says otherwise.
DEFAULT_FAIL_ON = Severity.HIGH
#: The rule a pull request that changes the policy file is reported under (policy/base_ref.py).
POLICY_CHANGED = "policy-changed"

#: Rule id -> default severity (None: keep the severity each finding was raised with).
RULE_DEFAULTS: dict[str, Severity | None] = {
    "unsafe-serialization": None,
    "suspicious-chat-template": None,
    "model-without-licence": Severity.MEDIUM,
    "dataset-without-licence": Severity.LOW,
    "model-without-lineage": Severity.LOW,
    "artifact-without-content": Severity.HIGH,
    "large-binary-not-in-lfs": Severity.MEDIUM,
    "metric-threshold": Severity.HIGH,
    POLICY_CHANGED: Severity.HIGH,
}
#: One line of help per rule (SARIF rule descriptions, the example policy).
RULE_HELP: dict[str, str] = {
    "unsafe-serialization": "A model file can execute code when it is loaded (pickle globals, "
    "Keras Lambda layers) or read files outside its directory (ONNX external data). Prefer "
    "safetensors or ONNX, or allow-list the globals you trust.",
    "suspicious-chat-template": "A GGUF chat template reaches for Python internals "
    "(template injection when rendered by a Jinja engine).",
    "model-without-licence": "A model has no licence (or one outside the allowed list).",
    "dataset-without-licence": "A dataset has no licence (or one outside the allowed list).",
    "model-without-lineage": "A model has no recorded link to the datasets it was trained on.",
    "artifact-without-content": "An LFS pointer or DVC output is listed but its content is not "
    "in the checkout, so it was not hashed or scanned.",
    "large-binary-not-in-lfs": "A large model or dataset is committed to git itself instead of "
    "Git LFS or DVC.",
    "metric-threshold": "A model metric is missing or outside its threshold.",
    POLICY_CHANGED: "The pull request changes the policy file. The check applies the base "
    "commit's policy; the change governs later checks once merged, so it needs a review.",
}
_COMPARISON = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(-?\d+(\.\d+)?([eE][-+]?\d+)?)\s*$")
_SIZE = re.compile(r"^\s*(\d+(\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
DEFAULT_LARGE_BINARY = 50 * 1000**2


@dataclass(frozen=True)
class Threshold:
    """One metric threshold, e.g. accuracy >= 0.9."""

    metric: str
    """Metric type as the model card names it (compared case-insensitively)."""
    op: str
    """One of >=, >, <=, <, ==, !=."""
    value: float
    """The bound."""

    def holds(self, actual: float) -> bool:
        """True when `actual` satisfies the threshold."""
        return {
            ">=": actual >= self.value,
            ">": actual > self.value,
            "<=": actual <= self.value,
            "<": actual < self.value,
            "==": actual == self.value,
            "!=": actual != self.value,
        }[self.op]

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class RuleConfig:
    """Settings of one rule."""

    enabled: bool = True
    """False turns the rule off."""
    severity: Severity | None = None
    """Severity of its findings; None keeps each finding's own (or the rule default)."""
    paths: tuple[str, ...] = ()
    """Globs of repo-relative paths this rule ignores."""
    allow_globals: tuple[str, ...] = ()
    """unsafe-serialization: pickle globals (fnmatch patterns, `module.name`) that are accepted."""
    allowed_licences: tuple[str, ...] = ()
    """*-without-licence: when set, a licence outside this list is a finding too."""
    required: bool = False
    """artifact-without-content: absent content is a finding only when required."""
    threshold: int = DEFAULT_LARGE_BINARY
    """large-binary-not-in-lfs: size in bytes above which a git-stored artifact is a finding."""
    metrics: tuple[Threshold, ...] = ()
    """metric-threshold: the thresholds every model (matching `models`) must meet."""
    models: tuple[str, ...] = ()
    """metric-threshold: globs of model paths or names the thresholds apply to (empty = all)."""


@dataclass(frozen=True)
class Policy:
    """A loaded policy: which rules run, how severe they are, and when the run fails."""

    rules: dict[str, RuleConfig] = field(default_factory=dict)
    """Rule id -> settings; rules absent here run with their defaults."""
    fail_on: Severity | None = DEFAULT_FAIL_ON
    """Fail (exit 1) when a finding is at least this severe; None (`fail-on: none`) never fails."""
    allow_paths: tuple[str, ...] = ()
    """Globs of repo-relative paths every rule ignores."""
    source: str | None = None
    """The policy file it was read from; None for the built-in defaults."""

    def rule(self, rule_id: str) -> RuleConfig:
        """Settings of `rule_id` (defaults when the file does not mention it)."""
        return self.rules.get(rule_id, RuleConfig())


def parse_size(value: object) -> int:
    """Bytes from an int or a text such as "50MB" / "1.5GiB"; raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("a size is a number of bytes or a text like 50MB")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            unit = (match.group(3) or "B").lower()
            return int(float(match.group(1)) * _SIZE_UNITS[unit])
    raise ValueError(f"bad size {value!r} (a number of bytes or a text like 50MB)")


def parse_threshold(metric: str, text: object) -> Threshold:
    """A threshold from text such as ">=0.9" (a bare number means >=)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Threshold(metric, ">=", float(text))
    if isinstance(text, str):
        match = _COMPARISON.match(text)
        if match:
            return Threshold(metric, match.group(1), float(match.group(2)))
    raise ValueError(f'bad threshold {text!r} for {metric!r} (e.g. ">=0.9" or "<0.2")')


# --- Node-level parsing with line numbers. -----------------------------------------------------


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node | None, message: str) -> PolicyError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return PolicyError(f"{self.source}{line}: {message}")

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, "expected a single value")
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, f"bad value: {exc}") from exc
        finally:
            loader.dispose()

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"keys of {what} must be text")
            if key in seen:
                raise self.fail(key_node, f"duplicate key {key!r} in {what}")
            seen.add(key)
            out.append((key, key_node, value_node))
        return out

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.scalar(node)
        if not isinstance(value, bool):
            raise self.fail(node, f"{key} must be true or false")
        return value

    def strings(self, node: yaml.Node, key: str) -> tuple[str, ...]:
        if isinstance(node, yaml.ScalarNode):
            value = self.scalar(node)
            if isinstance(value, str):
                return (value,)
            raise self.fail(node, f"{key} must be a list of text values")
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{key} must be a list of text values")
        out: list[str] = []
        for item in node.value:
            value = self.scalar(item)
            if not isinstance(value, str) or not value:
                raise self.fail(item, f"{key} must be a list of text values")
            out.append(value)
        return tuple(out)

    def severity(self, node: yaml.Node, key: str) -> Severity | None:
        value = self.scalar(node)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(node, f"{key} must be a severity name")
        try:
            return parse_severity(value)
        except ValueError as exc:
            raise self.fail(node, str(exc)) from exc

    def rule(self, rule_id: str, node: yaml.Node) -> RuleConfig:
        if isinstance(node, yaml.ScalarNode):
            # `rule: false` / `rule: true` / `rule: high` are shorthands.
            value = self.scalar(node)
            if isinstance(value, bool):
                return RuleConfig(enabled=value)
            if isinstance(value, str):
                return RuleConfig(severity=self.severity(node, rule_id))
            raise self.fail(node, f"rule {rule_id!r} must be a mapping, true/false or a severity")
        settings: dict[str, Any] = {}
        allowed = {"enabled", "severity", "paths"}
        allowed |= {
            "unsafe-serialization": {"allow-globals"},
            "model-without-licence": {"allowed-licences", "allowed-licenses"},
            "dataset-without-licence": {"allowed-licences", "allowed-licenses"},
            "artifact-without-content": {"required"},
            "large-binary-not-in-lfs": {"threshold"},
            "metric-threshold": {"metrics", "models"},
        }.get(rule_id, set())
        for key, key_node, value_node in self.mapping(node, f"rule {rule_id!r}"):
            if key not in allowed:
                raise self.fail(
                    key_node,
                    f"unknown setting {key!r} for rule {rule_id!r} "
                    f"(allowed: {', '.join(sorted(allowed))})",
                )
            if key in ("enabled", "required"):
                settings[key] = self.boolean(value_node, key)
            elif key == "severity":
                settings["severity"] = self.severity(value_node, key)
            elif key == "paths":
                settings["paths"] = self.strings(value_node, key)
            elif key == "allow-globals":
                settings["allow_globals"] = self.strings(value_node, key)
            elif key in ("allowed-licences", "allowed-licenses"):
                settings["allowed_licences"] = self.strings(value_node, key)
            elif key == "models":
                settings["models"] = self.strings(value_node, key)
            elif key == "threshold":
                try:
                    settings["threshold"] = parse_size(self.scalar(value_node))
                except ValueError as exc:
                    raise self.fail(value_node, str(exc)) from exc
            elif key == "metrics":
                thresholds: list[Threshold] = []
                for metric, _m_node, t_node in self.mapping(value_node, "metrics"):
                    try:
                        thresholds.append(parse_threshold(metric, self.scalar(t_node)))
                    except ValueError as exc:
                        raise self.fail(t_node, str(exc)) from exc
                settings["metrics"] = tuple(thresholds)
        return RuleConfig(**settings)

    def policy(self, root: yaml.Node | None) -> Policy:
        if root is None:
            return Policy(source=self.source)
        rules: dict[str, RuleConfig] = {}
        fail_on: Severity | None = DEFAULT_FAIL_ON
        allow_paths: tuple[str, ...] = ()
        for key, key_node, value_node in self.mapping(root, "the policy"):
            if key == "version":
                if self.scalar(value_node) != 1:
                    raise self.fail(value_node, "unsupported policy version (only 1 is known)")
            elif key == "fail-on":
                # An empty `fail-on:` keeps the default; only an explicit none/never/off
                # turns failing off.
                if self.scalar(value_node) is not None:
                    fail_on = self.severity(value_node, "fail-on")
            elif key == "allow":
                for a_key, a_key_node, a_value in self.mapping(value_node, "allow"):
                    if a_key != "paths":
                        raise self.fail(a_key_node, f"unknown allow-list {a_key!r} (use paths)")
                    allow_paths = self.strings(a_value, "allow.paths")
            elif key == "rules":
                for rule_id, r_key_node, r_value in self.mapping(value_node, "rules"):
                    if rule_id not in RULE_DEFAULTS:
                        raise self.fail(
                            r_key_node,
                            f"unknown rule {rule_id!r} (known: {', '.join(RULE_DEFAULTS)})",
                        )
                    rules[rule_id] = self.rule(rule_id, r_value)
            else:
                raise self.fail(
                    key_node, f"unknown key {key!r} (use version, fail-on, allow, rules)"
                )
        return Policy(rules=rules, fail_on=fail_on, allow_paths=allow_paths, source=self.source)


def parse_policy(text: str, source: str) -> Policy:
    """Parse policy YAML text; `source` names the file in error messages."""
    parser = _Parser(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"{source}{where}: invalid YAML: {problem}") from exc
    return parser.policy(root)


def load_policy(path: Path | None, root: Path) -> Policy:
    """The policy at `path` (relative paths are taken from `root`), or the default file under
    `root` (.github/unified-supply-chain.yml), or the built-in defaults when there is none.
    """
    from unified_supply_chain.safeparse import read_text_bounded

    if path is None:
        for candidate in DEFAULT_POLICY_PATHS:
            if (root / candidate).is_file():
                path = root / candidate
                break
        else:
            return Policy()
    elif not path.is_absolute() and not path.exists():
        path = root / path
    if not path.is_file():
        raise PolicyError(f"{path}: policy file not found")
    try:
        text = read_text_bounded(path, limits.MAX_TEXT_PARSE)
    except FormatError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    return parse_policy(text, str(path))
