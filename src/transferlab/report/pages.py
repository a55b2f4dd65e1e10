"""Self-contained HTML pages of result tables for the Snakemake report.

Snakemake's HTML report shows images and HTML pages, but a CSV file only as a
download link. Each table the workflow builds already has a Markdown rendering
(title, how to read it, a pipe table in the paper's layout); ``table_page``
turns that into one standalone HTML page (inline CSS, the tidy CSV embedded as
a download link), which the report displays in a frame.

Only the Markdown the pipeline itself writes is supported: ``#``/``##``
headings, paragraphs, pipe tables, ``**bold**`` and ``code`` spans.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

__all__ = ["markdown_to_html", "table_page"]

_NUMBER = re.compile(r"^[−+-]?\d[\d.,]*(e[−+-]?\d+)?(±[\d.]+)?%?$|^–$")
_STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 1rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
p { max-width: 60rem; line-height: 1.4; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; white-space: nowrap; }
th { background: #f0f0f0; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
"""


def _inline(text: str) -> str:
    """Escape, then render **bold** and `code` spans."""
    text = html.escape(text, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines: list[str]) -> str:
    header, body = _cells(lines[0]), lines[1:]
    if body and re.fullmatch(r"[\s|:\-]+", body[0]):
        body = body[1:]  # the |---|:--:| separator row
    out = ['<div class="scroll"><table>', "<thead><tr>"]
    out += [f"<th>{_inline(cell)}</th>" for cell in header]
    out.append("</tr></thead><tbody>")
    for line in body:
        out.append("<tr>")
        for cell in _cells(line):
            css = ' class="num"' if _NUMBER.match(cell) else ""
            out.append(f"<td{css}>{_inline(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def markdown_to_html(text: str) -> str:
    """HTML body of the pipeline's Markdown (see the module docstring for the subset)."""
    blocks: list[str] = []
    paragraph: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if table:
            blocks.append(_table(table))
            table.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            if paragraph:
                flush()
            table.append(line)
            continue
        if table:
            flush()
        heading = re.match(r"^(#{1,3})\s+(.*)$", line)
        if heading:
            flush()
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif not line:
            flush()
        else:
            paragraph.append(line)
    flush()
    return "\n".join(blocks)


def table_page(markdown: str, csv_path: str | Path | None = None, title: str | None = None) -> str:
    """A standalone HTML page of one table's Markdown, with its tidy CSV as a download."""
    body = markdown_to_html(markdown)
    if title is None:
        first = re.search(r"^#\s+(.*)$", markdown, flags=re.MULTILINE)
        title = first.group(1) if first else "table"
    if csv_path is not None:
        path = Path(csv_path)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        body += (
            f'\n<p><a download="{html.escape(path.name)}" '
            f'href="data:text/csv;base64,{data}">Download the tidy CSV ({html.escape(path.name)})'
            "</a>: one row per cell, every column the table is built from.</p>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
