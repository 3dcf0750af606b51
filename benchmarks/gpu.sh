#!/usr/bin/env bash
# Every figure the results files owe a GPU, in one go on one GPU (about 11.8
# minutes of step budgets, under the 12 minutes a device session can spare).
#
#   benchmarks/gpu.sh                on the GPU machine, from the repository root
#   GPU_SH_TINY=1 benchmarks/gpu.sh  the same steps at tiny size: a CPU check
#
# The device machine has no internet, so the peers travel with the checkout
# (the device tool's carry: [".peers/wheels", ".peers/pdebench_src"]):
#   .peers/wheels       pip download --no-deps exponax neuraloperator==2.0.0
#                       deepxde==1.15.0 tensorly tensorly-torch configmypy
#                       ruamel.yaml zencfg scikit-optimize pyaml
#   .peers/pdebench_src PDEBench's MIT models/fno, models/unet and
#                       data_gen/src sims (benchmarks/operators/README.md,
#                       benchmarks/datasets/README.md)
# and the run there is
#
#   pip install --no-deps -e . .peers/wheels/*.whl && \
#       SCIML_RESULTS_DIR=$OUT SCIML_COMMIT=<commit> benchmarks/gpu.sh
#
# torch is already there. OPEN: `import neuralop` imports wandb, which the
# device lacks and these wheels do not hold (wandb and its own dependencies
# are platform wheels); until they are carried, the operators step fails
# there. The script has not yet run on a GPU.
#
# Each step is one benchmark run with a wall-clock budget: one that runs over
# is stopped (no results file), named in the summary, and the next step runs.
# The results files land in benchmarks/<name>/results/<scale>-<device>/, or
# under $SCIML_RESULTS_DIR/<name>/results/ when that is set (the device tool's
# $OUT, so that they come back). Steps run in order of what is owed most.
#
# What each step owes (README, docs and the results files name these):
#   datasets paper     generation times and errors (the H100 times are withdrawn)
#   convergence paper  the sweep's GPU timings and the paper-scale verdicts
#   operators quick    FNO / U-Net / CAPE step and rollout against the PyTorch peers
#   perf quick         every model's step (papers' and large configurations): fused
#                      k-step loop, mesh overhead, fraction of peak, profile
#   deeponet-peers     DeepONet step and inference against DeepXDE
#   pig quick          PIG and MLP PINN time per iteration
#   hcmoe cpu          the scaling study (10^2..10^5 points) and the expert sweep
set -u

PY=${PYTHON:-python3}
TINY=${GPU_SH_TINY:-0}
SUMMARY=$(mktemp)
export PYTHONUNBUFFERED=1

step() {
    # step BUDGET_S NAME ARGS... : run benchmarks.NAME.run ARGS under a budget
    local budget=$1 name=$2
    shift 2
    local start=$SECONDS
    echo "=== $name $* (budget ${budget} s)"
    timeout --signal=INT --kill-after=20 "$budget" \
        "$PY" -m "benchmarks.$name.run" "$@"
    local rc=$? took=$((SECONDS - start))
    local state=ok
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        state="over budget"
    elif [ $rc -ne 0 ]; then
        state="failed (rc $rc)"
    fi
    printf '%-16s %-34s %5d s of %4d s  %s\n' "$name" "$*" "$took" "$budget" \
        "$state" >> "$SUMMARY"
}

"$PY" -c "import jax; print('devices:', jax.devices())"
if [ "$TINY" = 1 ]; then
    step 300 datasets --scale smoke --only advection
    step 300 convergence --scale quick --steps 20 --seeds 1 --systems harmonic_oscillator
    step 300 operators --scale smoke --configs 1d
    step 300 perf --scale smoke
    step 300 deeponet-peers --configs deeponet-128x100 --rounds 1 --no-flag-probe
    step 300 pig --scale quick --problems klein_gordon --steps 20 --seeds 1
    step 300 hcmoe --scale smoke --parts scaling experts
else
    step 130 datasets --scale paper
    step 120 convergence --scale paper
    step 90 operators --scale quick
    step 150 perf --scale quick
    step 50 deeponet-peers --scale quick
    step 70 pig --scale quick
    step 100 hcmoe --scale cpu --parts scaling experts
fi

echo "=== summary ($SECONDS s in all)"
cat "$SUMMARY"
! grep -q -v ' ok$' "$SUMMARY"
