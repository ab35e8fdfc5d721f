"""Build the CycloneDX document from an Inventory.

cyclonedx-python-lib builds everything it has classes for (metadata, components, hashes,
licences, evidence, properties, dependencies); `mlbom.py` then adds `modelCard`, component `data`
and `formulation` to the JSON, which the library cannot express. The result is validated by the
caller before anything is written.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from typing import Any

from unified_supply_chain import __version__
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.records import (
    Artifact,
    ArtifactKind,
    Inventory,
    Library,
    Storage,
    finding_to_json,
)

TOOL_NAME = "unified-supply-chain"
TOOL_URL = "https://github.com/org/unified-supply-chain"


def clean_text(value: str) -> str:
    """Make surrogate-escaped (non-UTF-8) names printable and JSON-safe."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def clean_strings(value: Any, redacted: list[tuple[str, tuple[str, ...]]] | None = None) -> Any:
    """Every string of a JSON value made printable (`clean_text`) and free of credentials.

    The one place where the document's text is redacted (`redact.redact_urls` and
    `redact.redact_found`: URL credentials, credential-shaped values anywhere). Each redaction
    is appended to `redacted` as (where, kinds): a readable location such as
    `components[model:m.pt].properties[usc:hyperparameter:aws.key_id].value`, never the value.
    """
    from unified_supply_chain.redact import redact_found, redact_urls

    found: list[tuple[str, tuple[str, ...]]] = [] if redacted is None else redacted

    def walk(node: Any, where: tuple[Any, ...]) -> Any:
        if isinstance(node, str):
            text, kinds = redact_found(redact_urls(clean_text(node)))
            if kinds:
                found.append((_location(where), kinds))
            return text
        if isinstance(node, dict):
            return {clean_text(k): walk(v, (*where, clean_text(k))) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*where, (v, i))) for i, v in enumerate(node)]
        return node

    return walk(value, ())


def _location(where: tuple[Any, ...]) -> str:
    """A readable JSON location: `.key` for object members; a list item by its bom-ref or name
    (itself redacted), else its index. Built only when something was redacted."""
    from unified_supply_chain.redact import redact_text

    out = []
    for step in where:
        if isinstance(step, str):
            out.append(f".{step}")
            continue
        item, index = step
        label = str(index)
        if isinstance(item, dict):
            name = item.get("bom-ref", item.get("name"))
            if isinstance(name, str):
                label = redact_text(clean_text(name))[:120]
        out.append(f"[{label}]")
    return "".join(out).lstrip(".") or "(document)"


def app_ref(inventory: Inventory) -> str:
    """bom-ref of the application component."""
    return f"app:{clean_text(inventory.root_name)}"


def _timestamp(reproducible: bool) -> datetime.datetime:
    if reproducible:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "0").strip() or "0"
        try:
            seconds = int(epoch)
        except ValueError:
            seconds = 0
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return datetime.datetime.now(tz=datetime.timezone.utc).replace(microsecond=0)


def _props(pairs: Iterable[tuple[str, str]]) -> list[Any]:
    from cyclonedx.model import Property

    return [Property(name=clean_text(n), value=clean_text(v)) for n, v in pairs]


def _hashes(artifact_hashes: Iterable[Any]) -> list[Any]:
    from cyclonedx.model import HashAlgorithm, HashType

    algs = {
        "SHA-256": HashAlgorithm.SHA_256,
        "MD5": HashAlgorithm.MD5,
        "SHA-512": HashAlgorithm.SHA_512,
        "SHA-1": HashAlgorithm.SHA_1,
        "SHA-384": HashAlgorithm.SHA_384,
    }
    out = []
    seen = set()
    for h in artifact_hashes:
        alg = algs.get(h.alg)
        if alg is None or (h.alg, h.content) in seen:
            continue
        seen.add((h.alg, h.content))
        out.append(HashType(alg=alg, content=h.content))
    return out


def _licenses(names: Iterable[str]) -> list[Any]:
    from cyclonedx.contrib.license.factories import LicenseFactory

    factory = LicenseFactory()
    out = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        try:
            out.append(factory.make_from_string(name))
        except Exception:  # noqa: BLE001 - an odd licence string must not fail the run
            from cyclonedx.model.license import DisjunctiveLicense

            out.append(DisjunctiveLicense(name=clean_text(name)))
    # Expressions and single licences cannot be mixed in one `licenses` array.
    from cyclonedx.model.license import LicenseExpression

    if any(isinstance(lic, LicenseExpression) for lic in out) and len(out) > 1:
        from cyclonedx.model.license import DisjunctiveLicense

        out = [
            DisjunctiveLicense(name=clean_text(str(getattr(lic, "value", lic))))
            if isinstance(lic, LicenseExpression)
            else lic
            for lic in out
        ]
    return out


def artifact_properties(a: Artifact) -> list[tuple[str, str]]:
    """All `usc:*` properties of an artifact's component, in a stable order."""
    pairs: list[tuple[str, str]] = [(Prop.KIND.value, a.kind.value)]
    if a.path is not None:
        pairs.append((Prop.PATH.value, a.path))
    if a.format:
        pairs.append((Prop.FORMAT.value, a.format))
    pairs.append((Prop.STORAGE.value, a.storage.value))
    if not a.content_present:
        pairs.append((Prop.CONTENT_PRESENT.value, "false"))
    if a.size is not None:
        pairs.append((Prop.SIZE.value, str(a.size)))
    for h in a.hashes:
        if h.source != "computed":
            pairs.append((Prop.HASH_SOURCE.key(h.alg), h.source))
    header = a.header
    if header is not None:
        if header.architecture:
            pairs.append((Prop.ARCHITECTURE.value, header.architecture))
        if header.parameter_count is not None:
            pairs.append((Prop.PARAMETER_COUNT.value, str(header.parameter_count)))
        if header.rows is not None:
            pairs.append((Prop.ROWS.value, str(header.rows)))
        if header.columns is not None:
            pairs.append((Prop.COLUMNS.value, str(header.columns)))
        for k in sorted(header.properties):
            if k in ("rows", "columns", "parameter_count", "architecture"):
                continue  # already first-class properties above
            pairs.append((Prop.HEADER.key(k), str(header.properties[k])[:4096]))
    pairs.extend(a.extra_properties)
    for w in a.warnings:
        pairs.append((Prop.WARNING.value, w))
    pairs.extend((Prop.FINDING.value, finding_to_json(f)) for f in a.findings)
    return pairs


def _artifact_component(a: Artifact) -> Any:
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence

    ctype = (
        ComponentType.MACHINE_LEARNING_MODEL if a.kind is ArtifactKind.MODEL else ComponentType.DATA
    )
    evidence = None
    if a.path is not None:
        # A composed config is found at each file it was composed from (`usc:config:source`).
        locations = dict.fromkeys(
            [a.path, *(v for k, v in a.extra_properties if k == Prop.CONFIG_SOURCE.value)]
        )
        evidence = ComponentEvidence(
            occurrences=[Occurrence(location=clean_text(loc)) for loc in locations]
        )
    purl = None
    if a.purl:
        from packageurl import PackageURL

        purl = PackageURL.from_string(a.purl)
    nested = []
    if len(a.files) > 1 or (a.files and a.files[0][0] != a.path):
        from cyclonedx.model import HashAlgorithm, HashType

        for fpath, fsize, fsha in a.files:
            nested.append(
                Component(
                    type=ComponentType.FILE,
                    name=clean_text(fpath),
                    bom_ref=f"file:{clean_text(fpath)}",
                    hashes=[HashType(alg=HashAlgorithm.SHA_256, content=fsha)] if fsha else [],
                    properties=_props(
                        [(Prop.PATH.value, fpath), (Prop.SIZE.value, str(fsize))]
                        + (
                            [(Prop.FILE_STORAGE.value, Storage.GIT_LFS_POINTER.value)]
                            if fpath in a.pointer_files
                            else []
                        )
                    ),
                )
            )
    return Component(
        type=ctype,
        name=clean_text(a.name),
        version=a.version,
        bom_ref=clean_text(a.ref),
        hashes=_hashes(a.hashes),
        licenses=_licenses(a.licenses),
        description=clean_text(a.description) if a.description else None,
        purl=purl,
        evidence=evidence,
        properties=_props(artifact_properties(a)),
        components=nested,
    )


def _library_component(lib: Library) -> Any:
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from packageurl import PackageURL

    props = [(Prop.SOURCE.value, lib.source)]
    if not lib.direct:
        props.append((Prop.DEPENDENCY.value, "transitive"))
    return Component(
        type=ComponentType.LIBRARY,
        name=clean_text(lib.name),
        version=lib.version,
        bom_ref=clean_text(lib.purl),
        purl=PackageURL.from_string(lib.purl),
        hashes=_hashes(lib.hashes),
        licenses=_licenses(lib.licenses),
        scope=ComponentScope.OPTIONAL if lib.scope == "optional" else None,
        properties=_props(props),
    )


def serial_for(document_seed: str) -> uuid.UUID:
    """Serial number derived from content, for reproducible documents."""
    return uuid.UUID(hashlib.sha256(document_seed.encode("utf-8")).hexdigest()[:32], version=4)


def _indexed_bom() -> Any:
    """A cyclonedx-python-lib `Bom` whose `register_dependency` finds a target by a dict lookup.

    The library's own scans every registered dependency per call, and its JSON output calls it
    once per component: quadratic (25 M comparisons, over a minute, for 5,000 libraries). The
    method is replaced on the instance: a subclass would not be serialised by the library.
    """
    import types

    from cyclonedx.model.bom import Bom
    from cyclonedx.model.dependency import Dependency

    bom = Bom()
    index: dict[str, Any] = {}

    def register_dependency(self: Any, target: Any, depends_on: Any = None) -> None:
        deps = list(depends_on) if depends_on else []
        key = target.bom_ref.value
        found = index.get(key)
        if found is None:
            found = Dependency(
                ref=target.bom_ref, dependencies=[Dependency(ref=d.bom_ref) for d in deps]
            )
            self._dependencies.add(found)
            index[key] = found
        elif deps:
            found.dependencies.update(Dependency(ref=d.bom_ref) for d in deps)
        for d in deps:
            self.register_dependency(d)

    bom.register_dependency = types.MethodType(register_dependency, bom)  # type: ignore[method-assign]
    return bom


def build_core(
    inventory: Inventory,
    *,
    spec_version: str,
    reproducible: bool,
    metadata_properties: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Everything the library can express, as a JSON-ready dict."""
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    bom = _indexed_bom()
    bom.metadata.timestamp = _timestamp(reproducible)
    bom.metadata.tools.components.add(
        Component(
            type=ComponentType.APPLICATION,
            name=TOOL_NAME,
            version=__version__,
            group="unified-supply-chain",
        )
    )
    app = Component(
        type=ComponentType.APPLICATION,
        name=clean_text(inventory.root_name),
        version=inventory.root_version,
        bom_ref=app_ref(inventory),
    )
    bom.metadata.component = app
    meta_props = list(metadata_properties)
    if meta_props:
        bom.metadata.properties.update(_props(meta_props))

    by_ref: dict[str, Any] = {}
    for a in inventory.artifacts:
        comp = _artifact_component(a)
        by_ref[a.ref] = comp
        bom.components.add(comp)
    for lib in inventory.libraries:
        if lib.purl in by_ref:
            continue
        comp = _library_component(lib)
        by_ref[lib.purl] = comp
        bom.components.add(comp)

    # Lineage: application -> models, libraries (direct), and everything else reachable.
    depended: dict[str, set[str]] = {}
    for e in inventory.edges:
        if e.ref in by_ref and e.depends_on in by_ref and e.ref != e.depends_on:
            depended.setdefault(e.ref, set()).add(e.depends_on)
    for lib in inventory.libraries:
        for dep in lib.depends_on:
            if dep in by_ref and dep != lib.purl:
                depended.setdefault(lib.purl, set()).add(dep)
    app_deps = [by_ref[a.ref] for a in inventory.artifacts if a.kind is ArtifactKind.MODEL]
    app_deps += [
        by_ref[lib.purl] for lib in inventory.libraries if lib.direct and lib.purl in by_ref
    ]
    # Datasets and parameter sets nobody depends on still belong to the application.
    used = {d for deps in depended.values() for d in deps}
    app_deps += [
        by_ref[a.ref]
        for a in inventory.artifacts
        if a.kind is not ArtifactKind.MODEL and a.ref not in used
    ]
    bom.register_dependency(app, app_deps)
    for ref, deps in sorted(depended.items()):
        bom.register_dependency(by_ref[ref], [by_ref[d] for d in sorted(deps)])

    if reproducible:
        seed = json.dumps(
            [
                inventory.root_name,
                [a.ref for a in inventory.artifacts],
                [[h.content for h in a.hashes] for a in inventory.artifacts],
                [lib.purl for lib in inventory.libraries],
            ],
        )
        bom.serial_number = serial_for(seed)
    outputter = make_outputter(bom, OutputFormat.JSON, SchemaVersion.from_version(spec_version))
    # The library warns about components without dependencies on a stray logger; silence it.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = outputter.output_as_string()
    document: dict[str, Any] = json.loads(text)
    # The schema accepts a document without components: make sure the library wrote them all.
    written = len(document.get("components", []))
    if written != len(by_ref):
        from unified_supply_chain.errors import ValidationError

        raise ValidationError(f"{len(by_ref)} components built, {written} serialised")
    return document
