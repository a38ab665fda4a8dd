"""Local data uploaded or fetched by address: sniffing, safe unpacking, reading, validation."""

from biostresstest.sources.upload.importer import (
    commit_upload,
    gemeente_outline,
    import_file,
    list_datasets,
    prepare_from_address,
    prepare_upload,
)
from biostresstest.sources.upload.limits import UploadLimits

__all__ = [
    "UploadLimits",
    "commit_upload",
    "gemeente_outline",
    "import_file",
    "list_datasets",
    "prepare_from_address",
    "prepare_upload",
]
