#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (release, -sanitize=fuzzer,address) and runs each one
# for FUZZ_SECONDS on a copy of its seed corpus (Tests/FuzzCorpus/<reader>/) in a git-ignored
# work directory. Prints each fuzzer's executions and coverage and any crash; exits 1 if any
# fuzzer crashed, hung (-timeout), allocated more than the limit (-malloc_limit_mb) or passed
# the RSS limit (-rss_limit_mb, with ASan's quarantine shrunk so that it means something).
# Seeds longer than FUZZ_MAX_LEN (the reader-limit bombs) are first replayed one at a time,
# each with its peak RSS, failing above FUZZ_RSS_LIMIT_MB.
#
#   bash Fuzz/run.sh                          # every fuzzer, 60 s each
#   FUZZ_SECONDS=300 FUZZERS="npy" bash Fuzz/run.sh
#
# Environment: FUZZ_SECONDS (60), FUZZERS ("idx idx-gzip npy safetensors"), FUZZ_MAX_LEN (4096),
# FUZZ_MALLOC_LIMIT_MB (64), FUZZ_RSS_LIMIT_MB (512), FUZZ_QUARANTINE_MB (16, ASan's freed-memory
# quarantine), FUZZ_TIMEOUT (10 s per input), FUZZ_SCRATCH (.build-fuzz),
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
FUZZ_RSS_LIMIT_MB=${FUZZ_RSS_LIMIT_MB:-512}
FUZZ_QUARANTINE_MB=${FUZZ_QUARANTINE_MB:-16}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
# The caller's ASAN_OPTIONS come last, so they win.
export ASAN_OPTIONS="quarantine_size_mb=$FUZZ_QUARANTINE_MB${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
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
    # Long seeds, one process each: the reader must finish within the limits, and /usr/bin/time
    # gives each one's peak RSS (the fuzzing below truncates inputs to FUZZ_MAX_LEN).
    large_failed=0
    while IFS= read -r seed; do
        [ -n "$seed" ] || continue
        set +e
        /usr/bin/time -f "%M %e" -o "$work/seed.time" "$BIN/fuzz-$reader" "$seed" \
            -malloc_limit_mb="$FUZZ_MALLOC_LIMIT_MB" -rss_limit_mb="$FUZZ_RSS_LIMIT_MB" -timeout="$FUZZ_TIMEOUT" \
            -artifact_prefix="$work/artifacts/" >>"$work/seeds.log" 2>&1
        seed_rc=$?
        set -e
        read -r kb secs <"$work/seed.time" || true
        echo "  seed $(basename "$seed") ($(stat -c %s "$seed") bytes): peak RSS $((kb / 1024)) MB, ${secs} s, exit code $seed_rc"
        if [ "$seed_rc" -ne 0 ] || [ "$((kb / 1024))" -gt "$FUZZ_RSS_LIMIT_MB" ]; then large_failed=1; fi
    done < <(find "$work/corpus" -type f -size +"$FUZZ_MAX_LEN"c | sort)
    echo "fuzz-$reader: ${FUZZ_SECONDS}s, $(ls "$work/corpus" | wc -l) seeds, max_len $FUZZ_MAX_LEN, malloc limit ${FUZZ_MALLOC_LIMIT_MB} MB, RSS limit ${FUZZ_RSS_LIMIT_MB} MB, log $work/fuzz.log"
    set +e
    # ASan's quarantine is shrunk to FUZZ_QUARANTINE_MB, so rss_limit_mb bounds what the reader
    # keeps; malloc_limit_mb bounds what one allocation may ask for.
    "$BIN/fuzz-$reader" "$work/corpus" \
        -max_total_time="$FUZZ_SECONDS" -max_len="$FUZZ_MAX_LEN" \
        -malloc_limit_mb="$FUZZ_MALLOC_LIMIT_MB" -rss_limit_mb="$FUZZ_RSS_LIMIT_MB" -timeout="$FUZZ_TIMEOUT" \
        -artifact_prefix="$work/artifacts/" -print_final_stats=1 >"$work/fuzz.log" 2>&1
    rc=$?
    set -e
    last=$(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1 || true)
    runs=$(grep -E '^stat::number_of_executed_units' "$work/fuzz.log" | awk '{print $2}' || true)
    echo "  last status: ${last:-none}"
    echo "  exit code $rc"
    peak=$(grep -E '^stat::peak_rss_mb' "$work/fuzz.log" | awk '{print $2}' || true)
    echo "  executed: ${runs:-?} inputs, peak RSS ${peak:-?} MB"
    if [ "$rc" -ne 0 ] || [ "$large_failed" -ne 0 ] || ls "$work/artifacts/" | grep -q .; then
        failed+=("$reader")
        echo "  FAILURE:"
        grep -hE 'ERROR|SUMMARY|Fatal error|fuzz invariant|out-of-memory|Test unit written|Base64' "$work/fuzz.log" "$work/seeds.log" 2>/dev/null | head -n 12 | sed 's/^/    /'
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (inputs in $FUZZ_WORK/<reader>/artifacts/)"
    exit 1
fi
echo "fuzz: no crash, hang, oversized allocation or RSS over ${FUZZ_RSS_LIMIT_MB} MB in: $FUZZERS"
