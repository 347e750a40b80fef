#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (release, -sanitize=fuzzer,address) and runs each one
# for FUZZ_SECONDS on a copy of its seed corpus (Tests/FuzzCorpus/<reader>/) in a git-ignored
# work directory. Prints each fuzzer's executions and coverage and any crash; exits 1 if any
# fuzzer crashed, hung (-timeout), or allocated more than the limit (-malloc_limit_mb).
#
#   bash Fuzz/run.sh                          # every fuzzer, 60 s each
#   FUZZ_SECONDS=300 FUZZERS="npy" bash Fuzz/run.sh
#
# Environment: FUZZ_SECONDS (60), FUZZERS ("idx idx-gzip npy safetensors"), FUZZ_MAX_LEN (4096),
# FUZZ_MALLOC_LIMIT_MB (64), FUZZ_TIMEOUT (10 s per input), FUZZ_SCRATCH (.build-fuzz),
# FUZZ_WORK (.build-fuzz-work), SWIFT (swift). New interesting inputs stay in
# $FUZZ_WORK/<reader>/corpus; crashes are saved as $FUZZ_WORK/<reader>/artifacts/crash-*.
# See docs/Fuzzing.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZERS=${FUZZERS:-"idx idx-gzip npy safetensors"}
FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-4096}
FUZZ_MALLOC_LIMIT_MB=${FUZZ_MALLOC_LIMIT_MB:-64}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_SCRATCH=${FUZZ_SCRATCH:-$ROOT/.build-fuzz}
FUZZ_WORK=${FUZZ_WORK:-$ROOT/.build-fuzz-work}

echo "fuzz: building (release, -sanitize=fuzzer,address) into $FUZZ_SCRATCH"
"$SWIFT" build -c release --package-path "$ROOT/Fuzz" --scratch-path "$FUZZ_SCRATCH" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
BIN="$FUZZ_SCRATCH/release"

failed=()
for reader in $FUZZERS; do
    work="$FUZZ_WORK/$reader"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp "$ROOT/Tests/FuzzCorpus/$reader/"* "$work/corpus/"
    echo "fuzz-$reader: ${FUZZ_SECONDS}s, $(ls "$work/corpus" | wc -l) seeds, max_len $FUZZ_MAX_LEN, malloc limit ${FUZZ_MALLOC_LIMIT_MB} MB, log $work/fuzz.log"
    set +e
    # ASan's quarantine keeps freed memory for a while (256 MB): rss_limit stays well above it;
    # malloc_limit_mb is the real bound on what one input may make a reader allocate.
    "$BIN/fuzz-$reader" "$work/corpus" \
        -max_total_time="$FUZZ_SECONDS" -max_len="$FUZZ_MAX_LEN" \
        -malloc_limit_mb="$FUZZ_MALLOC_LIMIT_MB" -rss_limit_mb=2048 -timeout="$FUZZ_TIMEOUT" \
        -artifact_prefix="$work/artifacts/" -print_final_stats=1 >"$work/fuzz.log" 2>&1
    rc=$?
    set -e
    last=$(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1 || true)
    runs=$(grep -E '^stat::number_of_executed_units' "$work/fuzz.log" | awk '{print $2}' || true)
    echo "  last status: ${last:-none}"
    echo "  executed: ${runs:-?} inputs, exit code $rc"
    if [ "$rc" -ne 0 ] || ls "$work/artifacts/" | grep -q .; then
        failed+=("$reader")
        echo "  FAILURE:"
        grep -E 'ERROR|SUMMARY|Fatal error|fuzz invariant|out-of-memory|Test unit written|Base64' "$work/fuzz.log" | head -n 12 | sed 's/^/    /'
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (inputs in $FUZZ_WORK/<reader>/artifacts/)"
    exit 1
fi
echo "fuzz: no crash, hang or oversized allocation in: $FUZZERS"
