#!/usr/bin/env bash
# Bring up a single-node Slurm (munge + slurmctld + slurmd) with one fake GPU, as root,
# on Debian without systemd. Idempotent: a second run re-writes the configuration and
# restarts only the daemons this script started (recorded in $STATE/daemons), and only
# when the configuration changed.
#   sudo tests/cluster/slurm_up.sh          # then: sinfo; tests/cluster/slurm_down.sh
# Environment: SLURM_PARTITION (default gpu, the placeholder of profiles/slurm),
# SLURM_FAKE_GPUS (default 1: gres gpu:fake:N, N dummy device files; no CUDA behind them),
# TRANSFERLAB_SLURM_STATE (default /run/transferlab-slurm), SLURM_UP_FORCE=1 to
# overwrite an /etc/slurm/slurm.conf this script did not write.
set -euo pipefail

STATE=${TRANSFERLAB_SLURM_STATE:-/run/transferlab-slurm}
PARTITION=${SLURM_PARTITION:-gpu}
FAKE_GPUS=${SLURM_FAKE_GPUS:-1}
MARKER="# written by transferlab tests/cluster/slurm_up.sh"
CONF_DIR=/etc/slurm

die() {
    echo "slurm_up: $*" >&2
    exit 1
}
trap 'echo "slurm_up: failed at line $LINENO: $BASH_COMMAND (logs: /var/log/slurm/)" >&2' ERR

[[ $(id -u) -eq 0 ]] || die "must run as root (installs packages, writes $CONF_DIR)"
[[ -f /etc/debian_version ]] || die "needs Debian (apt-get packages slurmctld slurmd slurm-client munge)"

install_packages() {
    local missing=()
    for cmd in slurmctld slurmd sinfo munged; do
        command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
    [[ ${#missing[@]} -eq 0 ]] && return
    echo "slurm_up: installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q slurmctld slurmd slurm-client munge >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q slurmctld slurmd slurm-client munge >/dev/null; }
}

# pid recorded for daemon $1 if that process is alive and is that daemon, else empty
recorded_pid() {
    local name=$1 pid
    [[ -f $STATE/daemons ]] || return 0
    pid=$(awk -v n="$name" '$1 == n {print $2}' "$STATE/daemons")
    [[ -n $pid && -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == "$name" ]] && echo "$pid"
    return 0
}

record() { # record daemon $1 with pid $2 (replacing an older entry)
    mkdir -p "$STATE"
    touch "$STATE/daemons"
    awk -v n="$1" '$1 != n' "$STATE/daemons" >"$STATE/daemons.tmp"
    echo "$1 $2" >>"$STATE/daemons.tmp"
    mv "$STATE/daemons.tmp" "$STATE/daemons"
}

wait_for_pidfile() { # daemon name, pid file -> prints pid
    local name=$1 file=$2 pid
    for _ in $(seq 100); do
        if [[ -s $file ]]; then
            pid=$(tr -dc 0-9 <"$file")
            if [[ -n $pid && -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == "$name" ]]; then
                echo "$pid"
                return
            fi
        fi
        sleep 0.1
    done
    die "$name did not start (no live pid in $file); see /var/log/slurm/ or munge's log"
}

stop_recorded() { # stop one daemon we started, by recorded pid
    local name=$1 pid
    pid=$(recorded_pid "$name")
    [[ -z $pid ]] && return
    echo "slurm_up: stopping $name (pid $pid) to apply the new configuration"
    kill "$pid"
    for _ in $(seq 100); do
        [[ -d /proc/$pid ]] || break
        sleep 0.1
    done
    awk -v n="$name" '$1 != n' "$STATE/daemons" >"$STATE/daemons.tmp" && mv "$STATE/daemons.tmp" "$STATE/daemons"
}

write_config() { # writes into $1
    local out=$1 host cpus mem
    host=$(hostname -s)
    cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -1)
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
    # Declaring more memory than slurmd measures drains the node: leave 1 GiB headroom.
    mem=$((mem > 2048 ? mem - 1024 : mem / 2))
    mkdir -p "$out"
    cat >"$out/slurm.conf" <<EOF
$MARKER
ClusterName=transferlab
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AuthType=auth/munge
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
# squeue answers status queries for MinJobAge seconds after a job ends
MinJobAge=300
SchedulerParameters=sched_interval=2
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:fake:$FAKE_GPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    # A GPU gres without File= is dropped and drains the node: point it at a dummy file.
    cat >"$out/gres.conf" <<EOF
$MARKER
AutoDetect=off
NodeName=$host Name=gpu Type=fake File=$STATE/fake-gpu[0-$((FAKE_GPUS - 1))]
EOF
}

install_packages
mkdir -p "$STATE" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
[[ $FAKE_GPUS =~ ^[1-9][0-9]*$ ]] || die "SLURM_FAKE_GPUS=$FAKE_GPUS: expected a positive integer"
for ((i = 0; i < FAKE_GPUS; i++)); do touch "$STATE/fake-gpu$i"; done

if [[ -f $CONF_DIR/slurm.conf ]] && ! grep -qxF "$MARKER" "$CONF_DIR/slurm.conf" &&
    [[ ${SLURM_UP_FORCE:-0} != 1 ]]; then
    die "$CONF_DIR/slurm.conf exists and was not written by this script; refusing to replace it (SLURM_UP_FORCE=1 overrides)"
fi
for name in slurmctld slurmd; do
    # slurmctld forks a helper (slurmscriptd) under the same name: compare with ours only
    pid=$(pgrep -x "$name" | head -1 || true)
    if [[ -n $pid && -z $(recorded_pid "$name") ]]; then
        die "$name is already running (pid $pid) but was not started by this script; stop it first"
    fi
done

write_config "$STATE/conf.new"
changed=0
for f in slurm.conf gres.conf; do
    cmp -s "$STATE/conf.new/$f" "$CONF_DIR/$f" || changed=1
done
if [[ $changed == 1 ]]; then
    # Daemons started with the old configuration must re-read it: restart ours.
    stop_recorded slurmd
    stop_recorded slurmctld
    mkdir -p "$CONF_DIR"
    cp "$STATE/conf.new/"*.conf "$CONF_DIR/"
    # an older version of this script wrote a cgroup.conf; Slurm 22.05 rejects it
    if [[ -f $CONF_DIR/cgroup.conf ]] && grep -qxF "$MARKER" "$CONF_DIR/cgroup.conf"; then
        rm -f "$CONF_DIR/cgroup.conf"
    fi
fi
rm -rf "$STATE/conf.new"

# munge: reuse a running munged (ours or the system's); else start one.
if ! pgrep -x munged >/dev/null; then
    [[ -f /etc/munge/munge.key ]] || { mungekey --create >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; }
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge && chown munge:munge /run/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- munged
    record munged "$(wait_for_pidfile munged /run/munge/munged.pid)"
fi

if [[ -z $(recorded_pid slurmctld) ]]; then
    rm -f /run/slurmctld.pid
    slurmctld
    record slurmctld "$(wait_for_pidfile slurmctld /run/slurmctld.pid)"
fi
if [[ -z $(recorded_pid slurmd) ]]; then
    rm -f /run/slurmd.pid
    slurmd
    record slurmd "$(wait_for_pidfile slurmd /run/slurmd.pid)"
fi

# Wait until the node accepts jobs.
for _ in $(seq 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    case $state in
    idle | mix | alloc) break ;;
    drain* | down* | drng) scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.5
done
state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
[[ $state =~ ^(idle|mix|alloc)$ ]] || die "node state '$state' after 30 s: $(sinfo -h -N -o '%t %E' 2>&1)"
echo "slurm_up: partition '$PARTITION' on $(hostname -s) is $state; daemons: $(tr '\n' ' ' <"$STATE/daemons")"
