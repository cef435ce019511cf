"""Working on documents with millions of nodes.

A loaded specification is millions of acyclic dicts and lists, freed by reference counting
alone. While it is alive, every allocation-triggered run of Python's cyclic collector traverses
them again (a quarter of the parse and review time on Microsoft Graph's 19 MiB description), so
the bulk steps run with the collector paused. It resumes afterwards, when the few cycles made in
between are collected as usual."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
