"""examples/quickstart.py runs as a test: on its embedded SQLite default (no argument, in
an empty working directory) and on the test database given as argv[1]."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def run(args: list, cwd: Path) -> str:
    out = subprocess.run(
        [sys.executable, str(QUICKSTART), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def check(stdout: str) -> None:
    assert "search 'budget': 2 hits" in stdout
    assert "a stale update is refused: CONFLICT" in stdout
    assert "viewer bob cannot delete: permission denied" in stdout
    assert "restored #" in stdout
    assert stdout.rstrip().endswith("done")


def test_quickstart_on_default_sqlite(tmp_path: Path) -> None:
    check(run([], tmp_path))
    assert (tmp_path / "interactions.db").exists()
    check(run([], tmp_path))  # runs again on the same database


def test_quickstart_with_url(url: str, tmp_path: Path) -> None:
    check(run([url], tmp_path))
