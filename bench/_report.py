"""Targets, results.json and the readable RESULTS.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    key: str  # dotted path into the results
    op: str  # ">=", "<=" or "=="
    bound: float
    label: str
    unit: str = ""
    baseline_key: str | None = None


TARGETS = (
    Target("release.c1.p50_ms", "<=", 3, "release p50 latency at concurrency 1", "ms", "release.naive.c1.p50_ms"),
    Target("release.peak_rps", ">=", 1000, "audited releases per second (best level)", "/s", "release.naive_rps"),
    Target("release.c16.p99_ms", "<=", 25, "release p99 latency at concurrency 16", "ms", "release.naive.c16.p99_ms"),
    Target("release.ratio_vs_naive", ">=", 20, "throughput vs the naive design (c16)", "x"),
    Target("grants.batch_per_s", ">=", 1000, "grants per second, batched + pipelined", "/s", "grants.baseline_per_s"),
    Target("grants.gas_single", "<=", 90_000, "gas per single grant", "gas"),
    Target("grants.gas_batch_amortized", "<=", 60_000, "gas per grant in a batch (amortized)", "gas"),
    Target("audit.append_per_s", ">=", 20_000, "audit entries appended per second (anchoring on)", "/s"),
    Target("audit.anchor_lag_p99_s", "<=", 2, "anchor lag p99", "s"),
    Target("verify.integrity_per_s", ">=", 100_000, "integrity check rate", "entries/s"),
    Target("verify.policy_per_s", ">=", 10_000, "full policy re-evaluation rate", "entries/s"),
    Target("revocation.stale_releases", "==", 0, "stale releases after a revocation's receipt"),
    Target("revocation.requests_to_first_denial", "<=", 1, "requests from the receipt to the first denial"),
    Target("scale.rss_growth_pct_entries", "<=", 15, "API RSS growth, 1M to 10M audit entries", "%"),
    Target("scale.rss_growth_pct_consents", "<=", 15, "API RSS growth, 100k consents to the largest measured", "%"),
    Target("scale.startup_s.entries_10m", "<=", 5, "API start-up to ready with 10M audit entries", "s"),
    Target("scale.release_p50_ms_10m_consents", "<=", 3, "release p50 at concurrency 1 with 10M consents", "ms"),
    Target("scale.proof_p50_ms_10m", "<=", 1, "inclusion proof from tiles, p50 at 10M entries", "ms"),
    Target("scale.verify.incremental_s", "<=", 60, "incremental verification of 100k new entries on 10M", "s",
           "scale.verify.full_s"),
)


def lookup(results: dict, key: str) -> Any:
    value: Any = results
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _met(op: str, value, bound) -> bool | None:
    if value is None:
        return None
    return {">=": value >= bound, "<=": value <= bound, "==": value == bound}[op]


def gap(op: str, value, bound) -> str:
    """By how much a missed target is missed."""
    if value is None:
        return "not measured"
    if op == ">=":
        return f"{bound / value:.1f}x short ({value / bound:.0%} of target)" if value else "nothing measured"
    if op == "<=":
        return f"{value / bound:.1f}x over" if bound else f"{value} over"
    return f"{value} instead of {bound}"


def evaluate_targets(results: dict) -> list[dict]:
    out = []
    for t in TARGETS:
        value = lookup(results, t.key)
        met = _met(t.op, value, t.bound)
        row = {"figure": t.key, "label": t.label, "target": f"{t.op} {t.bound:,g}", "value": value, "met": met}
        if t.baseline_key:
            row["baseline"] = lookup(results, t.baseline_key)
        if met is False:
            row["gap"] = gap(t.op, value, t.bound)
        out.append(row)
    for name, data in (results.get("scaling") or {}).get("growth", {}).items():
        if data:
            out.append({"figure": f"scaling.growth.{name}", "label": f"{name}: cost growth vs log n",
                        "target": f"<= {data['log_n_ratio']}x (log n)", "value": data["cost_ratio"],
                        "met": data["within_log_n"]})
    return out


def write_json(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


# --- RESULTS.md --------------------------------------------------------------------------------

def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _met_cell(met) -> str:
    return {True: "**met**", False: "**missed**", None: "–"}[met]


def _table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return lines + [""]


def _target_for(targets: list[dict], key: str) -> dict | None:
    return next((t for t in targets if t["figure"] == key), None)


def _row(results: dict, targets: list[dict], label: str, key: str, baseline=None, ratio=None) -> list:
    t = _target_for(targets, key)
    return [label, lookup(results, key), t["target"] if t else "–", baseline, ratio,
            _met_cell(t["met"]) if t else "–"]


#: The py-spy profile taken for a section (its key under ``profiles``).
PROFILE_FOR = {"release": "release path (API process, concurrency 16)",
               "audit": "audit append (AuditLog + Anchorer, 256 coroutines)",
               "verify": "regulator verification (integrity + policy)"}


def missed_target_notes(results: dict) -> list[str]:
    """A line for each missed target, with the top of its section's profile when there is one."""
    notes = []
    profiles = results.get("profiles") or {}
    for t in results.get("targets") or []:
        if t["met"] is not False:
            continue
        text = f"{t['label']}: {_fmt(t['value'])} against {t['target']}"
        text += f", {t['gap']}." if t.get("gap") else "."
        both = profiles.get(PROFILE_FOR.get(t["figure"].split(".")[0], "")) or {}
        for mode, prof in (("GIL holder", both.get("gil")), ("busy threads", both.get("busy"))):
            if prof and prof.get("self"):
                top = "; ".join(f"`{f}` {p:.0f}%" for p, f in prof["self"][:4])
                text += f" Most self time in its profile ({mode}): {top}."
        notes.append(text)
    return notes


def render_markdown(results: dict) -> str:
    m = results["machine"]
    targets = results["targets"]
    r, g, a, v, rev = (results.get(k) or {} for k in ("release", "grants", "audit", "verify", "revocation"))
    mode = results.get("mode", "full")
    out = [
        "# Benchmark results",
        "",
        f"Generated by `scripts/bench{' --quick' if mode == 'quick' else ''}` on {m['date']} "
        f"(commit {m.get('commit') or '?'}); every figure below was measured in that one run, beside its baseline"
        + (", except the sections named just below, measured again later." if results.get("partial_runs") else "."),
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, {m['os']}. "
        f"Python {m['python']}, Node {m['node']}, anvil {m['anvil']}; "
        + ", ".join(f"{k} {v}" for k, v in (m.get("packages") or {}).items()) + ". "
        f"Other work on the machine: {_fmt(m.get('cpu_busy_before_start_pct'))}% of the CPU was busy in the 2 s "
        f"before the run; load average (1, 5, 15 min) {m.get('load_average_start')} at the start, "
        f"{m.get('load_average_end')} at the end.",
        "",
        "Everything runs on this one machine: the devnet (anvil behind the JSON-RPC gateway), the API "
        "(one uvicorn process), the load generator (its own process) and, for the baseline, the naive server. "
        f"Whole run: {results.get('runtime_s', 0):.0f} s.",
        "",
    ]
    for run in results.get("partial_runs") or []:
        out += [f"Measured again later, in a run of only these sections: {', '.join(run['sections'])} "
                f"(commit {run.get('commit') or '?'}, {run.get('date')}, {_fmt(run.get('runtime_s'))} s).", ""]
    met = sum(1 for t in targets if t["met"])
    out += [f"**Targets met: {met} of {len(targets)}.**", ""]

    out += ["## 1. Audited releases over HTTP", "",
            "`POST /v1/records/query`, 80% allowed / 20% denied (field not granted, other purpose, no consent) over "
            f"{r.get('citizens', '?')} citizens; durable audit entry for each; keep-alive load generator in its own "
            f"process, {r.get('seconds', '?')} s per level after {r.get('warmup', '?')} s warm-up. Baseline: the naive "
            "design (`bench/naive.py`: web3.py `Consents.check` eth_call + one `AuditAnchor.anchor` "
            "transaction per entry, waited for), same machine, same devnet, same load generator.", ""]
    naive = r.get("naive") or {}
    rows = []
    for level in ("c1", "c16", "c64"):
        x, b = r.get(level) or {}, naive.get(level) or {}
        rows.append([f"concurrency {level[1:]}", x.get("rps"), x.get("p50_ms"), x.get("p95_ms"), x.get("p99_ms"),
                     x.get("errors"), x.get("client_cpu_us_per_request"), b.get("rps"), b.get("p50_ms"),
                     b.get("p99_ms")])
    out += _table(["level", "releases/s", "p50 ms", "p95 ms", "p99 ms", "errors", "generator CPU µs/request",
                   "naive/s", "naive p50 ms", "naive p99 ms"], rows)
    out += _table(["figure", "value", "target", "baseline", "ratio", "met?"], [
        _row(results, targets, "p50 at concurrency 1 (ms)", "release.c1.p50_ms", lookup(naive, "c1.p50_ms")),
        _row(results, targets, f"peak releases/s ({r.get('peak_level', '?')})", "release.peak_rps",
             r.get("naive_rps"), r.get("peak_ratio_vs_naive")),
        _row(results, targets, "p99 at concurrency 16 (ms)", "release.c16.p99_ms", lookup(naive, "c16.p99_ms")),
        _row(results, targets, "throughput vs naive at concurrency 16", "release.ratio_vs_naive",
             r.get("naive_rps"), r.get("ratio_vs_naive")),
    ])

    out += ["## 2. Consent grants on-chain", "",
            f"{_fmt(g.get('batch_count'))} pre-signed grants in `grantBatch` transactions of {g.get('batch_size')} "
            f"({g.get('batch_transactions')} transactions) pipelined over {g.get('relayer_keys')} relayer keys; "
            f"{_fmt(g.get('single_count'))} single `grant` transactions pipelined the same way; baseline: "
            f"{g.get('baseline_count')} grants with web3.py's contract API, one at a time, each receipt awaited. "
            "Timed from the first submission to the last receipt; gas from the receipts.", ""]
    out += _table(["figure", "value", "target", "baseline", "ratio", "met?"], [
        _row(results, targets, "grants/s, batched + pipelined", "grants.batch_per_s", g.get("baseline_per_s"),
             g.get("ratio_batch_vs_baseline")),
        ["grants/s, single transactions pipelined", g.get("single_per_s"), "–", g.get("baseline_per_s"),
         round(g["single_per_s"] / g["baseline_per_s"], 1) if g.get("single_per_s") and g.get("baseline_per_s")
         else None, "–"],
        _row(results, targets, "gas per single grant", "grants.gas_single"),
        _row(results, targets, "gas per grant, amortized in a batch", "grants.gas_batch_amortized"),
        ["gas per revocation (revokeWithSig)", g.get("gas_revoke"), "–", None, None, "–"],
        ["gas per anchor (steady state; first anchor of a log)", f"{_fmt(g.get('gas_anchor'))} "
         f"({_fmt(g.get('gas_anchor_first'))})", "–", None, None, "–"],
    ])

    out += ["## 3. Audit log", "",
            f"`AuditLog` appends from {a.get('appenders')} for {a.get('duration_s')} s on a SQLite file "
            "(WAL, synchronous=FULL, group commit), the entry built under the log's lock as the release path does, "
            f"while the production `Anchorer` anchors every {a.get('anchor_interval_s')} s on the devnet. Anchor lag: "
            "from an entry's commit to the receipt of the first anchor covering it. Proofs: RFC 6962 audit paths "
            "in a tree of 1,000,000 entries.", ""]
    out += _table(["figure", "value", "target", "baseline", "ratio", "met?"], [
        _row(results, targets, f"entries appended per second ({a.get('appenders')})", "audit.append_per_s"),
        *[[f"entries appended per second ({o.get('appenders')})", o.get("append_per_s"), "–", None, None, "–"]
          for o in (a.get("other_appenders") or {}).values()],
        _row(results, targets, "anchor lag p99 (s)", "audit.anchor_lag_p99_s"),
        ["anchor lag p50 / max (s)", f"{_fmt(a.get('anchor_lag_p50_s'))} / {_fmt(a.get('anchor_lag_max_s'))}", "–",
         None, None, "–"],
        ["inclusion proof size at 1M entries (bytes)", a.get("proof_bytes_1m"), "–", None, None, "–"],
        ["inclusion proof build / verify at 1M (µs)",
         f"{_fmt(a.get('proof_build_us_1m'))} / {_fmt(a.get('proof_verify_us_1m'))}", "–", None, None, "–"],
    ])

    out += ["## 4. Regulator verification", "",
            f"{_fmt(v.get('entries'))} entries ({_fmt(v.get('allows_reevaluated'))} ALLOW) citing "
            f"{v.get('consents_cited')} consents granted on the devnet, tree heads anchored on-chain "
            f"({v.get('anchors_checked')} anchors); `check_integrity` of `ledger/audit/incremental.py` and `check_policy` of `ledger/audit/trail.py` "
            f"timed separately. Verifier verdict: {'ok' if v.get('ok') else 'PROBLEMS: ' + str(v.get('problems'))}.",
            ""]
    out += _table(["figure", "value", "target", "baseline", "ratio", "met?"], [
        _row(results, targets, "integrity check (entries/s)", "verify.integrity_per_s"),
        _row(results, targets, "policy re-evaluation (entries/s)", "verify.policy_per_s"),
    ])

    out += ["## 5. Revocation", "",
            f"{rev.get('trials')} trial(s): {rev.get('concurrency')} connections query under a consent while the "
            "citizen revokes it through the API; requests that started after the revocation's response (with its "
            "receipt) arrived are counted.", ""]
    out += _table(["figure", "value", "target", "baseline", "ratio", "met?"], [
        _row(results, targets, "stale releases", "revocation.stale_releases"),
        _row(results, targets, "requests to the first denial", "revocation.requests_to_first_denial"),
        ["time from receipt to first denial (ms)", rev.get("ms_receipt_to_first_denial"), "–", None, None, "–"],
    ])

    s = results.get("scaling") or {}
    out += ["## 6. Scaling", "",
            "Cost per operation as the audit log grows (append through `AuditLog` on a database already holding "
            "that many entries; integrity per entry; inclusion proof) and as the consent set grows (the release "
            "decision: projection lookup + `policy.evaluate`, in-process, since registering 100k consents on-chain "
            "would outlast the run). The real API's p50 at concurrency 1 is also measured again after the grants "
            "benchmark filled the projection.", ""]
    rows = [[_fmt(p["entries"]), p.get("append_us"), p.get("integrity_us"), p.get("proof_build_us"),
             p.get("proof_verify_us"), p.get("proof_bytes")] for p in s.get("audit", [])]
    out += _table(["audit entries", "append µs/entry", "integrity µs/entry", "proof build µs", "proof verify µs",
                   "proof bytes"], rows)
    rows = [[_fmt(p["consents"]), p.get("decision_us")] for p in s.get("consents", [])]
    out += _table(["consents in the projection", "release decision µs"], rows)
    api = s.get("api_release_c1") or []
    if api:
        out += _table(["consents on-chain (API projection)", "release p50 ms (c1)", "release p99 ms (c1)"],
                      [[_fmt(p["consents"]), p.get("p50_ms"), p.get("p99_ms")] for p in api])
    out += _table(["growth (largest / smallest size)", "cost ratio", "log n ratio", "within log n?"],
                  [[name, d.get("cost_ratio"), d.get("log_n_ratio"), _met_cell(d.get("within_log_n"))]
                   for name, d in s.get("growth", {}).items() if d])

    out += _render_scale(results, targets)

    out += ["## All targets", ""]
    out += _table(["figure", "value", "target", "met?", "gap"],
                  [[t["label"], t["value"], t["target"], _met_cell(t["met"]), t.get("gap", "")] for t in targets])

    notes = missed_target_notes(results) + (results.get("notes") or [])
    notes += [note for run in results.get("partial_runs") or [] for note in run.get("notes") or []]
    profiles = results.get("profiles") or {}
    if notes or profiles:
        out += ["## Where targets are missed, and what the profiles say", ""]
        out += [f"- {n}" for n in notes] + ([""] if notes else [])
        for name, both in profiles.items():
            for prof in (both or {}).values():
                if not prof or not prof.get("samples"):
                    continue
                view = ("only the thread holding the GIL (where the interpreter's time goes)"
                        if prof.get("mode") == "GIL holder" else
                        "every thread not waiting on a lock or queue (blocking I/O such as fsync and RPC included)")
                out += [f"### Profile: {name}, {prof.get('mode', '')}", "",
                        f"py-spy, {prof['samples']} samples of {view}, taken in an extra run beside the measured "
                        "one.", ""]
                out += _table(["self %", "function"], [[f"{p:.1f}", f"`{f}`"] for p, f in prof["self"][:10]])
                out += _table(["inclusive %", "function"],
                              [[f"{p:.1f}", f"`{f}`"] for p, f in prof["inclusive"][:12]])
    return "\n".join(out).rstrip() + "\n"


def _render_scale(results: dict, targets: list[dict]) -> list[str]:
    sc, pg, dev = (results.get(k) or {} for k in ("scale", "postgres", "devnet"))
    if not (sc or pg or dev):
        return []
    m = sc.get("machine") or {}
    out = ["## 7. At a city's size (`scripts/bench --scale`)", "",
           f"Measured on {m.get('date', '?')} (commit {m.get('commit') or '?'}), load average "
           f"{m.get('load_average_start')} at the start; {_fmt(sc.get('runtime_s'))} s in all. Each part runs on a "
           "private system of its own. Big audit logs are the system's own log (the release mix, decided by the live "
           "policy) cloned by `bench/_biglog.py` with new seqs and times, integrated into tiles by the production "
           "integrator and anchored by the API, so the regulator's verifier accepts them.", ""]
    rows = [[f"{size} audit entries", p.get("rss_mb"), p.get("startup_s"), p.get("serving_s"),
             p.get("first_start_s"), p.get("proof_p50_ms"), (p.get("release_c4") or {}).get("p50_ms")]
            for size, p in (sc.get("log") or {}).items()]
    rows += [[f"{size} consents", p.get("rss_mb"), p.get("startup_s"), None, None, None, p.get("release_p50_ms")]
             for size, p in (sc.get("consents") or {}).items()]
    out += _table(["API instance over", "RSS MB", "restart to ready s", "to serving s",
                   "first start after the import s", "proof p50 ms",
                   "release p50 ms (c4 burst over the log; c1 over consents)"], rows)
    out += ["A restart is the instance started again over a log it has anchored. The first start after the bulk "
            "import must first anchor the imported entries, at most the contract's `maxTreeSizeStep` (2^20) an "
            "anchor and an anchor a block.", ""]
    v = sc.get("verify") or {}
    out += _table(["figure", "value", "target", "baseline", "ratio", "met?"], [
        _row(results, targets, "API RSS growth, 1M → 10M entries (%)", "scale.rss_growth_pct_entries"),
        _row(results, targets, "start-up with 10M entries (s)", "scale.startup_s.entries_10m",
             lookup(results, "scale.startup_s.entries_1m")),
        _row(results, targets, "inclusion proof p50 at 10M (ms)", "scale.proof_p50_ms_10m"),
        _row(results, targets, "API RSS growth, 100k consents → the largest measured (%)", "scale.rss_growth_pct_consents"),
        _row(results, targets, "release p50, c1, 10M consents (ms)", "scale.release_p50_ms_10m_consents"),
        ["release p50, c1, 1M consents (ms)", lookup(results, "scale.release_p50_ms_1m_consents"), "–", None, None,
         "–"],
        _row(results, targets, "incremental verification, 100k new on 10M (s)", "scale.verify.incremental_s",
             v.get("full_s"), round(v["full_s"] / v["incremental_s"], 1) if v.get("full_s") and
             v.get("incremental_s") else None),
    ])
    if v:
        f, i = v.get("full") or {}, v.get("incremental") or {}
        out += [f"Verification: `consent-ledger audit verify --database --state FILE` in its own process. Full run "
                f"of {_fmt(f.get('entries'))} entries: {_fmt(f.get('seconds'))} s ({_fmt(f.get('per_s'))} entries/s), "
                f"peak RSS {_fmt(f.get('peak_rss_mb'))} MB; at that rate a full run of the large log takes "
                f"{_fmt(v.get('full_s'))} s, the baseline above. Incremental run of {_fmt(i.get('new_entries'))} new "
                f"entries on {_fmt(i.get('entries'))}: {_fmt(i.get('seconds'))} s, peak RSS "
                f"{_fmt(i.get('peak_rss_mb'))} MB, from the state a clean full run of the large log leaves (written "
                "from the log the bench built and checked by the run against the chain's anchor). Release p99 at "
                f"c16: {_fmt(f.get('release_c16_p99_ms_quiet'))} ms quiet and "
                f"{_fmt(f.get('release_c16_p99_ms_during'))} ms during the API's full job on the small log; "
                f"{_fmt(i.get('release_c16_p99_ms_quiet'))} ms quiet and {_fmt(i.get('release_c16_p99_ms_during'))} "
                "ms during its incremental jobs on the large one.", ""]
    if pg:
        sq = pg.get("sqlite_c16") or {}
        out += ["The release mix at concurrency 16 (the same world and load generator as section 1), on SQLite with "
                "one API instance, then on PostgreSQL (a private cluster from Debian's server) with one instance and "
                "with two sharing it, the load split across them. On two cores, the second instance adds no CPU: "
                "both instances, PostgreSQL, the devnet and the load generator share what one instance already "
                "uses up, so a ratio near 1 shows only that it does not get in the way"
                + (f" (measured on {pg['run'].get('date')}, commit {pg['run'].get('commit')})." if pg.get("run")
                   else "."), ""]
        out += _table(["set-up", "releases/s", "p50 ms", "p99 ms", "ratio"], [
            ["SQLite, one instance", sq.get("rps"), sq.get("p50_ms"), sq.get("p99_ms"), None],
            ["PostgreSQL, one instance", pg.get("release_c16_rps"), pg.get("release_c16_p50_ms"),
             pg.get("release_c16_p99_ms"), f"{_fmt(pg.get('ratio_vs_sqlite'))}x SQLite"],
            ["PostgreSQL, two instances", pg.get("two_instances_rps"), pg.get("two_instances_p50_ms"),
             pg.get("two_instances_p99_ms"), f"{_fmt(pg.get('two_instances_ratio'))}x one instance"]])
    for size, d in dev.items():
        run = d.get("run") or {}
        out += [f"Devnet, {size.removeprefix('consents_')} consents granted with `grantBatch` "
                f"({_fmt(d.get('batch_size'))} a transaction, pipelined over the relayer keys), then the devnet "
                "killed with SIGKILL and restarted: recovery loads the last state dump and replays the journal "
                "after it" + (f" (measured on {run.get('date')}, commit {run.get('commit')})." if run else
                              " (measured in an earlier scale run).") , ""]
        out += _table(["figure", "value"], [
            ["grant time (s)", d.get("grant_s")], ["grants/s", d.get("grants_per_s")],
            ["anvil RSS (MB)", d.get("anvil_rss_mb")],
            ["one state dump, mining paused (s)", d.get("dump_s")], ["dump size (MB)", d.get("dump_mb")],
            ["journal (MB)", d.get("journal_mb")], ["restart after kill -9 (s)", d.get("restart_s")],
            ["replay (s; blocks)", f"{_fmt(d.get('replay_s'))}; {_fmt(d.get('replay_blocks'))}"]])
    return out
