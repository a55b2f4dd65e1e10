"""Run the real Snakefile on a configuration in a temporary directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO, subprocess_env


def write_config(workdir: Path, config: dict[str, Any]) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(
    workdir: Path,
    config: dict[str, Any],
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    cfg = write_config(workdir, config)
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
        "--configfile", str(cfg), "--cores", "2", *args,
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**subprocess_env(), **(env or {})}
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def dry_run_outputs(workdir: Path, config: dict[str, Any], *targets: str) -> list[str]:
    """Outputs of every job a dry run would execute."""
    proc = snakemake(workdir, config, "-n", *targets)
    text = proc.stdout + proc.stderr
    outputs = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("output:"):
            outputs += [p.strip() for p in line[len("output:") :].split(",")]
    return outputs
