"""A self-contained HTML report: a Markdown table and PNG figures in one file, nothing external."""

from __future__ import annotations

import base64
import html
from pathlib import Path


def html_report(
    summary: dict,
    table: str,
    figures: list[Path],
    title: str | None = None,
    intro: str = "Schemes ranked by median minimum relative L2 error over seeds.",
) -> str:
    """A single HTML file with the table and the figures embedded (no external files)."""
    rows = [line for line in table.splitlines() if line.startswith("|") and not line.startswith("|---")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cells[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in cells[1:])
    images = "".join(
        f'<figure><img alt="{p.stem}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}"></figure>'
        for p in figures
    )
    title = html.escape(title or f"pinnbalance compare: {summary['problem']}, {summary['steps']} steps, seeds {summary['seeds']}")
    style = "body{font-family:sans-serif;max-width:1200px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}img{max-width:100%}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head>"
        f"<body><h1>{title}</h1><p>{html.escape(intro)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{images}</body></html>\n"
    )
