"""Fork safety and interpreter exit: a forked child gets a runtime of its own, refuses the
stores opened before the fork (UnavailableError naming the cause) and opens new ones;
gunicorn --preload and multiprocessing's fork start method work; an interpreter with open
async stores exits cleanly, every time."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

import interaction_store as ist
from conftest import create, make_world

FORK_MESSAGE = "forked child process"


def run_in_fork(body: Callable[[], Dict[str, Any]], timeout: float = 60) -> Dict[str, Any]:
    """Runs `body` in a forked child; returns the dict it returned (through a pipe).
    A child that hangs is killed and fails the test."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            out = body()
        except BaseException as e:  # reported to the parent
            out = {"crash": f"{type(e).__name__}: {e}"}
        os.write(w, json.dumps(out).encode())
        os.close(w)
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.02)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    out: Dict[str, Any] = json.loads(data)
    assert "crash" not in out, out["crash"]
    return out


def refusal(call: Callable[[], Any]) -> str:
    """The message of the UnavailableError `call` raises (fails if it does not)."""
    try:
        call()
    except ist.UnavailableError as e:
        return str(e)
    raise AssertionError("no UnavailableError")


def test_child_refuses_old_stores_and_opens_new_ones(url: str) -> None:
    # The parent has used the library: a store, a session, a Finder, an async store.
    store = ist.InteractionStore.connect(url)
    w = make_world(store)
    create(w.editor_s, title="before the fork")
    finder = w.editor_s.finder()
    astore = asyncio.run(ist.AsyncInteractionStore.connect(url))
    asession = asyncio.run(astore.session_for_user(w.editor.id, w.site.id))
    closed = ist.InteractionStore.connect(url)
    closed.close()

    def child() -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        out["store"] = refusal(store.list_sites)
        out["session"] = refusal(lambda: w.editor_s.get_interaction(1))
        out["finder"] = refusal(finder.count)
        out["iter"] = refusal(lambda: list(finder))
        out["astore"] = refusal(astore.list_sites)
        out["asession"] = refusal(asession.finder().count)
        out["close"] = refusal(store.close)
        # Attributes that do no I/O still answer.
        out["closed_attr"] = [store.closed, closed.closed, store.backend]
        # A new store works, blocking and asyncio, on the same database.
        with ist.InteractionStore.connect(url) as mine:
            s = mine.session_for_user(w.editor.id, w.site.id)
            create(s, title="from the child")
            out["titles"] = sorted(i.title for i in s.finder())

        async def main() -> int:
            async with await ist.AsyncInteractionStore.connect(url) as a:
                s = await a.session_for_user(w.editor.id, w.site.id)
                return int(await s.finder().count())

        out["async_count"] = asyncio.run(main())
        # A grandchild forked from this child (which now has its own runtime) too.
        mine2 = ist.InteractionStore.connect(url)
        mine2.list_sites()
        out["grandchild"] = run_in_fork(
            lambda: {
                "old": refusal(mine2.list_sites),
                "new": len(ist.InteractionStore.connect(url).list_sites()),
            }
        )
        return out

    out = run_in_fork(child)
    for key in ("store", "session", "finder", "iter", "astore", "asession", "close"):
        assert FORK_MESSAGE in out[key], (key, out[key])
        assert f"opened in process {os.getpid()}" in out[key], out[key]
        assert "Open a new store in this process" in out[key]
    assert out["closed_attr"] == [False, True, store.backend]
    assert out["titles"] == ["before the fork", "from the child"]
    assert out["async_count"] == 2
    assert FORK_MESSAGE in out["grandchild"]["old"]
    assert out["grandchild"]["new"] == 1
    # The parent's stores are untouched by the child (which never wrote to their
    # connections, not even to close them).
    assert sorted(i.title for i in w.editor_s.finder()) == ["before the fork", "from the child"]
    assert asyncio.run(asession.finder().count()) == 2
    asyncio.run(astore.close())
    store.close()


def test_child_of_a_parent_that_migrated_and_closed(fresh_url: Callable[..., str]) -> None:
    """The issue's case: the parent migrated and closed; the child opens a NEW store."""
    url = fresh_url(migrated=False)
    ist.InteractionStore.connect(url, migrate=True).close()

    def child() -> Dict[str, Any]:
        with ist.InteractionStore.connect(url) as s:
            site = s.create_site("child site")
            return {"sites": [x.name for x in s.list_sites()], "id": site.id}

    assert run_in_fork(child)["sites"] == ["child site"]
    with ist.InteractionStore.connect(url) as s:
        assert [x.name for x in s.list_sites()] == ["child site"]


# multiprocessing with the fork start method: module-level functions, so the pool can
# name them.
_PARENT_STORE: List[ist.InteractionStore] = []


def _mp_new_store(args: Any) -> str:
    url, n = args
    with ist.InteractionStore.connect(url) as s:
        return s.create_site(f"mp {n} {uuid.uuid4().hex[:6]}").name


def _mp_parent_store(_: Any) -> str:
    return refusal(_PARENT_STORE[0].list_sites)


def test_multiprocessing_fork_pool(url: str) -> None:
    parent = ist.InteractionStore.connect(url)
    parent.create_site("parent site")
    _PARENT_STORE[:] = [parent]
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(2) as pool:
            names = pool.map(_mp_new_store, [(url, n) for n in range(6)], chunksize=1)
            refusals = pool.map(_mp_parent_store, range(2))
        assert len(names) == 6
        assert all(FORK_MESSAGE in m for m in refusals), refusals
        assert len(parent.list_sites()) == 7
    finally:
        _PARENT_STORE.clear()
        parent.close()


GUNICORN_APP = '''
import json
import os

import interaction_store as ist

URL = os.environ["STORE_URL"]

# Imported once in the master (--preload): the master uses the library (migrates and
# keeps a module-level store open) before it forks the workers.
store = ist.InteractionStore.connect(URL, migrate=True)
store.list_sites()

# What each worker uses: its own store, opened on first use in that worker.
_mine = None


def mine():
    global _mine
    if _mine is None:
        _mine = ist.InteractionStore.connect(URL)
    return _mine


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/master-store":
        try:
            store.list_sites()
            body = {"error": None}
        except ist.UnavailableError as e:
            body = {"error": type(e).__name__, "message": str(e)}
    else:
        site = mine().create_site("site " + os.urandom(6).hex())
        body = {"pid": os.getpid(), "site": site.id, "sites": len(mine().list_sites())}
        if path == "/slow":
            import time
            time.sleep(0.3)
    data = json.dumps(body).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> Dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        out: Dict[str, Any] = json.loads(r.read())
        return out


def test_gunicorn_preload_two_workers(fresh_url: Callable[..., str], tmp_path: Path) -> None:
    url = fresh_url(migrated=False)
    (tmp_path / "storeapp.py").write_text(GUNICORN_APP)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = dict(os.environ, STORE_URL=url, PYTHONPATH=str(tmp_path))
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--preload", "-w", "2", "-b",
             f"127.0.0.1:{port}", "--graceful-timeout", "10", "storeapp:app"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                first = get_json(base + "/")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not answer:\n" + log.read_text())
                time.sleep(0.1)
        assert first["sites"] >= 1
        # Concurrent slow requests: sync workers take one request at a time, so both
        # workers answer.
        results: List[Dict[str, Any]] = []
        errors: List[BaseException] = []

        def hit() -> None:
            try:
                results.append(get_json(base + "/slow"))
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=hit) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(results) == 8
        assert len({r["pid"] for r in results + [first]}) == 2, results
        # The master's store is refused in a worker, with the cause named.
        refused = get_json(base + "/master-store")
        assert refused["error"] == "UnavailableError", refused
        assert FORK_MESSAGE in refused["message"]
        assert len(ist.InteractionStore.connect(url).list_sites()) == 9
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("gunicorn did not stop on SIGTERM:\n" + log.read_text())
    text = log.read_text()
    assert rc == 0, text
    # No worker died of a signal (SIGSEGV / SIGABRT at exit) or failed to boot.
    assert "was sent" not in text and "Traceback" not in text, text


ASYNC_EXIT_SCRIPT = '''
import asyncio
import sys
from datetime import datetime, timedelta, timezone

import interaction_store as ist

URL = sys.argv[1]
kept = []


async def main() -> None:
    store = await ist.AsyncInteractionStore.connect(URL, migrate=True)
    kept.append(store)  # left open at exit
    tag = sys.argv[2]
    user = await store.create_user("u" + tag, tag + "@example.com", "correct horse battery")
    site = await store.create_site("s" + tag)
    await store.grant_role(user.id, site.id, "editor")
    async with await ist.AsyncInteractionStore.connect(URL) as other:
        session = await other.session_for_user(user.id, site.id)
        t0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
        i = await session.create_interaction(
            title="budget", interaction_type="meeting", lead="Ann",
            start=t0, end=t0 + timedelta(hours=1), timezone="UTC",
        )
        page = await session.finder().text("budget").fetch()
        assert len(page) == 1
        async for item in session.finder():
            assert item.id == i.id
        await asyncio.wait_for(session.update_interaction(i.id, title="x"), timeout=10)
    session = await store.session_for_user(user.id, site.id)
    kept.append(session)
    # Calls still in flight when asyncio.run() ends (it cancels them), and a password
    # hash running on the blocking pool.
    for _ in range(5):
        asyncio.create_task(session.finder().count())
    asyncio.create_task(store.login("u" + tag, "correct horse battery"))
    await asyncio.sleep(0)


asyncio.run(main())
print("done")
'''


def test_interpreter_exits_cleanly_with_open_async_stores(url: str, tmp_path: Path) -> None:
    """The README's asyncio example, with stores left open and calls in flight at exit:
    20 runs, each must exit 0 (the issue saw SIGSEGV/SIGABRT at exit in 8 of 20)."""
    script = tmp_path / "exit.py"
    script.write_text(ASYNC_EXIT_SCRIPT)
    failures = []
    for n in range(20):
        p = subprocess.run(
            [sys.executable, str(script), url, f"{n}x{uuid.uuid4().hex[:6]}"],
            capture_output=True, text=True, timeout=120,
        )
        if p.returncode != 0 or p.stdout.strip() != "done" or "anic" in p.stderr:
            failures.append((n, p.returncode, p.stderr[-2000:]))
    assert not failures, failures
