"""A sweep's table (``results.md``), figures and report.html, drawn with ``pinnbalance.report``."""

from __future__ import annotations

from pathlib import Path

from pinnbalance.io import atomic_write_text
from pinnbalance.report.figures import scheme_figures
from pinnbalance.report.html import html_report
from pinnbalance.report.tables import sweep_table


def write_report(out: Path, results: dict, histories: dict, jobs) -> None:
    """``results.md`` always; the compare figures and ``report.html`` when the runs share a problem."""
    table = sweep_table(results)
    atomic_write_text(out / "results.md", table)
    problems = {r["problem"] for r in results["runs"] if r["status"] != "failed"}
    figures = []
    if len(problems) == 1 and histories:
        first = next(j for j in jobs if j.name in histories)
        problem = first.config(str(out / first.name)).build_problem()
        figures = scheme_figures(out, problem, histories)
    title = f"pinnbalance sweep: {results['sweep']}, {results['jobs']} runs, {results['trainings']} trainings"
    intro = "Runs ranked by median minimum relative L2 error over seeds."
    atomic_write_text(out / "report.html", html_report(results, table, figures, title=title, intro=intro))
