"""The one interface every output implements: a `Report` turns a result into text.

Each output is one module under `report/` with one `Report` subclass; its options (a title, a
length limit) are constructor arguments, so callers pick an output and call `format(result)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

ResultT = TypeVar("ResultT", contravariant=True)


class Report(ABC, Generic[ResultT]):
    """An output format for results of type `ResultT`."""

    @abstractmethod
    def format(self, result: ResultT) -> str:  # pragma: no cover - abstract
        """The result rendered as this output's text."""
        raise NotImplementedError
