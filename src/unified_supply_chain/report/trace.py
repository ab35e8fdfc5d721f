"""`usc trace` answers: a human text block per match, or the JSON document."""

from __future__ import annotations

import json
from dataclasses import dataclass

from unified_supply_chain.compare.trace import TraceMatch
from unified_supply_chain.report.interface import Report


@dataclass(frozen=True)
class TraceAnswer:
    """What `usc trace` found for one target."""

    target: str
    """The file or digest as given."""
    digest: str
    """Its lower-case SHA-256."""
    sboms_searched: tuple[str, ...]
    """The SBOM files read."""
    matches: tuple[TraceMatch, ...]
    """Matching components, newest SBOM first."""


def _fmt_hashes(hashes: list[dict[str, str]]) -> str:
    return ", ".join(f"{h['alg'].lower().replace('-', '')}:{h['content']}" for h in hashes)


def render_text(target: str, digest: str, matches: list[TraceMatch]) -> str:
    """A human answer: one block per match."""
    lines = [f"{target}  sha256:{digest}"]
    for m in matches:
        c = m.component
        lines.append("")
        what = f"{c.get('name')}" + (f" {c['version']}" if c.get("version") else "")
        lines.append(f"component        {what} ({c.get('kind') or c.get('type')})")
        if c.get("path"):
            lines.append(f"  path           {c['path']}")
        if c.get("format"):
            lines.append(f"  format         {c['format']}")
        if c.get("matched_file"):
            lines.append(
                f"  matched file   {c['matched_file'].get('path') or c['matched_file'].get('name')}"
            )
        release = m.sbom["release"]
        rel = " ".join(str(x) for x in (release.get("name"), release.get("version")) if x)
        lines.append(f"release          {rel or '(unnamed)'}")
        lines.append(f"  SBOM           {m.sbom['file']}")
        lines.append(f"  serial         {m.sbom.get('serialNumber')}")
        lines.append(f"  timestamp      {m.sbom.get('timestamp')}")
        lines.append(f"commit           {m.commit or '(not recorded)'}")
        if m.run:
            where = m.run.get("url") or m.run.get("run-id") or ""
            event = f" ({m.run['event']})" if m.run.get("event") else ""
            lines.append(f"run              {where}{event}".rstrip())
            if m.run.get("workflow-ref"):
                lines.append(f"  workflow       {m.run['workflow-ref']}")
        for t in m.training:
            span = " → ".join(x for x in (t.get("time_start"), t.get("time_end")) if x)
            lines.append(f"trained by       task {t.get('task')} in {t.get('workflow')}")
            for cmd in t.get("commands") or []:
                lines.append(f"  command        {cmd}")
            if span:
                lines.append(f"  time           {span}")
        if m.datasets:
            lines.append("datasets")
            for d in m.datasets:
                lines.append(f"  {d.get('path') or d.get('name')}")
                if d.get("hashes"):
                    lines.append(f"    {_fmt_hashes(d['hashes'])}")
        else:
            lines.append("datasets         (none recorded)")
        sets = [h for h in m.hyperparameters if h.get("bom-ref")]
        # The model card mirrors the sets' values: show it only when no set is recorded.
        for h in sets or m.hyperparameters:
            lines.append(f"hyperparameters  {h.get('path') or h.get('name')}")
            for k, v in h.get("values", {}).items():
                lines.append(f"  {k} = {v}")
        if not m.hyperparameters:
            for t in m.training:
                if t.get("parameters"):
                    lines.append(f"hyperparameters  task {t.get('task')}")
                for k, v in t.get("parameters", {}).items():
                    lines.append(f"  {k} = {v}")
        if m.metrics:
            lines.append("metrics")
            for metric in m.metrics:
                sl = f" [{metric['slice']}]" if metric.get("slice") else ""
                lines.append(f"  {metric['type']} = {metric['value']}{sl}")
    return "\n".join(lines) + "\n"


class TraceText(Report[TraceAnswer]):
    """The human answer ("" when nothing matched: the command says so on stderr)."""

    def format(self, result: TraceAnswer) -> str:
        """One block per match."""
        if not result.matches:
            return ""
        return render_text(result.target, result.digest, list(result.matches))


class TraceJson(Report[TraceAnswer]):
    """The answer as an indented JSON document."""

    def format(self, result: TraceAnswer) -> str:
        """target, sha256, found, sboms_searched and every match."""
        answer = {
            "target": result.target,
            "sha256": result.digest,
            "found": bool(result.matches),
            "sboms_searched": list(result.sboms_searched),
            "matches": [m.to_json() for m in result.matches],
        }
        return json.dumps(answer, indent=2) + "\n"
