"""One recompute per gemeente at a time, with its outcome in the gemeente's audit log.

An import asks for the gemeente's results to be computed again. ``RecomputeQueue.request``
starts the run in a background thread when none is running for that gemeente. A request while
one runs is coalesced: when the running one ends, exactly one more run starts, and it sees
every import made in the meantime (two imports during a run cost two runs, not three). Across
processes (several server workers on one data folder) an ``fcntl`` lock per gemeente makes a
second run wait for the first.

Every request and run leaves ``recompute`` entries in the audit log: ``queued`` (a run was
already going), ``started``, then ``ok``, ``skipped`` (the gemeente is not published, nothing
to recompute) or ``failed`` with the error message. ``status`` shows the state and the last
outcome (``GET /api/admin/{gemeente}/recompute``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from biostresstest.core.errors import BiostresstestError
from biostresstest.model.areas import normalise_gemeente_code
from biostresstest.model.local_data.durable import exclusive_lock
from biostresstest.model.local_data.store import LocalDataStore

log = logging.getLogger(__name__)
RunGemeente = Callable[[], bool | None]
"""Runs the gemeente once; ``False`` when there was nothing to recompute (not published)."""
RUN_LOCK_TIMEOUT_S = 6 * 3600.0
"""How long a run waits for the run of the same gemeente in another process."""
FINISHED = ("ok", "skipped", "failed")


class RecomputeQueue:
    """Background recomputes of the gemeenten of one local-data store (one per gemeente)."""

    def __init__(self, store: LocalDataStore) -> None:
        self.store = store
        self._changed = threading.Condition()
        self._running: set[str] = set()
        self._pending: dict[str, tuple[RunGemeente, str]] = {}

    def request(self, gemeente: str, run: RunGemeente, who: str) -> str:
        """Start ``run`` for ``gemeente`` now (``"started"``), or once the running one ends
        (``"queued"``; later requests replace an earlier queued one)."""
        code = normalise_gemeente_code(gemeente)
        with self._changed:
            if code in self._running:
                self._pending[code] = (run, who)
                self._note(code, who, "queued", "a recompute is running; one more follows it")
                return "queued"
            self._running.add(code)
        worker = threading.Thread(
            target=self._work, args=(code, run, who), name=f"recompute-{code}", daemon=True
        )
        worker.start()
        return "started"

    def status(self, gemeente: str) -> dict[str, Any]:
        """``state`` (idle, running, running+queued) and the last finished run, if any."""
        code = normalise_gemeente_code(gemeente)
        with self._changed:
            state = "idle"
            if code in self._running:
                state = "running+queued" if code in self._pending else "running"
        entries = [e for e in self.store.audit(code) if e.get("action") == "recompute"]
        finished = [e for e in entries if e.get("outcome") in FINISHED]
        return {
            "gemeente": code,
            "state": state,
            "last": finished[-1] if finished else None,
            "history": entries[-20:],
        }

    def wait(self, gemeente: str, timeout: float) -> bool:
        """Wait until no run of ``gemeente`` is running or queued; False on timeout."""
        code = normalise_gemeente_code(gemeente)
        with self._changed:
            return self._changed.wait_for(lambda: code not in self._running, timeout)

    def _work(self, code: str, run: RunGemeente, who: str) -> None:
        while True:
            self._run_once(code, run, who)
            with self._changed:
                queued = self._pending.pop(code, None)
                if queued is None:
                    self._running.discard(code)
                    self._changed.notify_all()
                    return
            run, who = queued

    def _run_once(self, code: str, run: RunGemeente, who: str) -> None:
        started = time.monotonic()
        self._note(code, who, "started", "")
        try:
            lock = self.store.root / ".locks" / f"{code}.recompute.lock"
            with exclusive_lock(lock, RUN_LOCK_TIMEOUT_S, f"the recompute of {code}"):
                done = run()
            outcome = "skipped" if done is False else "ok"
            message = "not published: nothing to recompute" if done is False else ""
        except Exception as exc:  # a background run: the outcome goes to the audit log
            log.exception("recompute of %s failed", code)
            outcome = "failed"
            message = exc.message if isinstance(exc, BiostresstestError) else repr(exc)
        self._note(code, who, outcome, message, seconds=round(time.monotonic() - started, 1))

    def _note(self, code: str, who: str, outcome: str, message: str, **extra: Any) -> None:
        self.store.note_event(
            code, "system", "recompute", outcome, message, requested_by=who, **extra
        )


_QUEUES: dict[Path, RecomputeQueue] = {}
_QUEUES_LOCK = threading.Lock()


def recompute_queue(store: LocalDataStore) -> RecomputeQueue:
    """The one queue of the store at ``store.root`` in this process."""
    root = store.root.resolve()
    with _QUEUES_LOCK:
        queue = _QUEUES.get(root)
        if queue is None:
            queue = _QUEUES[root] = RecomputeQueue(store)
        return queue
