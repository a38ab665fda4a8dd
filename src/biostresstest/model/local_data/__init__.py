"""Local data per gemeente: kinds, the atomic store with its audit log, and the land-cover hook."""

from biostresstest.model.local_data.kinds import FieldSpec, Kind, get_kind, load_kinds
from biostresstest.model.local_data.layers import (
    LocalCover,
    LocalCoverLayer,
    local_cover,
    local_data_key,
    local_layers_for,
    local_store,
)
from biostresstest.model.local_data.records import DatasetRecord
from biostresstest.model.local_data.store import LocalDataStore, LocalVersion, check_dataset_name

__all__ = [
    "DatasetRecord",
    "FieldSpec",
    "Kind",
    "LocalCover",
    "LocalCoverLayer",
    "LocalDataStore",
    "LocalVersion",
    "check_dataset_name",
    "get_kind",
    "load_kinds",
    "local_cover",
    "local_data_key",
    "local_layers_for",
    "local_store",
]
