"""Thread safety: one store shared by many threads; a long call in one thread does not
stall the others (the GIL is released while Rust waits); fork fails fast."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List, Tuple

import pytest

import interaction_store as ist
from conftest import PASSWORD, World, create


def test_one_store_many_threads(world: World) -> None:
    def work(n: int) -> int:
        s = world.store.session_for_user(world.editor.id, world.site.id)
        i = create(s, title=f"Thread {n}")
        assert s.get_interaction(i.id) == i
        s.update_interaction(i.id, expected_version=1, notes=f"by {n}")
        return i.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(work, range(40)))
    assert len(set(made)) == 40
    assert world.viewer_s.finder().count() == 40
    # Sessions and finders are shareable too.
    f = world.viewer_s.finder().limit(7)
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(lambda _: len(list(f.iter())), range(8)))
    assert counts == [40] * 8


def test_slow_call_does_not_stall_other_threads(world: World) -> None:
    """A thread running argon2 logins (each tens of milliseconds in Rust) while the main
    thread reads: reads must complete *during* logins, which is impossible if a blocking
    call held the GIL."""
    store = world.store
    intervals: List[Tuple[float, float]] = []
    stop = threading.Event()

    def logins() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            store.login(world.admin.username, PASSWORD)
            intervals.append((t0, time.perf_counter()))

    t = threading.Thread(target=logins)
    t.start()
    reads: List[float] = []
    deadline = time.perf_counter() + 1.5
    try:
        while time.perf_counter() < deadline:
            store.get_user(world.viewer.id)
            reads.append(time.perf_counter())
    finally:
        stop.set()
        t.join(timeout=60)
    assert not t.is_alive()
    assert len(intervals) >= 3
    # Reads that finished strictly inside some login call.
    inside = sum(1 for r in reads if any(a < r < b for a, b in intervals))
    assert inside >= 20, (inside, len(reads), len(intervals))


def test_fork_child_fails_fast(store: ist.InteractionStore) -> None:
    store.list_sites()  # the runtime exists in the parent
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        code = 1
        try:
            store.list_sites()
        except ist.UnavailableError as e:
            code = 0 if "forked child process" in str(e) else 2
        except BaseException:
            code = 3
        os.write(w, bytes([code]))
        os._exit(code)
    os.close(w)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung instead of failing fast")
        time.sleep(0.05)
    assert os.read(r, 1) == b"\x00"
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent is unaffected.
    assert store.list_sites() is not None
