"""profiles/slurm on a real single-node Slurm: tests/cluster/run_cluster_test.sh.

The script installs and starts Slurm (munge, slurmctld, slurmd with fake GPUs), runs a
tiny configuration of the real Snakefile through the user profile, cancels one training
job mid-run and checks that the retry resumes from its epoch checkpoint, checks that a
job failing for a real error stops the workflow naming its log, and compares Table II
with a local run of the same configuration. It needs root on Debian (apt-get); anywhere
else the test is skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "tests" / "cluster" / "run_cluster_test.sh"
# The whole test, Slurm install included, must stay within CI's 8 minutes.
TIMEOUT_SECONDS = 480


def _skip_reason() -> str | None:
    if not Path("/etc/debian_version").exists():
        return "needs Debian (installs Slurm with apt-get)"
    if os.geteuid() != 0:
        return "needs root (installs and starts Slurm daemons)"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "needs apt-get to install Slurm"
    if shutil.which("timeout") is None:
        return "needs coreutils' timeout"
    return None


@pytest.mark.slow
@pytest.mark.integration
def test_slurm_profile_runs_retries_and_matches_local_run() -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(f"real-Slurm test skipped: {reason}")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    # The interpreter running the tests, not whatever python3 is first on PATH.
    env["PYTHON"] = sys.executable
    # Own session: on a timeout, SIGTERM lets the script's EXIT trap cancel its jobs and
    # stop the daemons it started.
    proc = subprocess.Popen(
        ["bash", str(SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        report, _ = proc.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            report, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            report, _ = proc.communicate()
        raise AssertionError(
            f"run_cluster_test.sh took more than {TIMEOUT_SECONDS} s:\n{report[-6000:]}"
        ) from None
    print(report)  # timings and submission counts, shown with pytest -s or -rP
    assert proc.returncode == 0, f"run_cluster_test.sh failed:\n{report[-6000:]}"
    assert "resuming from epoch checkpoint" in report
    assert "byte-identical" in report
    assert "PASS" in report
