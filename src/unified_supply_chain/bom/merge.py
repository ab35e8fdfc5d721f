"""Merge CycloneDX JSON SBOMs written by other tools (syft, cdxgen, ...) into our document.

Rules:
- every input must be CycloneDX JSON, spec 1.4 to 1.7, within the size cap; anything else is a
  `MergeError` naming the file;
- their components (nested ones flattened to the top level) are de-duplicated against ours and
  against each other by purl (canonical form), then by (type, group, name, version); a duplicate
  keeps the first component and only adds the hash algorithms and licences it lacks;
- components taken in get bom-refs prefixed with a short id of the input's content (stable across
  runs), and their `dependencies` follow through the map of old to new refs, so edges to a dropped
  duplicate land on the kept component and dependsOn lists are merged as a union;
- their `metadata.component` is never added as a second application: its ref maps to ours;
- fields the target spec version does not know are pruned from the components taken in, by
  checking them against the official schema of that version (`schema_prune.py`).
Services, compositions, vulnerabilities and annotations of the inputs are not merged.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from unified_supply_chain import limits, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.bom.schema_prune import prune_to_schema
from unified_supply_chain.errors import FormatError, MergeError

#: Spec versions we accept as input.
INPUT_VERSIONS = ("1.4", "1.5", "1.6", "1.7")


def _canonical_purl(purl: object) -> str | None:
    if not isinstance(purl, str) or not purl.startswith("pkg:"):
        return None
    from packageurl import PackageURL

    try:
        return str(PackageURL.from_string(purl).to_string())
    except ValueError:
        return purl


def _identity(component: dict[str, Any]) -> tuple[str, str, str, str] | None:
    name = component.get("name")
    if not isinstance(name, str):
        return None
    return (
        str(component.get("type", "")),
        str(component.get("group") or ""),
        name,
        str(component.get("version") or ""),
    )


def _walk(components: object) -> Iterator[dict[str, Any]]:
    """Every component of a list, nested ones included (depth first)."""
    stack = list(reversed(components)) if isinstance(components, list) else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            children = item.get("components")
            if isinstance(children, list):
                stack.extend(reversed(children))


def _load(path: Path) -> tuple[dict[str, Any], bytes]:
    try:
        with path.open("rb") as fh:
            data = fh.read(limits.MAX_MERGE_BYTES + 1)
    except OSError as exc:
        raise MergeError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > limits.MAX_MERGE_BYTES:
        raise MergeError(f"{path}: larger than {limits.MAX_MERGE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MergeError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    try:
        doc = safeparse.loads_json(text)
    except FormatError as exc:
        raise MergeError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise MergeError(f"{path}: not a CycloneDX JSON SBOM (no bomFormat 'CycloneDX')")
    version = doc.get("specVersion")
    if version not in INPUT_VERSIONS:
        raise MergeError(
            f"{path}: CycloneDX specVersion {version!r} is not supported "
            f"(accepted: {', '.join(INPUT_VERSIONS)})"
        )
    components = doc.get("components", [])
    if not isinstance(components, list):
        raise MergeError(f"{path}: `components` is not a list")
    return doc, data


class _Merger:
    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document
        self.target = str(document.get("specVersion", "1.6"))
        components = document.setdefault("components", [])
        if not isinstance(components, list):
            raise MergeError("our document's `components` is not a list")
        self.components: list[dict[str, Any]] = components
        self.refs: set[str] = set()
        self.by_purl: dict[str, dict[str, Any]] = {}
        self.by_identity: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        meta = document.get("metadata")
        app = meta.get("component") if isinstance(meta, dict) else None
        self.app_ref: str | None = app.get("bom-ref") if isinstance(app, dict) else None
        if self.app_ref:
            self.refs.add(self.app_ref)
        for c in _walk(components):
            self._index(c)

    def _index(self, c: dict[str, Any]) -> None:
        ref = c.get("bom-ref")
        if isinstance(ref, str):
            self.refs.add(ref)
        purl = _canonical_purl(c.get("purl"))
        if purl is not None:
            self.by_purl.setdefault(purl, c)
        ident = _identity(c)
        if ident is not None:
            self.by_identity.setdefault(ident, c)

    def _unindex(self, c: dict[str, Any]) -> None:
        ref = c.get("bom-ref")
        if isinstance(ref, str):
            self.refs.discard(ref)
        purl = _canonical_purl(c.get("purl"))
        if purl is not None and self.by_purl.get(purl) is c:
            del self.by_purl[purl]
        ident = _identity(c)
        if ident is not None and self.by_identity.get(ident) is c:
            del self.by_identity[ident]

    def _find(self, c: dict[str, Any]) -> dict[str, Any] | None:
        purl = _canonical_purl(c.get("purl"))
        if purl is not None and purl in self.by_purl:
            return self.by_purl[purl]
        ident = _identity(c)
        if ident is not None and ident in self.by_identity:
            kept = self.by_identity[ident]
            theirs_purl = purl
            kept_purl = _canonical_purl(kept.get("purl"))
            # Same name and version but two different purls are two packages (pypi vs npm).
            if theirs_purl is None or kept_purl is None or theirs_purl == kept_purl:
                return kept
        return None

    def _unique_ref(self, wanted: str) -> str:
        ref, n = wanted, 1
        while ref in self.refs:
            n += 1
            ref = f"{wanted}#{n}"
        self.refs.add(ref)
        return ref

    @staticmethod
    def _enrich(kept: dict[str, Any], theirs: dict[str, Any]) -> None:
        """Add the hash algorithms and licences only `theirs` has to `kept`."""
        their_hashes = theirs.get("hashes")
        if isinstance(their_hashes, list):
            ours = kept.setdefault("hashes", [])
            algs = {h.get("alg") for h in ours if isinstance(h, dict)}
            for h in their_hashes:
                if isinstance(h, dict) and h.get("alg") not in algs and "content" in h:
                    ours.append(copy.deepcopy(h))
                    algs.add(h.get("alg"))
            if not ours:
                kept.pop("hashes")
        their_lic = theirs.get("licenses")
        if isinstance(their_lic, list) and their_lic:
            ours_lic = kept.get("licenses")
            if not ours_lic:
                kept["licenses"] = copy.deepcopy(their_lic)
            elif all("license" in x for x in ours_lic + their_lic if isinstance(x, dict)):
                # Expressions cannot be combined with other entries: only plain licences are added.
                seen = {json.dumps(x, sort_keys=True) for x in ours_lic}
                for x in their_lic:
                    if json.dumps(x, sort_keys=True) not in seen:
                        ours_lic.append(copy.deepcopy(x))

    def merge(self, path: Path) -> None:
        doc, raw = _load(path)
        short = hashlib.sha256(raw).hexdigest()[:10]
        prefix = f"merged-{short}"
        ref_map: dict[str, str] = {}
        meta = doc.get("metadata")
        their_app = meta.get("component") if isinstance(meta, dict) else None
        flat: list[dict[str, Any]] = []
        if isinstance(their_app, dict):
            if isinstance(their_app.get("bom-ref"), str) and self.app_ref:
                ref_map[their_app["bom-ref"]] = self.app_ref
            flat.extend(_walk(their_app.get("components")))
        flat.extend(_walk(doc.get("components")))
        if len(flat) > limits.MAX_MERGE_COMPONENTS:
            raise MergeError(f"{path}: more than {limits.MAX_MERGE_COMPONENTS} components")

        fresh: list[tuple[dict[str, Any], str | None]] = []
        for original in flat:
            their_ref = (
                original.get("bom-ref") if isinstance(original.get("bom-ref"), str) else None
            )
            kept = self._find(original)
            if kept is not None:
                self._enrich(kept, original)
                if their_ref is not None and isinstance(kept.get("bom-ref"), str):
                    ref_map[their_ref] = kept["bom-ref"]
                continue
            if _identity(original) is None:
                continue  # a component without a name is not a component
            c = {k: copy.deepcopy(v) for k, v in original.items() if k != "components"}
            label = their_ref or c.get("purl") or f"{c.get('type')}/{c['name']}@{c.get('version')}"
            c["bom-ref"] = self._unique_ref(f"{prefix}:{label}")
            if their_ref is not None:
                ref_map[their_ref] = c["bom-ref"]
            props = c.setdefault("properties", [])
            if isinstance(props, list):
                props.append({"name": Prop.SOURCE.value, "value": f"merge:{path.name}"})
            self._index(c)
            fresh.append((c, their_ref))

        self._merge_tools(doc.get("metadata"))
        taken = [c for c, _ in fresh]
        hopeless = prune_to_schema(taken, self.target)
        dropped_refs = {taken[i]["bom-ref"] for i in hopeless}
        self.components.extend(c for i, c in enumerate(taken) if i not in hopeless)
        for i in hopeless:
            self._unindex(taken[i])
        ref_map = {k: v for k, v in ref_map.items() if v not in dropped_refs}
        self._merge_dependencies(doc.get("dependencies"), ref_map)

    def _merge_tools(self, their_meta: object) -> None:
        """Record the tools that wrote an input (syft, cdxgen, ...) among our metadata.tools."""
        if not isinstance(their_meta, dict):
            return
        tools = their_meta.get("tools")
        if isinstance(tools, dict):
            entries = tools.get("components")
        else:
            # CycloneDX 1.4 listed tools as {vendor, name, version} objects.
            entries = [
                {
                    "type": "application",
                    "name": t.get("name"),
                    **({"version": t["version"]} if isinstance(t.get("version"), str) else {}),
                    **({"publisher": t["vendor"]} if isinstance(t.get("vendor"), str) else {}),
                }
                for t in (tools if isinstance(tools, list) else [])
                if isinstance(t, dict)
            ]
        meta = self.doc.setdefault("metadata", {})
        ours = meta.setdefault("tools", {})
        if not isinstance(ours, dict) or not isinstance(entries, list):
            return
        mine = ours.setdefault("components", [])
        seen = {(t.get("name"), t.get("version")) for t in mine if isinstance(t, dict)}
        wanted_keys = ("type", "group", "name", "version", "publisher", "description", "purl")
        candidates = [
            {k: t[k] for k in wanted_keys if isinstance(t.get(k), str)}
            for t in entries
            if isinstance(t, dict) and isinstance(t.get("name"), str)
        ]
        candidates = [t for t in candidates if (t["name"], t.get("version")) not in seen]
        for t in candidates:
            t.setdefault("type", "application")
        hopeless = prune_to_schema(candidates, self.target)
        for i, t in enumerate(candidates):
            key = (t["name"], t.get("version"))
            if i not in hopeless and key not in seen:
                seen.add(key)
                mine.append(t)

    def _merge_dependencies(self, theirs: object, ref_map: dict[str, str]) -> None:
        if not isinstance(theirs, list):
            return
        deps = self.doc.setdefault("dependencies", [])
        by_ref: dict[str, dict[str, Any]] = {
            d["ref"]: d for d in deps if isinstance(d, dict) and isinstance(d.get("ref"), str)
        }
        for entry in theirs:
            if not isinstance(entry, dict) or not isinstance(entry.get("ref"), str):
                continue
            if entry["ref"] not in ref_map:
                continue
            ref = ref_map[entry["ref"]]
            target = by_ref.get(ref)
            if target is None:
                target = {"ref": ref}
                deps.append(target)
                by_ref[ref] = target
            for key in ("dependsOn", "provides"):
                listed = entry.get(key)
                mapped = [
                    ref_map[r]
                    for r in (listed if isinstance(listed, list) else [])
                    if isinstance(r, str) and r in ref_map and ref_map[r] != ref
                ]
                if mapped:
                    existing = target.setdefault(key, [])
                    for r in mapped:
                        if r not in existing:
                            existing.append(r)


def merge_sboms(document: dict[str, Any], paths: Sequence[Path]) -> dict[str, Any]:
    """Merge the CycloneDX JSON files at `paths` into `document` (modified and returned).

    Raises MergeError naming the file when an input is unreadable, too big, not JSON, not
    CycloneDX or of an unsupported spec version.
    """
    merger = _Merger(document)
    for path in paths:
        merger.merge(Path(path))
    if not document["components"]:
        document.pop("components")
    return document
