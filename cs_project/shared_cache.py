"""A value read on every message, kept in the shared cache with a generation, so that dropping it
cannot be undone by a slower reader.

A plain "delete on save" has a race: a reader that read the old rows just before the save commits
writes them back to the cache just after the delete, and every process then uses them until the
timeout. Here a value is stored under its key's current generation, and ``shared_forget`` moves the
generation on: a late writer stores under a generation nobody reads any more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from django.core.cache import cache

T = TypeVar("T")


def shared_cached(key: str, load: Callable[[], T], *, accept: Callable[[object], bool], timeout: float) -> T:
    """The value cached under ``key``'s current generation, or ``load()``, cached there."""
    generation = cache.get(f"{key}:gen", 0)
    versioned = f"{key}:{generation}"
    value = cache.get(versioned)
    if accept(value):
        return cast("T", value)  # ``accept`` checked its type
    loaded = load()
    cache.set(versioned, loaded, timeout=timeout)
    return loaded


def shared_forget(key: str) -> None:
    """Move ``key`` to a new generation: every value cached before this is never read again."""
    try:
        cache.incr(f"{key}:gen")
    except ValueError:  # no generation yet (never dropped, or evicted): start one above 0
        if not cache.add(f"{key}:gen", 1, timeout=None):
            cache.incr(f"{key}:gen")
