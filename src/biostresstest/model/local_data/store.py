"""The local datasets of each gemeente, switched live in one atomic step.

Layout under ``root`` (``<data_dir>/local``)::

    GM0080 -> .versions/GM0080-<stamp>-<rand>     symlink: the live state of the gemeente
    .versions/GM0080-.../index.json                the datasets (name, kind, checksum …)
    .versions/GM0080-.../<name>.gpkg | <name>.tif  one file per dataset
    .versions/GM0080-....superseded                marker: this version is no longer live
    .staging-GM0080-<rand>/                        a version being written
    .journal/GM0080.json                           the import in progress (fsync'd)
    .locks/GM0080.lock                             fcntl lock: one import per gemeente at a time
    .audit/GM0080.jsonl                            append-only: who changed what, when

An import writes a complete new version (unchanged datasets hard-linked from the live one),
fsyncs it, renames it into ``.versions`` and swaps the symlink with one ``rename``. The journal
records each stage before it happens; a process killed at any point leaves the old state live,
and the next start (``recover``) removes what the dead import left and notes it in the audit log.

A superseded version is not removed at once: a run may have resolved it (``snapshot``) a moment
before the switch and still be reading its files. It gets a ``.superseded`` marker and goes once
it has been superseded for :data:`GRACE_S` seconds, except the most recent one of each gemeente,
which stays until the next import (the rule of the embedded results store).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from biostresstest.core.errors import InvalidInput, NotLoaded, StoreError
from biostresstest.model.areas import normalise_gemeente_code
from biostresstest.model.local_data.durable import (
    append_line,
    exclusive_lock,
    failpoint,
    fsync_dir,
    fsync_file,
    remove_durably,
    try_lock,
    write_json_durably,
)
from biostresstest.model.local_data.records import DatasetRecord

LOCK_TIMEOUT_S = 600.0
"""How long an import waits for the running import of the same gemeente."""
GRACE_S = 120.0
"""Seconds a superseded version stays readable for runs that resolved it before the switch."""
DATASET_NAME = re.compile(r"[a-z0-9_-]{1,64}")
"""A dataset name: it becomes a file name and a GeoPackage layer name, so ASCII only."""
SUPERSEDED = ".superseded"
WriteDataset = Callable[[Path], None]
"""Writes one dataset file at the given path (inside the staging folder)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_dataset_name(name: str) -> str:
    """``name`` when it is a valid dataset name; :class:`InvalidInput` saying why otherwise."""
    if not DATASET_NAME.fullmatch(name):
        raise InvalidInput(
            f"dataset name {name[:80]!r} is not allowed / datasetnaam niet toegestaan",
            hint="use 1 to 64 characters from a-z, 0-9, - and _ (no capitals, spaces or "
            "accented letters), e.g. 'bomen_2024' / gebruik 1 tot 64 tekens a-z, 0-9, - en _",
        )
    return name


@dataclass(frozen=True)
class LocalVersion:
    """One version of a gemeente's local data, resolved once: its folder and its datasets.

    The folder stays readable after a later import for at least :data:`GRACE_S` seconds, so
    everything derived from one snapshot (a cache key and the layers) comes from the same data.
    """

    gemeente: str
    folder: Path | None
    records: tuple[DatasetRecord, ...]

    def path(self, name: str) -> Path:
        """The file of dataset ``name`` in this version."""
        for record in self.records:
            if record.name == name and self.folder is not None:
                return self.folder / record.file
        raise NotLoaded(
            f"{self.gemeente} has no local dataset {name!r}",
            hint=f"list them: GET /api/local/{self.gemeente}",
        )


class LocalDataStore:
    """Local datasets per gemeente (see the module docstring for the layout and the guarantees)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for sub in (".versions", ".journal", ".locks", ".audit"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.recover()

    # --- reading -----------------------------------------------------------------------------

    def snapshot(self, gemeente: str) -> LocalVersion:
        """The live version of ``gemeente``, resolved once (no folder when it has no data)."""
        code = normalise_gemeente_code(gemeente)
        folder = self._live(code)
        if folder is None:
            return LocalVersion(code, None, ())
        records = tuple(DatasetRecord.from_dict(d) for d in _read_index(folder))
        return LocalVersion(code, folder, records)

    def datasets(self, gemeente: str) -> list[DatasetRecord]:
        """The live datasets of ``gemeente`` (empty when it has none)."""
        return list(self.snapshot(gemeente).records)

    def dataset_path(self, gemeente: str, name: str) -> Path:
        """The file of one live dataset (resolved: it stays readable for :data:`GRACE_S` s
        after a later switch, see the module docstring)."""
        return self.snapshot(gemeente).path(name)

    def audit(self, gemeente: str) -> list[dict[str, Any]]:
        """The audit log of ``gemeente``, oldest first."""
        path = self._audit_path(normalise_gemeente_code(gemeente))
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]

    def _live(self, code: str) -> Path | None:
        link = self.root / code
        return link.resolve() if link.is_symlink() and link.exists() else None

    # --- writing -----------------------------------------------------------------------------

    def commit(
        self, gemeente: str, record: DatasetRecord, write: WriteDataset, who: str
    ) -> DatasetRecord:
        """Add (or replace, by name) one dataset of ``gemeente`` and switch it live atomically."""
        code = normalise_gemeente_code(gemeente)
        with exclusive_lock(self._lock_path(code), LOCK_TIMEOUT_S, f"the local data of {code}"):
            return self._commit_locked(code, record, write, who)

    def remove(self, gemeente: str, name: str, who: str) -> None:
        """Take one dataset out of the live state (atomically, like an import)."""
        code = normalise_gemeente_code(gemeente)
        with exclusive_lock(self._lock_path(code), LOCK_TIMEOUT_S, f"the local data of {code}"):
            if name not in {r.name for r in self.datasets(code)}:
                raise NotLoaded(f"{code} has no local dataset {name!r}")
            self._switch_to_new_version(code, keep=lambda r: r.name != name, add=None)
            append_line(
                self._audit_path(code),
                {"at": _now(), "who": who, "action": "remove", "gemeente": code, "dataset": name},
            )

    def note_event(
        self, gemeente: str, who: str, action: str, outcome: str, message: str, **extra: Any
    ) -> None:
        """Record an event (a recompute started, ok, failed …) in the audit log."""
        gm = normalise_gemeente_code(gemeente)
        entry = {"at": _now(), "who": who, "action": action, "gemeente": gm, "outcome": outcome}
        append_line(self._audit_path(gm), {**entry, "message": message[:500], **extra})

    def note_refusal(self, gemeente: str, who: str, action: str, code: str, message: str) -> None:
        """Record in the audit log that an upload or import was refused (nothing changed)."""
        gm = normalise_gemeente_code(gemeente)
        append_line(
            self._audit_path(gm),
            {
                "at": _now(),
                "who": who,
                "action": action,
                "gemeente": gm,
                "outcome": "refused",
                "error": code,
                "message": message[:500],
            },
        )

    def _commit_locked(
        self, code: str, record: DatasetRecord, write: WriteDataset, who: str
    ) -> DatasetRecord:
        check_dataset_name(record.name)
        self._switch_to_new_version(code, keep=lambda r: r.name != record.name, add=(record, write))
        append_line(
            self._audit_path(code),
            {
                "at": _now(),
                "who": who,
                "action": "import",
                "gemeente": code,
                "dataset": record.name,
                "kind": record.kind,
                "sha256": record.sha256,
                "features": record.features,
                "source": record.source,
            },
        )
        return record

    def _switch_to_new_version(
        self,
        code: str,
        keep: Callable[[DatasetRecord], bool],
        add: tuple[DatasetRecord, WriteDataset] | None,
    ) -> None:
        live = self._live(code)
        token = uuid.uuid4().hex[:8]
        staging = self.root / f".staging-{code}-{token}"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        version = self.root / ".versions" / f"{code}-{stamp}-{token}"
        journal = self._journal_path(code)
        write_json_durably(
            journal,
            {
                "state": "staging",
                "staging": staging.name,
                "version": version.name,
                "at": _now(),
                "previous": live.name if live else None,
            },
        )
        try:
            staging.mkdir()
            index = [r for r in self.datasets(code) if keep(r)]
            for kept in index:  # unchanged datasets: hard links, no copy
                assert live is not None
                os.link(live / kept.file, staging / kept.file)
            if add is not None:
                record, write = add
                write(staging / record.file)
                fsync_file(staging / record.file)
                index.append(record)
            write_json_durably(staging / "index.json", [r.as_dict() for r in index])
            fsync_dir(staging)
            failpoint("local.after_stage")
            staging.rename(version)
            fsync_dir(version.parent)
            fsync_dir(self.root)
            failpoint("local.before_switch")
            self._switch_link(code, version)
            failpoint("local.after_switch")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if self._live(code) != version.resolve():
                shutil.rmtree(version, ignore_errors=True)
            remove_durably(journal)
            raise
        if live is not None and live != version.resolve():
            self._mark_superseded(live)
        remove_durably(journal)
        self._remove_superseded(code)

    def _mark_superseded(self, version: Path) -> None:
        version.with_name(version.name + SUPERSEDED).touch()

    def _remove_superseded(self, code: str) -> None:
        """Remove superseded versions past their grace period, keeping the latest one."""
        versions = self.root / ".versions"
        markers = sorted(
            versions.glob(f"{code}-*{SUPERSEDED}"), key=lambda m: (m.stat().st_mtime, m.name)
        )
        now = time.time()
        for marker in markers[:-1]:
            if now - marker.stat().st_mtime > GRACE_S:
                shutil.rmtree(versions / marker.name.removesuffix(SUPERSEDED), ignore_errors=True)
                marker.unlink(missing_ok=True)

    def _switch_link(self, code: str, target: Path) -> None:
        link = self.root / code
        tmp_link = self.root / f".link-{code}-{uuid.uuid4().hex[:8]}"
        os.symlink(os.path.relpath(target, self.root), tmp_link)
        os.replace(tmp_link, link)
        fsync_dir(self.root)

    # --- recovery ----------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Remove what interrupted imports left behind; return the gemeenten that had debris.

        A gemeente whose lock is held (an import is running right now) is left alone.
        """
        codes = {p.stem for p in (self.root / ".journal").glob("*.json")}
        codes |= {p.name.split("-")[1] for p in self.root.glob(".staging-*")}
        codes |= {p.name.split("-")[1] for p in self.root.glob(".link-*")}
        codes |= {p.name.split("-")[0] for p in (self.root / ".versions").iterdir()}
        codes.discard("")
        cleaned = []
        for code in sorted(codes):
            fd = try_lock(self._lock_path(code))
            if fd is None:
                continue
            try:
                if self._recover_locked(code):
                    cleaned.append(code)
            finally:
                os.close(fd)
        return cleaned

    def _recover_locked(self, code: str) -> bool:
        debris = [*self.root.glob(f".staging-{code}-*"), *self.root.glob(f".link-{code}-*")]
        live = self._live(code)
        journal = self._journal_path(code)
        state = json.loads(journal.read_text("utf-8") or "{}") if journal.exists() else {}
        versions = self.root / ".versions"
        for version in versions.glob(f"{code}-*"):
            marked = version.with_name(version.name + SUPERSEDED)
            if version.name.endswith(SUPERSEDED):
                if not version.with_name(version.name.removesuffix(SUPERSEDED)).is_dir():
                    debris.append(version)  # a marker without its version
            elif version.resolve() == live or marked.exists():
                continue
            elif live is not None and version.name == state.get("previous"):
                self._mark_superseded(version)  # it was live until the interrupted switch
            else:
                debris.append(version)  # written but never switched live
        for path in debris:
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)
        if journal.exists():
            went_live = live is not None and live.name == state.get("version")
            append_line(
                self._audit_path(code),
                {
                    "at": _now(),
                    "who": "system",
                    "gemeente": code,
                    "action": "recovered-committed" if went_live else "recovered-rolled-back",
                    "interrupted_at": state.get("at"),
                    "version": state.get("version"),
                },
            )
            remove_durably(journal)
        if debris:
            fsync_dir(self.root)
        self._remove_superseded(code)
        return bool(debris)

    # --- paths -------------------------------------------------------------------------------

    def _lock_path(self, code: str) -> Path:
        return self.root / ".locks" / f"{code}.lock"

    def _journal_path(self, code: str) -> Path:
        return self.root / ".journal" / f"{code}.json"

    def _audit_path(self, code: str) -> Path:
        return self.root / ".audit" / f"{code}.jsonl"


def _read_index(folder: Path) -> list[dict[str, Any]]:
    path = folder / "index.json"
    if not path.exists():
        raise StoreError(
            f"the local data folder {folder} has no index.json",
            hint="the store is damaged: re-import the datasets",
        )
    data: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return data
