"""Digests onto artifacts: a file's SHA-256, a directory model's manifest digest, and the MD5 of
files whose MD5 a DVC record declares."""

from __future__ import annotations

import dataclasses

from unified_supply_chain import limits
from unified_supply_chain.hashing.digests import HashResult
from unified_supply_chain.inspection.state import ScanState
from unified_supply_chain.records import Artifact, Hash


def with_hashes(a: Artifact, hashed: dict[str, HashResult]) -> Artifact:
    """The artifact with the digests of its bytes, or warnings where they could not be read."""
    if not a.content_present and not a.pointer_files:
        return a
    if a.files:
        files: list[tuple[str, int, str | None]] = []
        warnings = list(a.warnings)
        import hashlib

        combined = hashlib.sha256()
        complete = True
        for path, size, declared in a.files:
            r = hashed.get(path)
            if path in a.pointer_files and declared is not None:
                r = HashResult(path=path, size=size, sha256=declared)
            if r is None or r.sha256 is None:
                complete = False
                files.append((path, size, None))
                if r is not None and r.error:
                    warnings.append(f"{path}: cannot read: {r.error}")
                continue
            if r.changed:
                warnings.append(f"{path}: changed while it was being hashed")
            files.append((path, r.size, r.sha256))
            # Members below the artifact's path are named relative to it; the files a dataset
            # declaration names (its path is the declaring file) keep their repo-relative path.
            inside = bool(a.path) and path.startswith(f"{a.path}/")
            combined.update(
                f"{r.sha256}  {path[len(a.path or '') :].lstrip('/') if inside else path}\n".encode(
                    "utf-8", "surrogateescape"
                )
            )
        # A directory's digest: SHA-256 over the sorted "sha256  relative-path" lines (like a
        # sha256sum manifest), so the same tree always gives the same digest.
        hashes = a.hashes + (
            (Hash("SHA-256", combined.hexdigest(), "directory-manifest"),)
            if complete and files
            else ()
        )
        return dataclasses.replace(
            a,
            files=tuple(files),
            hashes=hashes,
            size=sum(f[1] for f in files),
            warnings=tuple(warnings),
        )
    r = hashed.get(a.path or "")
    if r is None:
        return a
    if r.sha256 is None:
        return dataclasses.replace(a, warnings=a.warnings + (f"cannot read: {r.error}",))
    changed = ("changed while it was being hashed; digest and size are of the bytes read",)
    return dataclasses.replace(
        a,
        hashes=(Hash("SHA-256", r.sha256),) + a.hashes,
        size=r.size,
        warnings=a.warnings + (changed if r.changed else ()),
    )


def with_declared_md5(st: ScanState) -> list[Artifact]:
    """Files whose MD5 a DVC record declares get their own MD5 computed (up to a size cap), so a
    stale record is reported by lineage instead of passing off an old digest as the content's."""
    import hashlib

    declared = {
        d.path for c in st.contributions for d in c.declared for h in d.hashes if h.alg == "MD5"
    }
    out = []
    for a in st.artifacts:
        entry = st.by_path.get(a.path or "")
        if (
            a.path in declared
            and entry is not None
            and a.content_present
            and entry.size <= limits.MAX_MD5_VERIFY_BYTES
        ):
            md5 = hashlib.md5(usedforsecurity=False)
            try:
                with open(st.abs(a.path), "rb") as fh:
                    for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                        md5.update(chunk)
            except OSError:
                out.append(a)
                continue
            a = dataclasses.replace(a, hashes=a.hashes + (Hash("MD5", md5.hexdigest()),))
        out.append(a)
    return out
