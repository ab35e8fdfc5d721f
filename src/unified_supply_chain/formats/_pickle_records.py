"""What a walk of the pickle machine (formats._pickle) found: globals, calls, tensors, ending."""

from __future__ import annotations

from dataclasses import dataclass

from unified_supply_chain.formats._pickle_read import ByteRange


@dataclass(frozen=True)
class GlobalRef:
    """One reference to a global: GLOBAL, INST or STACK_GLOBAL."""

    module: str
    """Module name ("?" when the operands were not plain strings)."""
    name: str
    """Attribute name ("?" when unresolved)."""
    offset: int
    """Byte offset of the opcode in the stream."""
    opcode: str
    """GLOBAL, INST or STACK_GLOBAL."""

    @property
    def resolved(self) -> bool:
        """False when the operands were not plain strings (the import cannot be named)."""
        return not (self.module == "?" and self.name == "?")

    @property
    def dotted(self) -> str:
        """`module.name`, or "?" when unresolved."""
        return f"{self.module}.{self.name}" if self.resolved else "?"


@dataclass(frozen=True)
class CallSite:
    """A global called (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ) or built (BUILD on a bare global)."""

    module: str
    """Module of the callable."""
    name: str
    """Attribute name of the callable."""
    offset: int
    """Byte offset of the calling opcode."""
    opcode: str
    """The calling opcode."""


@dataclass(frozen=True)
class PickleWalk:
    """What one walk over one or more pickle streams found."""

    protocol: int
    """First PROTO argument, or the highest protocol of the opcodes seen when there is none."""
    opcodes: int
    """Opcodes walked (each fully read)."""
    globals: tuple[tuple[str, int], ...]
    """Referenced globals ("module.name" or "?", uses) in order of first appearance."""
    complete: bool
    """True when at least one stream reached STOP and the walk was not cut by the opcode cap."""
    end: int
    """Offset just after the last opcode walked (after STOP when complete)."""
    value: object
    """The last stream's top-level value when it is a plain int/str/bool/None, else None."""
    tensor_shapes: tuple[tuple[int, ...] | None, ...] = ()
    """Shape passed to each torch tensor rebuild call (None when not a literal tuple of ints)."""
    dtypes: tuple[str, ...] = ()
    """Tensor dtypes named by torch storage persistent ids, in order of first appearance."""
    storages: int = 0
    """Persistent-id storage references seen (torch)."""
    error: str | None = None
    """Why the first stream could not be walked to STOP (None when it was, or at the cap)."""
    truncated: bool = False
    """True when the walk stopped because the bytes ran out (not because of a bad opcode)."""
    capped: bool = False
    """True when the first stream was cut by the opcode cap (not an error: the data was fine)."""
    references: tuple[GlobalRef, ...] = ()
    """Every global reference, in stream order."""
    calls: tuple[CallSite, ...] = ()
    """Every call site on a global, in stream order."""
    extensions: tuple[int, ...] = ()
    """copyreg extension codes used (EXT1/2/4): imports that cannot be named."""
    streams: int = 0
    """Streams walked to STOP (nested joblib object-array pickles not counted)."""

    @property
    def unresolved(self) -> int:
        """References whose module or name was not a plain string."""
        return sum(1 for ref in self.references if not ref.resolved)

    """Streams walked to STOP."""
    later_error: str | None = None
    """Why a stream after the first could not be walked (None when the data simply ended)."""
    nested: tuple[ByteRange, ...] = ()
    """Bytes the stream would unpickle as a file of their own (torch.storage._load_from_bytes)."""
    unverified: tuple[str, ...] = ()
    """Calls whose effect the walk could not establish (each makes the file unverified)."""
    wrappers: int = 0
    """joblib array wrappers whose array data was stepped over."""
