"""All built-in sources, in the order a run uses them."""

from __future__ import annotations

from biostresstest.sources import (
    cbs_gemeenten,
    cbs_wijkenbuurten,
    knmi,
    natura2000,
    rivm_groenkaart,
)
from biostresstest.sources.base import SourceSpec

SOURCES: tuple[SourceSpec, ...] = (
    cbs_gemeenten.SPEC,
    cbs_wijkenbuurten.SPEC,
    rivm_groenkaart.SPEC,
    natura2000.SPEC,
    knmi.SPEC,
)


def source_by_id(source_id: str) -> SourceSpec:
    """The spec with id ``source_id``."""
    for spec in SOURCES:
        if spec.id == source_id:
            return spec
    raise KeyError(source_id)
