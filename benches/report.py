"""Writes benches/RESULTS.md and benches/charts/*.png from the JSON of one peer run.

    python benches/report.py [--results benches/results] [--out benches/RESULTS.md]

Inputs (all written by benches/run.sh; nothing here is typed by hand):
- results/machine.json: date, nproc, memory, PostgreSQL version, commit, commands;
- results/rust-compare.txt: the output of the Rust `compare` binary (its ratio table is
  parsed into results/rust-compare.json);
- results/python.json, results/node.json: benches/python/peers.py, benches/node/peers.mjs.
A missing input is reported as missing in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


NOTES = """
## Notes on this comparison

- **The library's statements, read back from the server.** Every raw-SQL baseline on
  PostgreSQL sends the text the library sent, checked before timing in `pg_stat_activity`
  (the line under each table says so), as does the Rust hand-written side
  (`benches/src/ops.rs`, checked for get, create and every Finder shape). The get numbers
  its binds `$1` id, `$2` site; a create is ONE statement, a data-modifying CTE that
  inserts the interaction and its audit row in one round trip without BEGIN/COMMIT. The
  peer scripts time both: the library's statement as the baseline and "BEGIN + 2 INSERTs
  + COMMIT" as what most users write.
- **Unprepared Finder peers.** Finder baselines run unprepared (psycopg `prepare=False`,
  node-postgres unnamed statements; asyncpg with `plan_cache_mode = force_custom_plan`):
  a prepared full-text statement can fall into a generic plan after five executions. The
  extra "prepared (generic-plan trap)" peer shows whether it did in this run.
- **ORM and query-builder SQL.** SQLAlchemy, Kysely and Prisma build their own SQL for the
  same predicates; their rows are checked, their text is not. Prisma has no
  `websearch_to_tsquery` and no row comparison: its full-text page is `$queryRawUnsafe`
  with the library's SQL and its keyset page an `OR` of two comparisons.
- **Prisma 7 here.** The schema engine cannot be downloaded on this machine, so
  `benches/node/prisma/schema.prisma` is written by hand and the client generated with
  `PRISMA_SCHEMA_ENGINE_BINARY=/bin/false` (the `prisma-client-js` generator; Prisma 7's
  query compiler ships as WebAssembly, so no engine binary is needed at run time).
- **Writes** run at the server's `synchronous_commit` and again on connections opened with
  `-c synchronous_commit=off` (this disk's fsync swings 0.5-4 ms). Creates go to the
  `bench-writes` site, which grows with every run.
- **Not covered by this run** (issue 8 asks for more): Finder shapes at 10k and 1M rows
  (run with `BENCH_ROWS=10000` / `1000000`: the scripts take the row count), relevance and
  date-range shapes from Python/Node (they are in the Rust table), update from
  Python/Node, the library's bulk-load rate against COPY, cached Finder, and profiles of the
  groups where the library loses.
"""


def load(p: Path) -> Any:
    return json.loads(p.read_text()) if p.exists() else None


def parse_compare(text: str) -> list[dict[str, Any]]:
    rows = []
    for line in text.splitlines():
        m = re.match(
            r"\|\s*(postgres|sqlite)\s*\|\s*(\w+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\d.]+)x\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|",
            line,
        )
        if m:
            rows.append(
                {
                    "backend": m[1],
                    "op": m[2],
                    "library_median_us": int(m[3]),
                    "hand_median_us": int(m[4]),
                    "ratio": float(m[5]),
                    "library_p99_us": int(m[6]),
                    "hand_p99_us": int(m[7]),
                }
            )
    return rows


def fmt_us(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def group_table(g: dict[str, Any]) -> list[str]:
    out = [f"**{g['title']}**  (`{g['id']}`; baseline: {g['baseline']})", ""]
    if g["kind"] == "throughput":
        out += [
            "| peer | calls/s (median of rounds) | ratio to baseline (higher is better) | call median µs | call p99 µs | rounds calls/s |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for r in g["results"]:
            name = f"**{r['peer']}**" if r["peer"].startswith("library") else r["peer"]
            out.append(
                f"| {name} | {r['calls_per_s']:,.0f} | {r['ratio']:.2f}x | {fmt_us(r['median_us'])} | "
                f"{fmt_us(r['p99_us'])} | {', '.join(f'{x:,.0f}' for x in r['round_calls_per_s'])} |"
            )
    else:
        out += [
            "| peer | median µs | p99 µs | ratio to baseline (lower is better) | round medians µs | calls |",
            "|---|---:|---:|---:|---|---:|",
        ]
        for r in g["results"]:
            name = f"**{r['peer']}**" if r["peer"].startswith("library") else r["peer"]
            out.append(
                f"| {name} | {fmt_us(r['median_us'])} | {fmt_us(r['p99_us'])} | {r['ratio']:.2f}x | "
                f"{', '.join(fmt_us(x) for x in r['round_medians_us'])} | {r['calls']} |"
            )
    if g.get("note"):
        out += ["", g["note"]]
    if g.get("sql_text_same_as_library") is not None:
        out += ["", "Raw-SQL baseline sends the library's SQL text (checked in pg_stat_activity): "
                + ("yes" if g["sql_text_same_as_library"] else "**NO**") + "."]
    out.append("")
    return out


def headline(doc: dict[str, Any]) -> list[str]:
    """One line per group: the library's ratio(s) against every peer."""
    out = [
        "| group | library | baseline | every peer (ratio to baseline) |",
        "|---|---:|---|---|",
    ]
    for g in doc["groups"]:
        libs = [r for r in g["results"] if r["peer"].startswith("library")]
        lib = "; ".join(f"{r['peer']} {r['ratio']:.2f}x" for r in libs) or "n/a"
        peers = ", ".join(f"{r['peer']} {r['ratio']:.2f}" for r in g["results"])
        unit = " (throughput, higher is better)" if g["kind"] == "throughput" else ""
        out.append(f"| {g['title']}{unit} | {lib} | {g['baseline']} | {peers} |")
    return out


def chart(doc: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gs = doc["groups"]
    cols = 3
    rows = (len(gs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 2.9 * rows), squeeze=False)
    for ax in axes.flat[len(gs):]:
        ax.axis("off")
    for ax, g in zip(axes.flat, gs):
        res = g["results"]
        names = [r["peer"] for r in res]
        vals = [r["ratio"] for r in res]
        colors = ["#d62728" if n.startswith("library") else ("#7f7f7f" if n == g["baseline"] else "#1f77b4") for n in names]
        y = range(len(res))
        ax.barh(list(y), vals, color=colors)
        ax.set_yticks(list(y))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(1.0, color="black", lw=0.8, ls="--")
        for i, (v, r) in enumerate(zip(vals, res)):
            lab = f"{v:.2f}x  ({r['calls_per_s']:,.0f}/s)" if g["kind"] == "throughput" else f"{v:.2f}x  ({fmt_us(r['median_us'])} µs)"
            ax.text(v, i, " " + lab, va="center", fontsize=7)
        ax.set_xlim(0, max(vals) * 1.45)
        kind = "throughput ratio (higher is better)" if g["kind"] == "throughput" else "median ratio (lower is better)"
        ax.set_title("\n".join(textwrap.wrap(g["title"], 60)), fontsize=8.5)
        ax.set_xlabel(f"{kind}; 1.0 = {g['baseline']}", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(title + "  (red: the library; grey: the baseline)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def rust_chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), squeeze=False)
    for ax, be in zip(axes.flat, ["postgres", "sqlite"]):
        rs = [r for r in rows if r["backend"] == be]
        ax.barh([r["op"] for r in rs], [r["ratio"] for r in rs], color="#d62728")
        ax.invert_yaxis()
        ax.axvline(1.0, color="black", lw=0.8, ls="--")
        for i, r in enumerate(rs):
            ax.text(r["ratio"], i, f" {r['ratio']:.2f}x ({r['library_median_us']} / {r['hand_median_us']} µs)", va="center", fontsize=7)
        ax.set_xlim(0, max([r["ratio"] for r in rs] + [1]) * 1.5)
        ax.set_title(f"Rust, {be}: library / same SQL on one sqlx connection", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=str(HERE / "results"))
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--charts", default=str(HERE / "charts"))
    a = ap.parse_args()
    res = Path(a.results)
    charts = Path(a.charts)
    machine = load(res / "machine.json") or {}
    py = load(res / "python.json")
    node = load(res / "node.json")
    compare_txt = (res / "rust-compare.txt").read_text() if (res / "rust-compare.txt").exists() else ""
    rust = parse_compare(compare_txt)
    (res / "rust-compare.json").write_text(json.dumps(rust, indent=1) + "\n")

    md: list[str] = ["# Peer benchmark results", ""]
    md += [
        "Generated by `benches/report.py` from the JSON of one run of `benches/run.sh` "
        "(benches/results/). Do not edit by hand: rerun the command.",
        "",
        "## Run",
        "",
        f"- date: {machine.get('date', 'unknown')}",
        f"- commit: `{machine.get('commit', 'unknown')}`",
        f"- machine: {machine.get('nproc', '?')} CPUs ({machine.get('cpu', '?')}), "
        f"{machine.get('memory', '?')} memory, {machine.get('os', '?')}",
        f"- PostgreSQL: {machine.get('postgres_version', '?')} at `{machine.get('database_url_redacted', '?')}` (loopback TCP)",
        f"- load average (1, 5, 15 min) when the report was written: {machine.get('loadavg_at_end', '?')}; "
        f"Python run start/end: {py.get('loadavg_start_end') if py else '-'}; Node run start/end: {node.get('loadavg_start_end') if node else '-'} "
        "(2 cores: a load above ~1 means something else shared the machine during the run)",
        f"- rows: {machine.get('rows', '?')} (10 data sites; reads on the first site, writes on the `bench-writes` site)",
        f"- runtimes: {machine.get('rustc', '?')}; {py['runtime'] if py else 'Python: not run'}; {node['runtime'] if node else 'Node: not run'}",
        "",
        *(
            [
                "> **Warning: this run shared the machine.** The load average stayed above the "
                "2 cores during the peer runs (numbers above), so calls waited for a CPU: medians "
                "and especially p99 and the thread/concurrency throughput groups are noisy (see "
                "the spread of the per-round values). Rerun `benches/run.sh` on a quiet machine "
                "before drawing conclusions from small differences.",
                "",
            ]
            if max([((py or {}).get("loadavg_start_end") or [[0]])[-1][0], ((node or {}).get("loadavg_start_end") or [[0]])[-1][0]]) > 2.5
            else []
        ),
        "Commands:",
        "",
        "```sh",
        *machine.get("commands", []),
        "```",
        "",
        "Method: warm-up calls, then 3 rounds of N calls per peer; within a round the peers are "
        "interleaved call by call and the peer order rotates between rounds. Medians and p99 are "
        "over all rounds; the per-round medians are listed to show the drift. Ratios are to the "
        "first peer of each group (the baseline). Before timing, every peer's result ids are "
        "checked against the library's (reads) or its row and audit row are checked (writes). "
        "Absolute times on this machine drift 2-3x between runs: read the ratios.",
        "",
    ]
    for label, doc, png in [("Python", py, "python.png"), ("Node", node, "node.png")]:
        md += [f"## {label}", ""]
        if not doc:
            md += [f"No {label} results: the {label} peer script did not run (see the run log).", ""]
            continue
        md += [
            f"{doc['runtime']}; {doc['config']['calls']} calls per peer per round (fewer for "
            f"writes and for calls over 5 ms), {doc['config']['rounds']} rounds, "
            f"{doc['config']['warmup']} warm-up calls per peer.",
            "",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in doc["versions"].items()),
            "",
            "### Summary (the library's ratio to each group's baseline)",
            "",
            *headline(doc),
            "",
            f"![{label} peers](charts/{png})",
            "",
            "### Details",
            "",
        ]
        for g in doc["groups"]:
            md += group_table(g)
        if doc["failures"]:
            md += ["### Peers that did not run", "", "| group | peer | error |", "|---|---|---|"]
            for f in doc["failures"]:
                md.append(f"| {f['group']} | {f['peer']} | {f['error'].replace('|', '/')} |")
            md.append("")
        chart(doc, charts / png, f"{label}: interaction-store against its peers, {doc['rows']} rows")
    md += ["## Rust (the `compare` binary: library against the same SQL on one sqlx connection)", ""]
    if rust:
        md += [
            "Interleaved pairs, library first then hand-written alternately; the full output "
            "with the SQL checks and EXPLAIN ANALYZE plans is in `results/rust-compare.txt`.",
            "",
            "| backend | operation | library median µs | hand median µs | ratio | library p99 µs | hand p99 µs |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for r in rust:
            md.append(
                f"| {r['backend']} | {r['op']} | {r['library_median_us']} | {r['hand_median_us']} | "
                f"{r['ratio']:.2f}x | {r['library_p99_us']} | {r['hand_p99_us']} |"
            )
        md += ["", "![Rust](charts/rust.png)", ""]
        rust_chart(rust, charts / "rust.png")
    else:
        md += ["The Rust comparison did not run or printed no table.", ""]
    md += NOTES.strip("\n").splitlines() + [""]
    Path(a.out).write_text("\n".join(md) + "\n")
    print(f"wrote {a.out} and charts under {charts}")


if __name__ == "__main__":
    main()
