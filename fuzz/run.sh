#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each (default 120), one after another, and
# prints each target's executions and whether it found a crash. New inputs go to
# fuzz/corpus/TARGET (not committed); fuzz/seeds/TARGET is the committed seed corpus; a crash is
# written to fuzz/artifacts/TARGET/ and stops that target.
#
#   fuzz/run.sh 300                  # every target, 5 minutes each
#   fuzz/run.sh 60 stream_openai     # one target
#
# Needs nightly and cargo-fuzz: rustup toolchain install nightly; cargo install cargo-fuzz.
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-120}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sse ndjson stream_openai stream_anthropic stream_ollama request_openai request_anthropic)
fi
# -a: debug assertions (integer overflow is a crash); no sanitizer: the code under test is safe
# Rust, so AddressSanitizer would only halve the executions.
flags=(-a -s none)
cargo +nightly fuzz build "${flags[@]}" >/dev/null || exit 1
status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log=$(mktemp)
  cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1
  code=$?
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
  corpus=$(ls "corpus/$target" | wc -l)
  if [ $code -eq 0 ]; then
    echo "$target: ${runs:-?} executions in ${seconds}s, corpus $corpus, no crash"
  else
    status=1
    echo "$target: CRASH after ${runs:-?} executions (exit $code):"
    grep -E 'panicked at|Test unit written|SUMMARY' "$log" | sed 's/^/  /'
    grep -A3 'panicked at' "$log" | head -8 | sed 's/^/  /'
  fi
  rm -f "$log"
done
exit $status
