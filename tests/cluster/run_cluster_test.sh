#!/usr/bin/env bash
# End-to-end test of profiles/slurm on a real single-node Slurm (root, Debian):
#   1. bring Slurm up (tests/cluster/slurm_up.sh: one node, two fake GPUs);
#   2. run tests/cluster/config.yaml (training -> attack (crafting + transfer) -> Table II) through
#      --profile profiles/slurm plus the test overrides in tests/cluster/profile/;
#      meanwhile cancel one running training job after its first epoch checkpoint: the
#      profile's `retries` resubmits it and its log must show the resume;
#   3. alongside: a job failing for a real error (a missing data set) must stop its
#      workflow and name its log; the same configuration runs locally (--cores 2), and
#      Tables II and XII must match the Slurm run's byte for byte;
#   4. tear Slurm down (only the daemons slurm_up.sh started).
# Exit status 0 = every check passed. Work directories are kept on failure.
#   tests/cluster/run_cluster_test.sh            (KEEP_WORK=1 keeps them on success too)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PYTHON=${PYTHON:-python3}
CLUSTER_TIMEOUT=${CLUSTER_TIMEOUT:-400} # seconds for the Slurm run of the test configuration
# Two fake GPUs on the two-core test node: GPU jobs run two at a time, as on a real node.
export SLURM_FAKE_GPUS=${SLURM_FAKE_GPUS:-2}
T0=$(date +%s)
WORK_ROOT=$(mktemp -d /tmp/transferlab-cluster-test.XXXXXX)
CLUSTER_DIR=$WORK_ROOT/cluster
LOCAL_DIR=$WORK_ROOT/local
FAIL_DIR=$WORK_ROOT/failure
mkdir -p "$CLUSTER_DIR" "$LOCAL_DIR" "$FAIL_DIR"
# Snakemake jobs find the package without activation (sbatch --export=ALL).
export PYTHONPATH=$REPO/src${PYTHONPATH:+:$PYTHONPATH}
export OMP_NUM_THREADS=1
# Training -> attack (crafting + transfer) -> Table II (and Table XII); other stages are not needed.
TARGETS=(results/tables/table2.csv results/tables/table12.csv)

say() { echo "[cluster-test $(($(date +%s) - T0))s] $*"; }
fail() {
    say "FAIL: $*"
    exit 1
}

cancel_our_jobs() { # jobs whose working directory is under $WORK_ROOT
    local ids
    ids=$(squeue -h -o '%i %Z' 2>/dev/null | awk -v root="$WORK_ROOT" 'index($2, root) == 1 {print $1}' || true)
    [[ -n $ids ]] && scancel $ids 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    [[ -n ${SNAKEMAKE_PID:-} ]] && stop_run "$SNAKEMAKE_PID"
    [[ -n ${FAILURE_PID:-} ]] && stop_run "$FAILURE_PID"
    [[ -n ${LOCAL_PID:-} ]] && stop_run "$LOCAL_PID"
    cancel_our_jobs
    sleep 1
    "$HERE/slurm_down.sh"
    if [[ $rc -eq 0 && ${KEEP_WORK:-0} != 1 ]]; then
        rm -rf "$WORK_ROOT"
    else
        say "work directories kept in $WORK_ROOT"
    fi
    say "finished with status $rc"
    exit $rc
}
trap cleanup EXIT

run_snakemake() { # timeout seconds, workdir, then snakemake arguments; call in a subshell
    local seconds=$1 dir=$2
    shift 2
    # Snakemake ignores SIGTERM while it waits for Slurm jobs: timeout kills it after 30 s.
    # timeout leads its own process group, so cleanup can stop the whole run by its pid.
    cd "$REPO" && exec timeout -k 30 "$seconds" "$PYTHON" -m snakemake -s "$REPO/Snakefile" -d "$dir" "$@"
}

stop_run() { # pid of a backgrounded run_snakemake (its timeout process group)
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM -- "-$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

say "bringing up Slurm"
"$HERE/slurm_up.sh"
T_UP=$(date +%s)

# A configuration that passes validation and fails in a Slurm job: a surrogate that asks
# for pretrained ImageNet weights, which are not cached and may not be fetched offline.
"$PYTHON" - "$HERE/config.yaml" "$FAIL_DIR/config.yaml" <<'PY'
import sys

import yaml

config = yaml.safe_load(open(sys.argv[1]))
digits = config["datasets"]["digits"]
digits["architectures"]["ResNet18"] = {"arch": "resnet50_imagenet", "pretrained": True}
config["tables"] = {}
yaml.safe_dump(config, open(sys.argv[2], "w"), sort_keys=False)
PY

# The Slurm run waits on polling most of the time (the plugin backs off by 10 s per
# status check), so the other two runs go alongside it.
say "cluster run in $CLUSTER_DIR; failure run in $FAIL_DIR; local run in $LOCAL_DIR"
run_snakemake "$CLUSTER_TIMEOUT" "$CLUSTER_DIR" "${TARGETS[@]}" --configfile "$HERE/config.yaml" \
    --profile "$REPO/profiles/slurm" --workflow-profile "$HERE/profile" --verbose \
    >"$WORK_ROOT/cluster.log" 2>&1 &
SNAKEMAKE_PID=$!
# --retries 0: the retry is shown by the cancelled job; here it would only add submissions.
TRANSFERLAB_OFFLINE=1 TORCH_HOME="$FAIL_DIR/torch-home" run_snakemake 240 "$FAIL_DIR" \
    results/models/digits/ResNet18/st/tau1/seed0.pt --configfile "$FAIL_DIR/config.yaml" \
    --profile "$REPO/profiles/slurm" --workflow-profile "$HERE/profile" --retries 0 \
    >"$WORK_ROOT/failure.log" 2>&1 &
FAILURE_PID=$!
run_snakemake 300 "$LOCAL_DIR" "${TARGETS[@]}" --configfile "$HERE/config.yaml" --cores 2 \
    >"$WORK_ROOT/local.log" 2>&1 &
LOCAL_PID=$!

# ---- the surrogate ResNet18/st trains longest (config.yaml): cancel its Slurm job once
# its first epoch checkpoint exists, as a preemption or node loss would -----------------
MODEL=$CLUSTER_DIR/results/models/digits/ResNet18/st/tau1/seed0.pt
TRAIN_LOG=$CLUSTER_DIR/results/logs/train/digits/ResNet18/st/tau1/seed0.log
CANCELLED=""
while kill -0 "$SNAKEMAKE_PID" 2>/dev/null; do
    if [[ -f $MODEL.epoch.pt && ! -f $MODEL ]]; then
        # comment: rule_train_wildcards_<dataset>_<arch>_<method>_<tau>_<seed>
        CANCELLED=$(squeue -h -t RUNNING -o '%i %k %Z' |
            awk -v root="$CLUSTER_DIR" 'index($3, root) == 1 && $2 ~ /^rule_train_.*ResNet18_st_1_0$/ {print $1}' | head -1)
        if [[ -n $CANCELLED ]]; then
            scancel "$CANCELLED"
            say "cancelled running training job $CANCELLED after its first epoch checkpoint"
            break
        fi
    fi
    sleep 0.2
done

# ---- a real error stops its workflow and names the job's log -------------------------
set +e
wait "$FAILURE_PID"
FAILURE_RC=$?
set -e
FAILURE_PID=""
say "failure run ended with status $FAILURE_RC"
FAIL_LOG=results/logs/train/digits/ResNet18/st/tau1/seed0.log
[[ $FAILURE_RC -ne 0 && $FAILURE_RC -ne 124 && $FAILURE_RC -ne 137 ]] ||
    fail "the failing job did not stop the workflow (status $FAILURE_RC); see $WORK_ROOT/failure.log"
grep -qF "$FAIL_LOG" "$WORK_ROOT/failure.log" ||
    fail "the failure report does not name the job's log $FAIL_LOG; see $WORK_ROOT/failure.log"
grep -q "weights for architecture" "$FAIL_DIR/$FAIL_LOG" ||
    fail "the job's log does not explain the missing weights; see $FAIL_DIR/$FAIL_LOG"
say "a real error stopped the workflow and named $FAIL_LOG: $(tail -n 1 "$FAIL_DIR/$FAIL_LOG" | cut -c1-200)"

set +e
wait "$LOCAL_PID"
LOCAL_RC=$?
set -e
LOCAL_PID=""
T_LOCAL=$(date +%s)
say "local run ended with status $LOCAL_RC after $((T_LOCAL - T_UP)) s"
if [[ $LOCAL_RC -ne 0 ]]; then
    tail -n 40 "$WORK_ROOT/local.log"
    fail "local run failed; log: $WORK_ROOT/local.log"
fi

# ---- the Slurm run: success, the retry resumed, same tables as locally ---------------
set +e
wait "$SNAKEMAKE_PID"
CLUSTER_RC=$?
set -e
SNAKEMAKE_PID=""
T_CLUSTER=$(date +%s)
say "cluster run ended with status $CLUSTER_RC after $((T_CLUSTER - T_UP)) s"
if [[ $CLUSTER_RC -ne 0 ]]; then
    grep -E "^\[|Finished jobid|SLURM-job|Trying to restart|Error" "$WORK_ROOT/cluster.log" | tail -n 40
    fail "cluster run failed (status $CLUSTER_RC; 124 = timeout); log: $WORK_ROOT/cluster.log"
fi
[[ -n $CANCELLED ]] || fail "no training job was caught mid-run: the retry was not demonstrated"
grep -q "SLURM-job '$CANCELLED' failed" "$WORK_ROOT/cluster.log" ||
    fail "Snakemake did not report the cancelled job $CANCELLED as failed"
grep -q "resuming from epoch checkpoint" "$TRAIN_LOG" ||
    fail "the retried training did not resume from its epoch checkpoint; see $TRAIN_LOG"
say "retry: $(grep -m1 'resuming from epoch checkpoint' "$TRAIN_LOG")"

for table in table2 table12; do
    cmp "$CLUSTER_DIR/results/tables/$table.csv" "$LOCAL_DIR/results/tables/$table.csv" ||
        fail "$table.csv differs between the Slurm and the local run"
done
say "table2.csv and table12.csv are byte-identical between the Slurm and the local run:"
cat "$CLUSTER_DIR/results/tables/table2.csv"

# One sbatch per job or group job (logged with --verbose as 'sbatch call: ...').
SUBMISSIONS=$(grep -c "sbatch call" "$WORK_ROOT/cluster.log" || true)
GROUPS_SUBMITTED=$(grep "sbatch call" "$WORK_ROOT/cluster.log" | grep -c -- "--output [^ ]*/group_" || true)
DAG_JOBS=$(awk '/^Job stats:/ {f=1} f && /^total/ {print $2; exit}' "$WORK_ROOT/cluster.log")
say "DAG jobs: $DAG_JOBS; Slurm submissions: $SUBMISSIONS (group jobs: $GROUPS_SUBMITTED; one submission is the retry; localrules run on the submitting host)"
say "PASS (Slurm up $((T_UP - T0)) s, cluster run $((T_CLUSTER - T_UP)) s, total $(($(date +%s) - T0)) s)"
