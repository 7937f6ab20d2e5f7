"""A large submission parsed in a child process while this process writes it.

Decoding, parsing and normalising hold the GIL; merging into the store is mostly the
database's own work. In one process the two shared the interpreter, a 1M-indicator bundle
kept about 1.3 of two cores busy, and the kernel's share of the work (page faults) grew
from 5.6 CPU-s for the steps run one by one to 13.6 CPU-s run side by side as threads.
Here a forked child runs the format and the same `BatchBuilder` as the in-process path
and sends each chunk of new rows down a pipe, sorted by (type, value): 0.5 s a million
rows there saves the database about 3 s of sorting, and of probing its indexes out of
order. This process stages and merges the rows in its one transaction, so atomicity,
idempotence and every write stay where they were; the child writes nothing.

The child is forked (the raw bytes are shared, not copied), so only from a process with
no thread but its own checkpoint (pure SQLite): forking a threaded process (a web server)
could leave the child waiting on a lock another thread held. Elsewhere, and for small
submissions, the parse stays in process. The child dies with its parent
(``PR_SET_PDEATHSIG``): a killed ingest leaves no parser running. Its messages are this
program's own (pickled handling and batch, msgpack rows), read only from that child.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import struct
import threading
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection
from operator import itemgetter
from typing import Any, NamedTuple

import msgspec
import orjson

from marsad.formats.gcpause import gc_paused
from marsad.formats.registry import detect_format, get_format
from marsad.ingest.batch import Batch, BatchBuilder, SubmissionDefaults
from marsad.model.errors import FormatError, MarsadError
from marsad.model.records import ParseMeta
from marsad.store.bulk import Dialect
from marsad.store.engine import CHECKPOINT_THREAD

SETTING = "MARSAD_PARSE_PROCESS"
"""auto (the default): a parser process for large submissions where it is safe; on:
always (tests); off: never."""
FROM_BYTES = 4 << 20
"""Submissions smaller than this parse in process (a fork costs a few milliseconds)."""
QUEUED_CHUNKS = 4
"""Chunks received and waiting for the writer: the child parses ahead by this much."""

_FORMAT, _HANDLING, _ROWS, _BATCH, _REFUSED, _FAILED = b"FHRBEX"
_COUNT = struct.Struct("<q")
log = logging.getLogger(__name__)
_TYPE, _VALUE = itemgetter(0), itemgetter(1)  # ASSERTION_COLUMNS: type, value, ...


class ParseProcessError(MarsadError):
    """The parser process failed in a way that is not the submission's fault."""


def wanted(size: int, choice: bool | None = None) -> bool:
    """Whether a submission of ``size`` bytes parses in a child process."""
    if choice is not None:
        return choice
    setting = os.environ.get(SETTING, "auto").strip().lower()
    if setting in ("0", "off", "false", "no") or not hasattr(os, "fork"):
        return False
    if setting in ("1", "on", "true", "yes"):
        return True
    return size >= FROM_BYTES and _alone()


def _alone() -> bool:
    """No thread runs here but this one and a WAL checkpoint (C code holding no lock the
    child could need)."""
    this = threading.current_thread()
    return all(t is this or t.name == CHECKPOINT_THREAD for t in threading.enumerate())


class ParseJob(NamedTuple):
    """What a parser process reads, and how its rows are bound (the store's dialect)."""

    raw: bytes
    fmt: str  # a format's name, or "auto"
    meta: ParseMeta
    defaults: SubmissionDefaults
    received_at: dt.datetime
    dialect: str
    chunk: int  # records a chunk


class ParseProcess:
    """A forked parser: its format's name, then chunks of rows, then the rest of the batch.

    `close` always runs (a ``with`` block): it stops the reader, kills a child still
    parsing (when the writer failed), and reaps it.
    """

    def __init__(self, job: ParseJob) -> None:
        ctx = multiprocessing.get_context("fork")
        receiving, sending = ctx.Pipe(duplex=False)
        args = (job, sending, os.getpid())
        self.child = ctx.Process(target=_parse, args=args, name="marsad-parse", daemon=True)
        self.child.start()
        sending.close()  # the child holds the only writing end: its exit is our EOF
        self.pipe = receiving
        self.items: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.room = threading.Semaphore(QUEUED_CHUNKS)
        self.stop = threading.Event()
        self.reader = threading.Thread(target=self._read, name="marsad-parse-reader", daemon=True)
        self.reader.start()
        self.decode_rows = msgspec.msgpack.Decoder(list[tuple[Any, ...]])
        self.batch: Batch | None = None
        self.records = 0  # records the child has merged into rows so far

    def __enter__(self) -> ParseProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def format(self) -> str:
        """The format's name (detected in the child); raises FormatError if none reads it."""
        kind, value = self._next()
        if kind != "format":  # pragma: no cover - the child always names its format first
            raise ParseProcessError(f"the parser process sent {kind} before its format")
        return str(value)

    def chunks(self) -> Iterator[tuple[list[tuple[Any, ...]], list[Any]]]:
        """(new handling, new assertion rows) per chunk, as `BatchBuilder.chunks` gives."""
        while True:
            kind, value = self._next()
            if kind == "batch":
                self.batch = value
                return
            handling, body, self.records = value
            # decoded here, while the previous chunk merges on the writer's worker thread
            yield handling, self.decode_rows.decode(body)

    def finish(self) -> Batch:
        """The rest of the batch, once every chunk is through."""
        if self.batch is None:  # pragma: no cover - chunks() ends only on the batch
            raise ParseProcessError("the parser process has not finished")
        return self.batch

    def close(self) -> None:
        self.stop.set()
        if self.batch is not None:  # done: let it exit by itself
            self.child.join(timeout=10)
        if self.child.is_alive():
            self.child.kill()  # the writer gave up: the rest of the parse is not wanted
        self.child.join()
        self.pipe.close()  # after the child is gone: the reader sees EOF, or has ended
        self.reader.join()

    # -- this side ----------------------------------------------------------------------
    def _next(self) -> tuple[str, Any]:
        kind, value = self.items.get()
        if kind == "chunk":
            self.room.release()
        elif kind == "refused":
            raise FormatError(value)
        elif kind == "failed":
            said, trace = orjson.loads(value)
            log.error("%s\n%s", said, trace)  # the sentence for the user, the trace for us
            raise ParseProcessError(said)
        elif kind == "died":
            self.child.join()
            raise ParseProcessError(_died(self.child.exitcode))
        return kind, value

    def _read(self) -> None:
        """Receive messages into items (off the main thread, while it stages and merges)."""
        handling: list[tuple[Any, ...]] = []
        try:
            while not self.stop.is_set():
                msg = self.pipe.recv_bytes()
                kind, body = msg[0], memoryview(msg)[1:]
                if kind == _FORMAT:
                    self.items.put(("format", bytes(body).decode()))
                elif kind == _HANDLING:
                    handling.extend(pickle.loads(body))
                elif kind == _ROWS:
                    (records,) = _COUNT.unpack_from(body)
                    item = (handling, body[_COUNT.size :], records)
                    handling = []
                    while not self.room.acquire(timeout=0.1):
                        if self.stop.is_set():
                            return
                    self.items.put(("chunk", item))
                elif kind == _BATCH:
                    self.items.put(("batch", pickle.loads(body)))
                    return
                elif kind == _REFUSED:
                    self.items.put(("refused", bytes(body).decode()))
                    return
                else:
                    self.items.put(("failed", bytes(body)))
                    return
        except (EOFError, OSError):
            if not self.stop.is_set():
                self.items.put(("died", None))


def _died(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the parser process was killed by {name} (out of memory?); nothing was stored"
    return f"the parser process ended unexpectedly (exit code {code}); nothing was stored"


# -- the child ----------------------------------------------------------------------------
def _parse(job: ParseJob, out: Connection, parent: int) -> None:
    """The child's whole life: parse, merge into rows, send; never touches the store."""
    _die_with_parent(parent)
    rows = msgspec.msgpack.Encoder()
    try:
        with gc_paused():  # it builds no cycles, and exits (os._exit) without a teardown
            chosen = detect_format(job.raw) if job.fmt == "auto" else get_format(job.fmt)
            out.send_bytes(bytes((_FORMAT,)) + chosen.name.encode())
            records = (chosen.parse_blocks or chosen.parse)(job.raw, job.meta)
            d = Dialect(job.dialect)
            builder = BatchBuilder(job.defaults, job.received_at, time=d.time, date=d.date)
            for handling, new in builder.chunks(records, job.chunk):
                # in index order, which the writer's statements then need not sort
                new.sort(key=_VALUE)
                new.sort(key=_TYPE)
                if handling:  # rare (a handful a submission), and may hold dates: pickled
                    out.send_bytes(bytes((_HANDLING,)) + pickle.dumps(handling, protocol=5))
                count = _COUNT.pack(builder.batch.records)
                out.send_bytes(bytes((_ROWS,)) + count + rows.encode(new))
            batch = builder.finish()
            out.send_bytes(bytes((_BATCH,)) + pickle.dumps(batch, protocol=5))
    except FormatError as exc:
        out.send_bytes(bytes((_REFUSED,)) + str(exc).encode())
    except BrokenPipeError:  # the writer is gone
        pass
    except BaseException as exc:
        said = f"the parser process failed ({type(exc).__name__}: {exc}); nothing was stored"
        out.send_bytes(bytes((_FAILED,)) + orjson.dumps([said, traceback.format_exc()]))


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (a SIGKILLed ingest)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the child ends at its next write
        pass
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)
