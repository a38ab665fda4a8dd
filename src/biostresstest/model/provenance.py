"""Provenance of every layer: where it came from, under which licence, and its checksum."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Provenance:
    """What a stored layer was made from."""

    source_id: str
    title: str
    publisher: str
    licence: str
    url: str
    retrieved_from: str
    """The address the bytes were read from: the online URL or the mirror file."""
    sha256: str
    edition: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return asdict(self)
