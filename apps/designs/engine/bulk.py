"""Working on documents with millions of nodes.

A loaded specification is millions of acyclic dicts and lists, freed by reference counting
alone. While it is alive, each full run of Python's cyclic collector (one is due whenever the
objects made since the last outnumber a quarter of the long-lived ones) traverses all of them
again: more than a third of the parse, review and report time on Microsoft Graph's 19 MiB
description. So a bulk step moves what is alive when it starts, and the document once it is
loaded (`settle`), into the collector's permanent generation (`gc.freeze`): the collector keeps
running, on what the step makes. When the outermost step ends, everything frozen goes back to
the oldest generation (whoever froze it), to be collected as usual once unreachable.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # bulk steps open in this process (a step may run inside another)


@contextmanager
def bulk_step() -> Iterator[None]:
    global _depth
    with _lock:
        _depth += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()


def settle() -> None:
    """Inside a bulk step: what it has built so far lives on (a loaded document), so the collector
    need not traverse it again for the rest of the step. Outside one, nothing."""
    with _lock:
        if _depth:
            gc.freeze()
