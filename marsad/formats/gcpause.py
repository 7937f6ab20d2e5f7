"""Pausing Python's cyclic garbage collector around bulk record building.

Parsing and merging a large submission allocates millions of small objects, none of
which forms a reference cycle; letting the collector re-scan them all, again and again as
they accumulate, costs up to half the time. Reference counting still frees everything.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused(*, promote: bool = False) -> Iterator[None]:
    """Pause the cyclic GC for the block, restoring its previous state.

    With ``promote``, every object the collector tracks moves to its oldest generation as
    the pause ends (``gc.freeze`` then ``gc.unfreeze``, two list splices): what the block
    built is bulk data without cycles, which the first young-generation pass after the
    pause would otherwise scan whole only to keep (0.4-0.8 s a million objects); a full
    collection still sees it. Nothing is promoted when something else has frozen objects
    (a pre-fork server), nor inside an outer pause.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            if promote and not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()
