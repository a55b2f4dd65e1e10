#!/usr/bin/env bash
# Stop exactly the daemons tests/cluster/slurm_up.sh started (by recorded pid, in
# reverse start order) and remove the pid files they leave behind. Daemons it did not
# start are left alone; running twice is harmless.
set -euo pipefail

STATE=${TRANSFERLAB_SLURM_STATE:-/run/transferlab-slurm}
declare -A PIDFILE=([slurmd]=/run/slurmd.pid [slurmctld]=/run/slurmctld.pid [munged]=/run/munge/munged.pid)
MARKER="# written by transferlab tests/cluster/slurm_up.sh"

# A slurm.conf naming a stopped controller makes every later `snakemake` call wait ~10 s
# (the Slurm executor plugin runs `scontrol show config` on import): remove ours.
remove_our_config() {
    for f in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
        if [[ -f $f ]] && grep -qxF "$MARKER" "$f"; then
            rm -f "$f"
            echo "slurm_down: removed $f"
        fi
    done
}

if [[ ! -f $STATE/daemons ]]; then
    echo "slurm_down: nothing recorded in $STATE/daemons"
    remove_our_config
    exit 0
fi

mapfile -t entries < <(tac "$STATE/daemons")
for entry in "${entries[@]}"; do
    read -r name pid <<<"$entry"
    if [[ -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == "$name" ]]; then
        kill "$pid"
        for _ in $(seq 100); do
            [[ -d /proc/$pid ]] || break
            sleep 0.1
        done
        if [[ -d /proc/$pid ]]; then
            echo "slurm_down: $name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
            kill -9 "$pid" 2>/dev/null || true
        fi
        echo "slurm_down: stopped $name (pid $pid)"
    else
        echo "slurm_down: $name (pid $pid) is no longer running"
    fi
    rm -f "${PIDFILE[$name]:-/nonexistent}"
done
rm -f "$STATE/daemons"
remove_our_config
