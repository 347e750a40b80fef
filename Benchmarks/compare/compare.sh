#!/usr/bin/env bash
# ConvKit beside ONNX Runtime and PyTorch on the same suite, thread counts and machine (`make compare`).
#
# 1. a Python venv (.venv-compare, git-ignored) with numpy, onnx, onnxruntime and, when it installs,
#    torch (the CPU wheel, from pip's index or find-links);
# 2. the suite from `convkit-bench --print-suite` (one source of truth for the shapes);
# 3. every peer, once per thread count, in its own process: Benchmarks/compare/peers.py;
# 4. convkit-bench --json on the same suite;
# 5. Benchmarks/compare/combine.py: the Markdown tables (summary first), the headline SVG chart (fastest
#    peer / ConvKit per conv layer) and the raw GFLOP/s chart;
# 6. the networks suite (COMPARE_SUITE=networks or all): steps 2-5 with `convkit-bench --suite networks`,
#    Benchmarks/compare/networks.py and combine_networks.py (compare-networks.md/.svg/.json).
#
# Environment knobs (all optional):
#   THREADS=1,2                thread counts for every side
#   COMPARE_SUITE=all          default (the anchors' ten conv layers, dense, pooling, ReLU), broad (the
#                              layer families of docs/Benchmarks.md "The broad suite"), networks (whole
#                              networks: training step and inference, Benchmarks/compare/networks.py) or all
#                              (the three; with COMPARE_QUICK=1 the default is `default`, i.e. the quick suite alone)
#   COMPARE_FILTER=...         layer or op names (convkit-bench --filter syntax); default: whole suite.
#                              With COMPARE_SUITE=networks: network names (resnet18) or name/batch (resnet18/16)
#   COMPARE_NETWORKS_FILTER=...  network names for the networks part of COMPARE_SUITE=all
#   COMPARE_PROFILE=0          1: the networks part also prints ConvKit's per-layer profile (--profile; slower)
#   COMPARE_QUICK=1            the quick suite (small shapes; seconds); networks: two small networks
#   COMPARE_MIN_TIME=0.05      seconds per sample, COMPARE_REPEATS=5 samples (both sides)
#   COMPARE_OUT=bench-results/compare   output folder (git-ignored)
#   COMPARE_UNSET_CORETYPE=1   (default) run BOTH sides with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset:
#                              our machines pin OPENBLAS_CORETYPE=Haswell (AVX2 kernels) for the tests, which
#                              halves OpenBLAS's speed on AVX-512 CPUs while the peers (oneDNN, MKL, MLAS)
#                              pick AVX-512 themselves; set 0 to keep the environment as it is.
#   COMPARE_COLD=1             (default) ConvKit also times each row's first call after a 2 s pause
#                              (convkit-bench --cold): the summary's cold columns; 0 skips it
#   COMPARE_PEERS="onnxruntime torch"   which peers to run
#   COMPARE_TORCH_VERSION=2.13.0+cpu    the torch build to install (CPU-only wheel)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
THREADS=${THREADS:-1,2}
OUT=${COMPARE_OUT:-bench-results/compare}
VENV=${COMPARE_VENV:-.venv-compare}
MIN_TIME=${COMPARE_MIN_TIME:-0.05}
REPEATS=${COMPARE_REPEATS:-5}
PEERS=${COMPARE_PEERS:-onnxruntime torch}
SWIFT=${SWIFT:-swift}
TORCH_VERSION=${COMPARE_TORCH_VERSION:-2.13.0+cpu}
if [ "${COMPARE_QUICK:-0}" = 1 ]; then SUITE=${COMPARE_SUITE:-default}; else SUITE=${COMPARE_SUITE:-all}; fi
mkdir -p "$OUT"
STARTED=$(date +%s)

if [ "${COMPARE_UNSET_CORETYPE:-1}" = 1 ]; then
  RUN=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
  NOTE="Both sides ran with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (OpenBLAS picks its kernels for this CPU)."
else
  RUN=(env)
  NOTE="Environment kept: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}."
fi

# 1. Python environment.
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
if ! "$PY" -c "import numpy, onnx, onnxruntime" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet numpy onnx onnxruntime
fi
case " $PEERS " in *" torch "*)
  if ! "$PY" -c "import torch" 2>/dev/null; then
    # Pinned to the CPU build: a bare `pip install torch` picks the newest PyPI wheel and its
    # multi-GB CUDA dependencies. The +cpu wheel comes from a wheel folder pip searches
    # (PIP_FIND_LINKS / find-links) or from an index that has it.
    if ! "$VENV/bin/pip" install --quiet "torch==$TORCH_VERSION"; then
      echo "compare: torch==$TORCH_VERSION could not be installed (no CPU wheel in pip's find-links or index): skipping PyTorch" >&2
      PEERS=${PEERS//torch/}
    fi
  fi
esac

# Which parts run: the layer suites (default, broad or both) and the networks.
case "$SUITE" in
  networks) LAYER_SUITE=""; NETWORKS=1; NETWORKS_FILTER=${COMPARE_NETWORKS_FILTER:-${COMPARE_FILTER:-}} ;;
  all) LAYER_SUITE=all; NETWORKS=1; NETWORKS_FILTER=${COMPARE_NETWORKS_FILTER:-} ;;
  *) LAYER_SUITE=$SUITE; NETWORKS=0 ;;
esac

# 2. The suite, from the runner itself.
"$SWIFT" build -c release ${SWIFTFLAGS:-} --product convkit-bench
BENCH="$("$SWIFT" build -c release ${SWIFTFLAGS:-} --show-bin-path)/convkit-bench"
COMMON=(--threads "$THREADS" --min-time "$MIN_TIME" --repeats "$REPEATS")
[ "${COMPARE_QUICK:-0}" = 1 ] && COMMON+=(--quick)
COLD=()
[ "${COMPARE_COLD:-1}" = 1 ] && COLD=(--cold)
status=0
if [ -n "$LAYER_SUITE" ]; then
  ARGS=("${COMMON[@]}" --suite "$LAYER_SUITE")
  [ -n "${COMPARE_FILTER:-}" ] && ARGS+=(--filter "$COMPARE_FILTER")
  "$BENCH" "${ARGS[@]}" --print-suite > "$OUT/suite.json"

  # 3. Peers, one process per peer and thread count.
  PEER_FILES=()
  for peer in $PEERS; do
    for t in ${THREADS//,/ }; do
      f="$OUT/peer-$peer-${t}t.jsonl"
      echo "compare: $peer, $t thread(s)" >&2
      OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t "${RUN[@]}" "$PY" Benchmarks/compare/peers.py --peer "$peer" --threads "$t" \
        --suite "$OUT/suite.json" --min-time "$MIN_TIME" --repeats "$REPEATS" > "$f"
      PEER_FILES+=("$f")
    done
  done

  # 4. ConvKit, same suite and settings (exit code kept: a mismatch fails the comparison after the tables).
  "${RUN[@]}" "$BENCH" "${ARGS[@]}" "${COLD[@]}" --json "$OUT/convkit.json" --markdown "$OUT/convkit.md" --svg "$OUT/convkit.svg" \
    > /dev/null || status=$?

  # 5. Combined table and chart.
  "$PY" Benchmarks/compare/combine.py --convkit "$OUT/convkit.json" --peers "${PEER_FILES[@]}" --suite "$OUT/suite.json" \
    --markdown "$OUT/compare.md" --svg "$OUT/compare.svg" --svg-detail "$OUT/compare-gflops.svg" --json "$OUT/compare.json" --note "$NOTE"
  echo "compare: layer suites: wall time $(( $(date +%s) - STARTED )) s (suite $LAYER_SUITE, threads $THREADS)" >&2
  echo "compare: wrote $OUT/compare.md, $OUT/compare.svg (fastest peer / ConvKit), $OUT/compare-gflops.svg, $OUT/compare.json (and convkit.*, peer-*.jsonl)" >&2
fi

# 6. Whole networks: the same steps with networks.py and combine_networks.py. The exported ONNX models
#    (up to ~1 GB for VGG-11 and AlexNet) are kept in $OUT/onnx while the peers run, then deleted.
if [ "$NETWORKS" = 1 ]; then
  NET_STARTED=$(date +%s)
  NET_ARGS=("${COMMON[@]}" --suite networks)
  [ -n "$NETWORKS_FILTER" ] && NET_ARGS+=(--filter "$NETWORKS_FILTER")
  "$BENCH" "${NET_ARGS[@]}" --print-suite > "$OUT/networks-suite.json"
  NET_FILES=()
  for peer in $PEERS; do
    for t in ${THREADS//,/ }; do
      f="$OUT/networks-peer-$peer-${t}t.jsonl"
      echo "compare: networks, $peer, $t thread(s)" >&2
      OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t "${RUN[@]}" "$PY" Benchmarks/compare/networks.py --peer "$peer" --threads "$t" \
        --suite "$OUT/networks-suite.json" --min-time "$MIN_TIME" --repeats "$REPEATS" --onnx-dir "$OUT/onnx" > "$f"
      NET_FILES+=("$f")
    done
  done
  rm -rf "$OUT/onnx"
  PROFILE=()
  [ "${COMPARE_PROFILE:-0}" = 1 ] && PROFILE=(--profile)
  echo "compare: networks, ConvKit" >&2
  "${RUN[@]}" "$BENCH" "${NET_ARGS[@]}" "${COLD[@]}" "${PROFILE[@]}" --json "$OUT/convkit-networks.json" \
    --markdown "$OUT/convkit-networks.md" > /dev/null || status=$?
  "$PY" Benchmarks/compare/combine_networks.py --convkit "$OUT/convkit-networks.json" --peers "${NET_FILES[@]}" \
    --markdown "$OUT/compare-networks.md" --svg "$OUT/compare-networks.svg" --json "$OUT/compare-networks.json" \
    --note "$NOTE" || status=$?
  echo "compare: networks: wall time $(( $(date +%s) - NET_STARTED )) s (threads $THREADS)" >&2
  echo "compare: wrote $OUT/compare-networks.md, $OUT/compare-networks.svg, $OUT/compare-networks.json (and convkit-networks.*, networks-peer-*.jsonl)" >&2
fi
echo "compare: wall time $(( $(date +%s) - STARTED )) s (suite $SUITE, threads $THREADS)" >&2
exit $status
