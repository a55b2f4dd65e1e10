"""The Snakemake report: table pages, and the report of a finished tiny run in headless Chromium."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from transferlab.report.pages import markdown_to_html, table_page

# ---------------------------------------------------------------- table pages


def test_markdown_tables_become_html_tables_with_escaped_cells():
    text = (
        "# Table II: PGD transfer ASR (Digits)\n\nASR in %, **mean±std**; U = `untargeted`.\n\n"
        "| Surrogate | U 4/255 VGG16 |\n|:---|---:|\n| SAM&JR | 87.5±0.0 |\n| <b> | – |\n"
    )
    body = markdown_to_html(text)
    assert body.startswith("<h1>Table II: PGD transfer ASR (Digits)</h1>")
    assert "<p>ASR in %, <strong>mean±std</strong>; U = <code>untargeted</code>.</p>" in body
    assert "<th>Surrogate</th><th>U 4/255 VGG16</th>" in body
    assert '<td>SAM&amp;JR</td><td class="num">87.5±0.0</td>' in body
    assert "<td>&lt;b&gt;</td>" in body  # cells are text, never markup
    assert body.count("<tr>") == 3  # header + 2 rows; the |:---| row is not a row


def test_table_page_embeds_the_csv_as_a_download(tmp_path):
    csv = tmp_path / "table7.csv"
    csv.write_text("surrogate,value\nST,0.1\n")
    page = table_page("# Table VII\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", csv_path=csv)
    assert "<title>Table VII</title>" in page and page.count("<table>") == 1
    link = re.search(r'download="table7.csv" href="data:text/csv;base64,([^"]+)"', page)
    assert link and base64.b64decode(link.group(1)).decode() == csv.read_text()


# ---------------------------------------------------------------- the report of a tiny run

FIGURES = (
    "asr_vs_at_eps", "smoothness_vs_at_eps", "similarity_vs_at_eps",
    "similarity_vs_tau_augmentations", "smoothness_vs_tau_augmentations",
    "smoothness_vs_tau_regularizers", "similarity_matrix",
)  # fmt: skip
# TINY_CONFIG builds these
TABLES = ("table12", "table6", "table2", "table5", "table7", "table8", "table13")


@pytest.fixture(scope="module")
def report(tiny_workflow_run) -> Path:
    from tests.conftest import TINY_CONFIG
    from tests.workflow_runner import snakemake

    snakemake(tiny_workflow_run, TINY_CONFIG, "--report", "report.html")
    return tiny_workflow_run / "report.html"


def report_variable(text: str, name: str) -> dict:
    """A JSON object the report's page assigns in ``var <name> = {...};``."""
    match = re.search(rf"var {name} = (\{{.*?\}});\n", text, flags=re.DOTALL)
    assert match, f"report.html has no `var {name}`"
    return json.loads(match.group(1))


@pytest.mark.integration
def test_comparisons_are_built_and_labelled_ordering_only(tiny_workflow_run) -> None:
    compare = tiny_workflow_run / "results/compare"
    summary = pd.read_csv(compare / "summary.csv")
    assert sorted(summary["table"]) == sorted(TABLES)
    assert set(summary["comparison"]) == {"ordering only (Digits vs paper's CIFAR-10)"}
    table2 = pd.read_csv(compare / "table2.csv")
    # TINY_CONFIG's LS grid has two values: its last row is the paper's LS tau=5.
    assert list(pd.unique(table2["surrogate"])) == ["ST", "LS tau=1", "LS tau=5", "AT", "SAM"]
    assert table2["diff"].isna().all() and table2["paper_mean"].notna().all()
    columns = pd.read_csv(compare / "table2.columns.csv")
    assert len(columns) == 2 * 2  # modes × budgets, one target
    assert (compare / "table2.md").read_text().startswith("# Table II: ours vs the paper")


@pytest.mark.integration
def test_report_lists_every_table_and_figure_by_paper_section(report) -> None:
    text = report.read_text()
    results = report_variable(text, "results")
    categories = report_variable(text, "categories")
    expected = {f"results/figures/digits/{name}.png" for name in FIGURES}
    expected |= {f"results/report/tables/{name}.html" for name in TABLES}
    expected |= {f"results/report/compare/{name}.html" for name in (*TABLES, "summary")}
    expected.add("results/report/claims.html")
    assert set(results) == expected
    assert all(entry["caption"].strip() for entry in results.values())
    assert categories["1 Adversarial training (Sec. 2)"]["Digits"] == [
        "results/figures/digits/asr_vs_at_eps.png",
        "results/figures/digits/similarity_vs_at_eps.png",
        "results/figures/digits/smoothness_vs_at_eps.png",
    ]
    assert categories["4 Transfer ASR tables (Secs. 2-5)"] == {
        "Table II": ["results/report/tables/table2.html"],
        "Table V": ["results/report/tables/table5.html"],
        "Table XIII": ["results/report/tables/table13.html"],
    }
    assert set(categories["7 Comparison with the paper"]) == {
        "Summary", "Table II", "Table V", "Table VI", "Table VII", "Table VIII", "Table XII",
        "Table XIII",
    }  # fmt: skip
    assert categories["8 Which of the paper's claims hold here"] == {
        "Claims": ["results/report/claims.html"]
    }
    assert "Fig. 2: transfer ASR vs the surrogate" in html.unescape(
        results["results/figures/digits/asr_vs_at_eps.png"]["caption"]
    )


# Runs while the page parses, so the <img> elements it adds hold back the load event
# until Chromium has loaded and decoded every image; then the check is written into the
# DOM, where --dump-dom returns it.
RENDER_CHECK = """
<script>
const renderCheckImages = {};
const renderCheckBox = document.createElement("div");
renderCheckBox.style.display = "none";
for (const [path, entry] of Object.entries(results)) {
  if (entry.mime_type.startsWith("image/")) {
    const img = document.createElement("img");
    img.src = entry.data_uri;
    renderCheckBox.appendChild(img);
    renderCheckImages[path] = img;
  }
}
document.body.appendChild(renderCheckBox);
window.addEventListener("load", () => {
  const out = {};
  for (const [path, entry] of Object.entries(results)) {
    const item = {mime: entry.mime_type};
    const img = renderCheckImages[path];
    if (img) {
      Object.assign(item, {complete: img.complete, width: img.naturalWidth,
                           height: img.naturalHeight});
    } else if (entry.mime_type === "text/html") {
      const bytes = Uint8Array.from(atob(entry.data_uri.split("base64,")[1]),
                                    c => c.charCodeAt(0));
      const page = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "text/html");
      Object.assign(item, {tables: page.querySelectorAll("table").length,
                           rows: page.querySelectorAll("tbody tr").length});
    }
    out[path] = item;
  }
  const pre = document.createElement("pre");
  pre.id = "render-check";
  pre.textContent = JSON.stringify({results: out, app: document.querySelector("#app").textContent});
  document.body.appendChild(pre);
});
</script>
"""


def chromium_binary() -> str:
    """Debian's chromium, installed with apt-get when missing (root on Debian only)."""
    found = shutil.which("chromium")
    if found:
        return found
    if not Path("/etc/debian_version").exists() or os.geteuid() != 0:
        pytest.skip(
            "headless Chromium is not installed and cannot be installed here (needs root on "
            "Debian: apt-get install chromium)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        proc = subprocess.run(command, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr}")
    installed = shutil.which("chromium")
    if installed is None:
        pytest.fail("apt-get installed chromium, but no `chromium` is on PATH")
    return installed


@pytest.mark.integration
def test_report_figures_render_in_headless_chromium(report, tmp_path) -> None:
    chromium = chromium_binary()
    text = report.read_text()
    end = text.rindex("</body>")
    checked = tmp_path / "report_checked.html"
    checked.write_text(text[:end] + RENDER_CHECK + text[end:])
    proc = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000",
            "--dump-dom", checked.as_uri(),
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    match = re.search(r'<pre id="render-check">(.*?)</pre>', proc.stdout, flags=re.DOTALL)
    assert match, f"Chromium did not finish the render check:\n{proc.stderr[-3000:]}"
    check = json.loads(html.unescape(match.group(1)))
    for category in ("1 Adversarial training (Sec. 2)", "7 Comparison with the paper"):
        assert category in check["app"], f"the report's menu lacks {category!r}"
    results = check["results"]
    figures = {path: item for path, item in results.items() if item["mime"] == "image/png"}
    assert len(figures) == len(FIGURES)
    for path, item in figures.items():
        assert item["complete"] and item["width"] > 300 and item["height"] > 200, (path, item)
    pages = {path: item for path, item in results.items() if item["mime"] == "text/html"}
    assert len(pages) == 2 * len(TABLES) + 2  # + the comparison summary and the claims
    for path, item in pages.items():
        assert item["tables"] >= 1 and item["rows"] >= 1, (path, item)
