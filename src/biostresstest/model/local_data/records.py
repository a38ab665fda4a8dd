"""The record of one local dataset, as kept in the index of a gemeente's live state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DatasetRecord:
    """One imported dataset: what it is, where it came from, and its checksum."""

    name: str
    kind: str
    file: str
    """File name inside the version folder (``<name>.gpkg`` or ``<name>.tif``)."""
    sha256: str
    """Checksum of the uploaded bytes (the audit log names the same value)."""
    features: int
    """Number of features (vectors) or of valid cells (rasters)."""
    crs: str
    bounds: tuple[float, float, float, float]
    """Extent in EPSG:28992."""
    mapping: dict[str, str] = field(default_factory=dict)
    """Model field → column of the source."""
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Class field → source value → model value, as confirmed by the admin."""
    source: dict[str, str] = field(default_factory=dict)
    """Where it came from: format, file name (as given, for display only) or URL."""
    imported_at: str = ""
    imported_by: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        data = asdict(self)
        data["bounds"] = list(self.bounds)
        return data

    def public(self) -> dict[str, Any]:
        """What anyone may see (no account names)."""
        data = self.as_dict()
        data.pop("imported_by")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetRecord:
        """Read back what ``as_dict`` wrote."""
        values = dict(data)
        values["bounds"] = tuple(float(v) for v in values["bounds"])
        return cls(**values)
