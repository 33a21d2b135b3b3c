#!/usr/bin/env python3
"""Docs that run: every fenced block of the three READMEs is executed, or exempt with a reason.

    python3 scripts/readme_blocks.py check             # classify every block; fail on one
                                                        # that nothing runs (no services needed)
    VENV_PYTHON scripts/readme_blocks.py python         # the Python tours (bindings-python/scripts/test.sh)
    python3 scripts/readme_blocks.py node --project DIR --tsc TSC   # the Node tours + tsc --strict
                                                        # (bindings-node/scripts/test.sh)

READMEs: README.md, bindings-python/README.md, bindings-node/README.md. How a block is
treated follows from its info string and from an HTML comment on the line before it:

- ```python / ```js: part of that README's *tour* for the language. The runner concatenates
  the README's blocks of that language in order and runs them as one program on a fresh
  database, once on SQLite and once on PostgreSQL (the example URL
  "postgres://app@db/interactions" and the demo files "sqlite://lifecycle.db" /
  "sqlite://privacy.db" become a fresh database of the backend; "redis://cache:6379/0"
  becomes REDIS_URL; a connect() without a URL stays on the SQLite default in a fresh
  working directory). Later blocks see the names earlier blocks defined. A block whose info
  string has the word `scoped` (```js scoped) runs in its own scope: it still sees the names
  before it, but its own do not leak to the blocks after it (a demo with its own store).
  Each tour must finish within TOUR_TIMEOUT seconds (it must terminate: open stores do not
  keep the process alive). The Node tours are also type-checked: `tsc --strict --checkJs`.
- ```sql (README.md): run by the Python runner with psql, each in a transaction that is
  rolled back, on the PostgreSQL tour's (migrated) database.
- ```rust / ```rust,no_run (README.md): compiled by `cargo test --doc` (interaction-core's
  lib.rs includes README.md under cfg(doctest)); `rust,ignore` is not compiled, so it needs
  an exemption like any other block.
- ```toml: checked here: each line parses as TOML and names a real feature / the profile
  override of the workspace Cargo.toml.
- `<!-- run-by: PATH -->`: executed by that test, which must exist and name the block's
  section heading (e.g. interaction-cli/tests/cli.rs reads the CLI walk-through).
- `<!-- no-run: REASON -->`: not runnable (install commands, a diagram, the test command
  itself, ...). Keep these few.

Any other block fails `check`: a new example nobody runs is an error, not a silent gap.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
READMES = ["README.md", "bindings-python/README.md", "bindings-node/README.md"]
TOUR_TIMEOUT = 120
EXAMPLE_PG = "postgres://app@db/interactions"
EXAMPLE_REDIS = "redis://cache:6379/0"
DEMO_SQLITE = ("sqlite://lifecycle.db", "sqlite://privacy.db")
ANNOTATION = re.compile(r"^<!--\s*(no-run|run-by):\s*(.+?)\s*-->\s*$")
# Files that must call the runners (the wiring is checked too, so that a runner that
# silently stopped being called fails `check`).
WIRING = {
    "python": ("bindings-python/scripts/test.sh", "readme_blocks.py\" python"),
    "node": ("bindings-node/scripts/test.sh", "readme_blocks.py\" node"),
    "check": ("scripts/test.sh", "readme_blocks.py\" check"),
    "rust": ("interaction-core/src/lib.rs", 'include_str!("../../README.md")'),
}


@dataclass
class Block:
    readme: str
    line: int  # 1-based line of the opening fence
    info: str
    code: str
    heading: str
    annotation: Optional[Tuple[str, str]] = None
    words: List[str] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.words[0] if self.words else ""

    @property
    def where(self) -> str:
        return f"{self.readme}:{self.line}"

    @property
    def scoped(self) -> bool:
        return "scoped" in self.words[1:]


def parse(readme: str) -> List[Block]:
    lines = (REPO / readme).read_text(encoding="utf-8").split("\n")
    blocks: List[Block] = []
    heading = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        m = re.match(r"^(```+|~~~+)(.*)$", line)
        if m:
            fence, info = m.group(1), m.group(2).strip()
            j = i + 1
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            if j == len(lines):
                raise SystemExit(f"{readme}:{i + 1}: unclosed code block")
            prev = i - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            ann = ANNOTATION.match(lines[prev]) if prev >= 0 else None
            b = Block(readme, i + 1, info, "\n".join(lines[i + 1 : j]) + "\n", heading,
                      (ann.group(1), ann.group(2)) if ann else None,
                      re.split(r"[\s,]+", info) if info else [])
            blocks.append(b)
            i = j + 1
            continue
        i += 1
    return blocks


def all_blocks() -> List[Block]:
    return [b for r in READMES for b in parse(r)]


# ------------------------------------------------------------------------ check
def check_toml(b: Block) -> Optional[str]:
    import tomllib  # Python 3.11+: the check runs on the system python3

    core = tomllib.loads((REPO / "interaction-core/Cargo.toml").read_text())
    workspace = tomllib.loads((REPO / "Cargo.toml").read_text())
    for n, line in enumerate(b.code.splitlines()):
        if not line.strip() or line.lstrip().startswith("#") or line.startswith("["):
            continue
        try:
            doc = tomllib.loads(line)
        except tomllib.TOMLDecodeError as e:
            return f"line {n + 1} is not TOML: {e}"
        dep = doc.get("interaction-core")
        if isinstance(dep, dict):
            for f in dep.get("features", []):
                if f not in core.get("features", {}):
                    return f"feature {f!r} is not a feature of interaction-core"
    try:
        doc = tomllib.loads(b.code)
    except tomllib.TOMLDecodeError:
        return None  # several alternatives of one key: checked line by line above
    prof = doc.get("profile")
    if prof is not None:
        want = workspace.get("profile", {})
        for name, pkgs in prof.items():
            for pkg, settings in pkgs.get("package", {}).items():
                have = want.get(name, {}).get("package", {}).get(pkg)
                if have != settings:
                    return f"[profile.{name}.package.{pkg}] is {have!r} in the workspace Cargo.toml"
    return None


def status(b: Block) -> Tuple[bool, str]:
    """(ok, how it is executed or why it fails)."""
    if b.annotation:
        kind, arg = b.annotation
        if kind == "no-run":
            return (len(arg) >= 10, f"exempt: {arg}" if len(arg) >= 10 else "no-run needs a reason")
        path = REPO / arg
        if not path.is_file():
            return False, f"run-by: {arg} does not exist"
        if b.heading.lower() not in path.read_text(encoding="utf-8").lower():
            return False, f"run-by: {arg} does not mention the section {b.heading!r}"
        return True, f"run by {arg}"
    lang = b.lang
    if lang == "python" and b.readme != "bindings-node/README.md":
        return True, "Python tour (bindings-python/scripts/test.sh), SQLite + PostgreSQL"
    if lang == "js" and b.readme != "bindings-python/README.md":
        return True, "Node tour (bindings-node/scripts/test.sh), SQLite + PostgreSQL, tsc --strict"
    if lang == "sql" and b.readme == "README.md":
        return True, "psql in a rolled-back transaction (bindings-python/scripts/test.sh)"
    if lang == "toml":
        err = check_toml(b)
        return (err is None, err or "checked against the Cargo.toml files")
    if lang.startswith("rust") and b.readme == "README.md":
        if "ignore" in b.words:
            return False, "rust,ignore is compiled nowhere: make it a doctest or exempt it"
        return True, "compiled by cargo test --doc (lib.rs includes README.md)"
    if not lang:
        return False, "no info string (rustdoc would compile it as Rust): say ```text"
    return False, f"nothing executes this ```{b.info} block: run it or exempt it (<!-- no-run: why -->)"


def cmd_check(_args: argparse.Namespace) -> int:
    bad = 0
    blocks = all_blocks()
    for b in blocks:
        ok, how = status(b)
        print(f"{'ok ' if ok else 'BAD'} {b.where:32} {b.info or '(none)':16} {how}")
        bad += not ok
    for what, (path, needle) in WIRING.items():
        if needle not in (REPO / path).read_text(encoding="utf-8"):
            print(f"BAD wiring: {path} does not contain {needle!r} ({what} blocks would not run)")
            bad += 1
    exempt = sum(1 for b in blocks if b.annotation and b.annotation[0] == "no-run")
    print(f"{len(blocks)} blocks, {exempt} exempt, {bad} problem(s)")
    return 1 if bad else 0


# --------------------------------------------------------------------- services
def admin_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set: the PostgreSQL tours cannot run (they never skip)")
    return url


def psql(url: str, *args: str, sql: Optional[str] = None) -> str:
    cmd = ["psql", url, "-X", "-v", "ON_ERROR_STOP=1", "-qAt", *args]
    out = subprocess.run(cmd, input=sql, check=True, capture_output=True, text=True, timeout=120)
    return out.stdout


class Databases:
    """Fresh PostgreSQL databases, dropped at the end."""

    def __init__(self) -> None:
        self.names: List[str] = []

    def fresh(self) -> str:
        name = f"readme_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        psql(admin_url(), "-c", f"CREATE DATABASE {name}")
        self.names.append(name)
        base = admin_url().rsplit("/", 1)[0]
        return f"{base}/{name}"

    def drop(self) -> None:
        for n in self.names:
            psql(admin_url(), "-c", f"DROP DATABASE IF EXISTS {n} WITH (FORCE)")


def urls_for(backend: str, tmp: Path, dbs: Databases) -> Dict[str, str]:
    """The example URLs of the READMEs and what they become in this run."""
    subs: Dict[str, str] = {EXAMPLE_REDIS: os.environ.get("REDIS_URL", "")}
    if not subs[EXAMPLE_REDIS]:
        raise SystemExit("REDIS_URL is not set: the caching blocks cannot run")
    for i, example in enumerate((EXAMPLE_PG,) + DEMO_SQLITE):
        subs[example] = dbs.fresh() if backend == "postgres" else f"sqlite://{tmp}/tour{i}.db"
    return subs


def substitute(code: str, subs: Dict[str, str]) -> str:
    for k, v in subs.items():
        code = code.replace(k, v)
    return code


def run(cmd: List[str], cwd: Path, what: str, env: Optional[Dict[str, str]] = None) -> None:
    print(f"[readme] {what}", file=sys.stderr, flush=True)
    try:
        p = subprocess.run(cmd, cwd=cwd, timeout=TOUR_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"[readme] {what}: did not finish within {TOUR_TIMEOUT} s (a snippet must terminate)")
    if p.returncode != 0:
        raise SystemExit(f"[readme] {what}: exit {p.returncode}")


# ----------------------------------------------------------------------- python
PY_PRELUDE = '''\
import sys
import interaction_store as ist

def _block(where, line, code, ns):
    print(f"[readme] running {where}", file=sys.stderr, flush=True)
    exec(compile("\\n" * line + code, where.split(":")[0], "exec"), ns)

_ns = {"__name__": "__readme__", "ist": ist}
'''


def python_tour(blocks: List[Block], subs: Dict[str, str]) -> str:
    out = [PY_PRELUDE]
    for b in blocks:
        ns = "dict(_ns)" if b.scoped else "_ns"
        out.append(f"_block({b.where!r}, {b.line}, {substitute(b.code, subs)!r}, {ns})\n")
    return "".join(out)


def cmd_python(_args: argparse.Namespace) -> int:
    import interaction_store  # noqa: F401  (fail early: run this with the venv's python)

    dbs = Databases()
    try:
        with tempfile.TemporaryDirectory(prefix="readme-py-") as tmp_s:
            tmp = Path(tmp_s)
            sql_url = None
            for readme in ("bindings-python/README.md", "README.md"):
                blocks = [b for b in parse(readme) if b.lang == "python" and not b.annotation]
                for backend in ("sqlite", "postgres"):
                    cwd = tmp / f"{readme.replace('/', '_')}-{backend}"
                    cwd.mkdir()
                    subs = urls_for(backend, cwd, dbs)
                    if backend == "postgres":
                        sql_url = subs[EXAMPLE_PG]
                    script = cwd / "tour.py"
                    script.write_text(python_tour(blocks, subs))
                    run([sys.executable, "-X", "dev", str(script)], cwd,
                        f"{readme}: {len(blocks)} python blocks on {backend}")
            assert sql_url
            run_sql_blocks(sql_url)
    finally:
        dbs.drop()
    return 0


def run_sql_blocks(url: str) -> None:
    """README.md's SQL, on a migrated PostgreSQL database, each in a rolled-back transaction.
    The second block is the administrator's path when the migration could not create the
    role: the existing role is renamed away inside the transaction first."""
    for b in [b for b in parse("README.md") if b.lang == "sql" and not b.annotation]:
        prep = ""
        if "CREATE ROLE interaction_reporting" in b.code:
            prep = "ALTER ROLE interaction_reporting RENAME TO interaction_reporting_saved;\n"
        print(f"[readme] running {b.where} (sql)", file=sys.stderr, flush=True)
        psql(url, "-1", sql=f"{prep}{b.code}\nROLLBACK;\n")


# ------------------------------------------------------------------------- node
IMPORT = re.compile(r"^import\s+\{([^}]*)\}\s+from\s+'([^']+)'\s*;?\s*$")


def node_tour(blocks: List[Block], subs: Dict[str, str]) -> str:
    imports: Dict[str, List[str]] = {}
    body: List[str] = []
    for b in blocks:
        lines = []
        for line in substitute(b.code, subs).splitlines():
            m = IMPORT.match(line)
            if m:
                names = imports.setdefault(m.group(2), [])
                names += [n.strip() for n in m.group(1).split(",") if n.strip() and n.strip() not in names]
                lines.append("")  # keep the line numbers
            else:
                lines.append(line)
        code = "\n".join(lines)
        body.append(f"// {b.where}\nprocess.stderr.write('[readme] running {b.where}\\n')\n")
        body.append("{\n" + code + "\n}\n" if b.scoped else code + "\n")
    head = "".join(f"import {{ {', '.join(n)} }} from '{m}'\n" for m, n in imports.items())
    return "// @ts-check\n" + head + "".join(body) + "export {}\n"


TSCONFIG = """{
  "compilerOptions": {
    "strict": true, "noEmit": true, "allowJs": true, "checkJs": true,
    "target": "es2022", "lib": ["es2022"], "module": "nodenext",
    "moduleResolution": "nodenext", "types": ["node"], "typeRoots": ["%s"],
    "skipLibCheck": false
  },
  "files": [%s]
}
"""


def cmd_node(args: argparse.Namespace) -> int:
    project = Path(args.project).resolve()
    dbs = Databases()
    tours: List[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="readme-node-") as tmp_s:
            tmp = Path(tmp_s)
            for readme in ("bindings-node/README.md", "README.md"):
                blocks = [b for b in parse(readme) if b.lang == "js" and not b.annotation]
                for backend in ("sqlite", "postgres"):
                    cwd = tmp / f"{readme.replace('/', '_')}-{backend}"
                    cwd.mkdir()
                    subs = urls_for(backend, cwd, dbs)
                    # In the project, so that 'interaction-store' resolves; runs in cwd.
                    name = f"readme-tour-{readme.replace('/', '_').replace('.md', '')}-{backend}.mjs"
                    (project / name).write_text(node_tour(blocks, subs))
                    tours.append(name)
                    run(["node", str(project / name)], cwd, f"{readme}: {len(blocks)} js blocks on {backend}")
    finally:
        dbs.drop()
    tsc = Path(args.tsc).absolute()  # node_modules/.bin/tsc (a link: not resolved)
    # @types/node from the package's dev dependencies (beside tsc), not the test project's.
    types = tsc.parent.parent / "@types"
    (project / "tsconfig.readme.json").write_text(TSCONFIG % (types, ", ".join(f'"{t}"' for t in tours)))
    print("[readme] tsc --strict --checkJs on the Node tours", file=sys.stderr, flush=True)
    p = subprocess.run([str(tsc), "-p", str(project / "tsconfig.readme.json")], cwd=project)
    if p.returncode == 0:
        for t in tours:
            (project / t).unlink()
    else:
        print(f"[readme] tsc failed: the tours are in {project}", file=sys.stderr)
    return p.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check")
    sub.add_parser("python")
    n = sub.add_parser("node")
    n.add_argument("--project", required=True, help="a folder where 'interaction-store' is installed")
    n.add_argument("--tsc", required=True)
    args = ap.parse_args()
    return {"check": cmd_check, "python": cmd_python, "node": cmd_node}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
