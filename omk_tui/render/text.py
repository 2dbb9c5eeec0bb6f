"""Plain-text and Markdown renderings of goals and proofs (stable, no colour, no textual)."""

from __future__ import annotations

from omk_tui.models.gates import GateResult
from omk_tui.models.proof import Proof
from omk_tui.render.safe import printable, printable_data


def format_age(secs: float | None) -> str:
    if secs is None:
        return "-"
    secs = max(0.0, secs)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{int(secs // size)}{unit}"
    return f"{int(secs)}s"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_goals_table(rows: list[dict]) -> str:
    """`omk-tui goals`: one line per goal, newest first."""
    rows = printable_data(rows)
    header = ("ID", "STATUS", "PHASE", "PROGRESS", "AGE", "GOAL")
    lines = [header]
    for r in rows:
        p = r["progress"]
        progress = f"{p['done']}/{p['total']}" if p["total"] else "-"
        lines.append((r["id"], r["status"], r["phase"], progress, format_age(r["age_secs"]), _clip(r["goal"], 60)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths)) + "  " + line[-1] for line in lines]
    for r in rows:
        for problem in r.get("problems", []):
            out.append(f"! {r['id']}: {problem}")
    return "\n".join(s.rstrip() for s in out) + "\n"


def fit(rows: list[dict], key: str, least: int) -> int:
    """The width of a column: its widest cell, and at least `least` (the usual layout when every cell fits)."""
    return max([least, *(len(str(r[key] or "-")) for r in rows)])


def _gate_lines(gates: list[dict]) -> list[str]:
    ws, wn, wst = fit(gates, "scope", 12), fit(gates, "name", 16), fit(gates, "status", 10)
    out = []
    for g in gates:
        code = "-" if g["exit_code"] is None else str(g["exit_code"])
        dur = "-" if g["duration_ms"] is None else f"{g['duration_ms'] / 1000:.1f}s"
        out.append(f"  {g['scope']:<{ws}} {g['name']:<{wn}} {g['status']:<{wst}} exit {code:<4} {dur:>7}  "
                   f"{g['command_line']}")
    return out


def _money(x) -> str:
    return "-" if x is None else f"{x:.4f}"


def render_goal_text(d: dict) -> str:
    """`omk-tui show GOAL`: the dict of :func:`omk_tui.render.goal_data.goal_detail` as text."""
    d = printable_data(d)
    out = [f"goal {d['id']}", f"  {d['goal']}"]
    status = d["status"] + (f" ({d['readiness']})" if d.get("readiness") and d["readiness"] != d["status"] else "")
    prog = d["progress"]
    out.append(f"status {status} · phase {d['phase']} · slices {prog['done']}/{prog['total']}")
    if d.get("base_commit"):
        out.append(f"base {d['base_commit'][:12]}" + (f" · integration {d['integration_branch']}"
                                                      if d.get("integration_branch") else ""))
    bd = d["budget"]
    t_limit = "unlimited" if bd["time_secs"] is None else f"{bd['time_secs']:.0f}s"
    tok_limit = "unlimited" if bd["tokens"] is None else str(bd["tokens"])
    usd_limit = "unlimited" if bd["usd"] is None else _money(bd["usd"])
    out.append(f"budget time {bd['spent_time_secs']:.0f}s of {t_limit} · tokens {bd['spent_tokens']} of {tok_limit}"
               f" · usd {_money(bd['spent_usd'])} of {usd_limit}"
               + (f" · exhausted: {', '.join(bd['exhausted'])}" if bd["exhausted"] else ""))
    if d["blockers"]:
        out.append("blockers")
        out.extend(f"  - {b}" for b in d["blockers"])
    out.append("")
    out.append(f"tasks ({len(d['tasks'])})")
    wid, wst = fit(d["tasks"], "id", 14), fit(d["tasks"], "status", 9)
    for t in d["tasks"]:
        deps = ",".join(t["dependencies"]) or "-"
        line = f"  {t['id']:<{wid}} {t['status']:<{wst}} deps {deps:<12} {t['title']}"
        if t["reason"] and t["status"] in ("rejected", "blocked", "failed"):
            line += f" — {t['reason']}"
        out.append(line)
    out.append(f"slices ({len(d['slices'])})")
    wid, wst = fit(d["slices"], "id", 14), fit(d["slices"], "state", 10)
    for s in d["slices"]:
        out.append(f"  {s['id']:<{wid}} {s['state']:<{wst}} attempt {s['attempt']}  branch {s['branch'] or '-'}")
        if s["worktree"]:
            out.append(f"  {'':<{wid}} worktree {s['worktree']}")
        if s["changed_files"]:
            out.append(f"  {'':<{wid}} +{s['insertions']}/-{s['deletions']} {', '.join(s['changed_files'])}")
        if s["reason"] and s["state"] in ("blocked", "failed", "pending"):
            out.append(f"  {'':<{wid}} {s['reason']}")
    if d["overlaps"]:
        out.append(f"overlap serializations ({len(d['overlaps'])})")
        for o in d["overlaps"]:
            out.append(f"  {o.get('blocked_slice_id')} after {o.get('serializes_after')}: "
                       f"{o.get('kind')} on {o.get('path')}")
    out.append(f"gates ({len(d['gates'])})")
    out.extend(_gate_lines(d["gates"]))
    if d["reviews"]:
        out.append("reviews")
        wsc, wk = fit(d["reviews"], "scope", 12), fit(d["reviews"], "kind", 12)
        for r in d["reviews"]:
            out.append(f"  {r['scope']:<{wsc}} {r['kind']:<{wk}} {'passed' if r.get('passed') else 'failed'}"
                       f" ({r.get('severity', '')})")
    if d["proof"]:
        out.append(f"proof {d['proof']}")
    ev = d["events"]
    out.append(f"events {ev['applied']} · last seq {ev['last_seq']} · unreadable lines {ev['gaps']}")
    for p in d["problems"]:
        out.append(f"! {p}")
    return "\n".join(line.rstrip() for line in out) + "\n"


# ---------------------------------------------------------------- proof
def _gate_row(g: GateResult) -> tuple[str, str, str, str, str]:
    if g.skipped:
        verdict = "skipped"
    elif g.timed_out:
        verdict = "timed out"
    else:
        verdict = "passed" if g.passed else "failed"
    req = "required" if g.required else "optional"
    code = "-" if g.exit_code is None else str(g.exit_code)
    return g.name, verdict, req, code, f"{g.duration_ms / 1000:.1f}s"


def _printable_proof(proof: Proof) -> Proof:
    return Proof.model_validate(printable_data(proof.model_dump()))


def render_proof_text(proof: Proof) -> str:
    proof = _printable_proof(proof)
    out = [f"proof for {proof.goal_id}",
           f"status {proof.status.value} · readiness {proof.readiness}",
           f"summary: {proof.summary}"]
    if proof.blocker:
        out.append(f"blocker: {proof.blocker}")
    if proof.base_commit:
        out.append(f"base commit {proof.base_commit}")
    if proof.integration_branch:
        out.append(f"integration {proof.integration_branch}"
                   + (f" at {proof.integration_commit}" if proof.integration_commit else ""))
    for title, gates in (("baseline gates", proof.baseline_gates), ("final gates", proof.final_gates)):
        out.append(f"{title} ({len(gates)})")
        for g in gates:
            name, verdict, req, code, dur = _gate_row(g)
            out.append(f"  {name:<16} {verdict:<9} {req:<8} exit {code:<4} {dur:>7}  {g.command_line}")
            out.extend(f"      {line}" for line in g.summary[:5] if not g.passed)
    out.append(f"post-mutation gates ran: {'yes' if proof.post_mutation_gates_ran else 'no'}")
    out.append(f"slices ({len(proof.slices)})")
    for s in proof.slices:
        out.append(f"  {s.slice_id:<14} {s.status:<10} attempts {s.attempts}  {s.branch}"
                   + (f" @ {s.commit[:12]}" if s.commit else ""))
    if proof.review_results:
        out.append(f"review wall ({len(proof.review_results)})")
        for r in proof.review_results:
            out.append(f"  {r.scope:<12} {r.kind:<12} {'passed' if r.passed else 'failed'} ({r.severity})"
                       + (f" — {r.feedback}" if r.feedback and not r.passed else ""))
    out.append(f"changed files ({len(proof.changed_files)})")
    out.extend(f"  {f}" for f in proof.changed_files)
    if proof.commits:
        out.append(f"commits ({len(proof.commits)})")
        out.extend(f"  {c}" for c in proof.commits)
    for title, items in (("known gaps", proof.known_gaps),
                         ("human decisions required", proof.human_decisions_required)):
        if items:
            out.append(title)
            out.extend(f"  - {x}" for x in items)
    d = proof.delivery
    out.append(f"delivery {d.policy}: {d.status}" + (f" — {d.detail}" if d.detail else "")
               + (f" ({', '.join(d.pr_urls)})" if d.pr_urls else ""))
    return "\n".join(line.rstrip() for line in out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_proof_md(proof: Proof) -> str:
    blocker = printable(proof.blocker, newlines=True) if proof.blocker else None
    proof = _printable_proof(proof)
    icon = {"ready": "✅", "not_ready": "❌", "blocked": "⛔"}.get(proof.readiness, "•")
    out = [f"# Proof: {proof.goal_id}", "",
           f"**{icon} {proof.readiness}** — status `{proof.status.value}`", "", proof.summary, ""]
    if blocker:
        # every line of a multi-line blocker stays inside the quote
        out += ["> **Blocker:** " + blocker.replace("\n", "\n> "), ""]
    if proof.base_commit or proof.integration_branch:
        out.append(f"- Base commit: `{proof.base_commit or '-'}`")
        out.append(f"- Integration: `{proof.integration_branch or '-'}`"
                   + (f" at `{proof.integration_commit}`" if proof.integration_commit else ""))
        out.append(f"- Post-mutation gates ran: {'yes' if proof.post_mutation_gates_ran else 'no'}")
        out.append("")
    for title, gates in (("Baseline gates", proof.baseline_gates), ("Final gates", proof.final_gates)):
        out += [f"## {title}", ""]
        if not gates:
            out += ["_none_", ""]
            continue
        out += ["| Gate | Result | Required | Exit | Duration | Command |", "|---|---|---|---|---|---|"]
        for g in gates:
            name, verdict, req, code, dur = _gate_row(g)
            out.append(f"| {_md_cell(name)} | {verdict} | {req} | {code} | {dur} | `{_md_cell(g.command_line)}` |")
        out.append("")
    if proof.slices:
        out += ["## Slices", "", "| Slice | Task | Status | Attempts | Branch | Commit |", "|---|---|---|---|---|---|"]
        for s in proof.slices:
            out.append(f"| {_md_cell(s.slice_id)} | {_md_cell(s.task_id)} | {s.status} | {s.attempts} | "
                       f"`{_md_cell(s.branch)}` | {('`' + s.commit[:12] + '`') if s.commit else '-'} |")
        out.append("")
    if proof.review_results:
        out += ["## Review wall", "", "| Scope | Review | Passed | Severity | Feedback |", "|---|---|---|---|---|"]
        for r in proof.review_results:
            out.append(f"| {_md_cell(r.scope)} | {r.kind} | {'yes' if r.passed else 'no'} | {r.severity} | "
                       f"{_md_cell(r.feedback)} |")
        out.append("")
    out += ["## Changed files", ""] + ([f"- `{f}`" for f in proof.changed_files] or ["_none_"]) + [""]
    if proof.commits:
        out += ["## Commits", ""] + [f"- `{c}`" for c in proof.commits] + [""]
    for title, items in (("Known gaps", proof.known_gaps),
                         ("Human decisions required", proof.human_decisions_required)):
        if items:
            out += [f"## {title}", ""] + [f"- {x}" for x in items] + [""]
    d = proof.delivery
    out += ["## Delivery", "", f"- Policy: `{d.policy}`",
            f"- Status: {d.status}" + (f" — {d.detail}" if d.detail else "")]
    out += [f"- PR: {u}" for u in d.pr_urls]
    return "\n".join(out).rstrip() + "\n"
