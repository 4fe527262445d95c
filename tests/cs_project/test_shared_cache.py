"""shared_cached keeps a value under its key's generation; shared_forget moves the generation on,
so a reader that loaded the old value before the change cannot put it back after it."""

from __future__ import annotations

import uuid

from django.core.cache import cache

from cs_project.shared_cache import shared_cached, shared_forget


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def test_a_cached_value_is_loaded_once() -> None:
    key = f"test-shared:{uuid.uuid4().hex}"
    loads: list[str] = []

    def load() -> str:
        loads.append("x")
        return f"value {len(loads)}"

    assert shared_cached(key, load, accept=_is_str, timeout=60) == "value 1"
    assert shared_cached(key, load, accept=_is_str, timeout=60) == "value 1"
    assert loads == ["x"]


def test_forgetting_loads_again_whether_or_not_a_generation_existed() -> None:
    key = f"test-shared:{uuid.uuid4().hex}"
    state = {"value": "old"}
    assert shared_cached(key, lambda: state["value"], accept=_is_str, timeout=60) == "old"
    state["value"] = "new"
    shared_forget(key)  # the first forget: no generation yet
    assert shared_cached(key, lambda: state["value"], accept=_is_str, timeout=60) == "new"
    state["value"] = "newer"
    shared_forget(key)
    assert shared_cached(key, lambda: state["value"], accept=_is_str, timeout=60) == "newer"


def test_a_slow_reader_cannot_put_back_what_a_change_dropped() -> None:
    key = f"test-shared:{uuid.uuid4().hex}"
    # A reader finds nothing cached and reads the old value from the database...
    generation = cache.get(f"{key}:gen", 0)
    # ...meanwhile the value changes and the cache is dropped...
    shared_forget(key)
    # ...then the reader stores what it read, as ``shared_cached`` would have.
    cache.set(f"{key}:{generation}", "old", timeout=60)
    assert shared_cached(key, lambda: "new", accept=_is_str, timeout=60) == "new"


def test_a_value_of_the_wrong_kind_is_loaded_again() -> None:
    key = f"test-shared:{uuid.uuid4().hex}"
    cache.set(f"{key}:0", 42, timeout=60)  # e.g. written by an older release under the same key
    assert shared_cached(key, lambda: "loaded", accept=_is_str, timeout=60) == "loaded"
