#!/usr/bin/env bash
# End-to-end timing of the breakout CLI on a generated mixed corpus (Kubernetes
# manifests and Terraform modules, written by benches/scan.rs with BENCH_DIR) at 1k,
# 10k and 100k files: hyperfine for the time (both binaries in one run when BEFORE is
# given, so they share the machine's state), /usr/bin/time -v for the peak RSS, and
# files/s and MB/s per input kind (each kind scanned on its own).
#
#   benches/compare.sh [SIZES...]            # default: 1000 10000 100000
#   BEFORE=/tmp/breakout-before benches/compare.sh 1000 10000
#
# Environment: AFTER (default target/release/breakout, built if missing), BEFORE (a
# binary to compare with, e.g. one built from main), CORPUS (default
# /tmp/breakout-corpus; removed at the end unless KEEP=1), RUNS (hyperfine runs,
# default 5), ITEMS (workloads or resources per file, default 2).
# Needs hyperfine (Debian: apt-get install hyperfine) and GNU time (/usr/bin/time).
set -euo pipefail

cd "$(dirname "$0")/.."
AFTER=${AFTER:-target/release/breakout}
CORPUS=${CORPUS:-/tmp/breakout-corpus}
RUNS=${RUNS:-5}
ITEMS=${ITEMS:-2}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 10000 100000)

command -v hyperfine >/dev/null || { echo "hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
[ -x "$AFTER" ] || cargo build --release --quiet
cargo bench --bench scan --no-run --quiet 2>/dev/null
gen=$(ls -t target/release/deps/scan-* | grep -v '\.d$' | head -1)

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "after:  $AFTER ($(git rev-parse --short HEAD))"
[ -n "${BEFORE:-}" ] && echo "before: $BEFORE"

# Scans are expected to find things (exit 1): hyperfine ignores exit codes (-i), and
# each binary is first run once here to check it really scanned (0 or 1).
scan() { echo "$1 scan $2 --format json --output /dev/null --quiet"; }
check() { local rc=0; "$1" scan "$2" --format json --output /dev/null --quiet || rc=$?; [ "$rc" -le 1 ] || { echo "$1 failed on $2 (exit $rc)" >&2; exit 1; }; }

peak_rss() { # binary dir -> MiB
  /usr/bin/time -v "$1" scan "$2" --format json --output /dev/null --quiet 2>&1 >/dev/null \
    | awk '/Maximum resident/{printf "%.0f", $6/1024}'
}

for n in "${SIZES[@]}"; do
  rm -rf "$CORPUS"
  k8s=$((n * 8 / 10)); tf=$((n - k8s))
  # RUNS=0 for the generator: write the corpus, scan nothing.
  BENCH_DIR="$CORPUS/k8s" "$gen" "$k8s" "$ITEMS" 0 >/dev/null
  BENCH_KIND=terraform BENCH_DIR="$CORPUS/terraform" "$gen" "$tf" "$ITEMS" 0 >/dev/null
  sync
  echo
  echo "== $n files: $k8s Kubernetes, $tf Terraform, $(du -sm "$CORPUS" | cut -f1) MB =="
  cmds=()
  check "$AFTER" "$CORPUS"
  [ -n "${BEFORE:-}" ] && check "$BEFORE" "$CORPUS" && cmds+=(-n before "$(scan "$BEFORE" "$CORPUS")")
  cmds+=(-n after "$(scan "$AFTER" "$CORPUS")")
  hyperfine -N --warmup 1 --runs "$RUNS" -i "${cmds[@]}" --export-json "$CORPUS.json" 2>&1 \
    | grep -Ev '^ *$|Warning|first benchmarking|caches' || true
  for kind in k8s terraform; do
    files=$(find "$CORPUS/$kind" -type f | wc -l)
    bytes=$(du -sb "$CORPUS/$kind" | cut -f1)
    for b in ${BEFORE:+before} after; do
      bin=$AFTER; [ "$b" = before ] && bin=$BEFORE
      # Mean of three runs, wall and CPU (user+sys), from GNU time.
      read -r wall cpu < <(for _ in 1 2 3; do
          /usr/bin/time -f '%e %U %S' "$bin" scan "$CORPUS/$kind" --format json --output /dev/null --quiet 2>&1 >/dev/null | tail -1
        done | awk '{w+=$1; c+=$2+$3} END {printf "%.3f %.3f\n", w/NR, c/NR}')
      awk -v k="$kind" -v b="$b" -v f="$files" -v by="$bytes" -v w="$wall" -v c="$cpu" -v r="$(peak_rss "$bin" "$CORPUS/$kind")" \
        'BEGIN {printf "%-9s %-6s %6d files %7.1f MB  wall %6.3f s  cpu %6.3f s  %8.0f files/s  %6.1f MB/s  peak RSS %4d MiB\n", k, b, f, by/1e6, w, c, f/w, by/1e6/w, r}'
    done
  done
  for b in ${BEFORE:+before} after; do
    bin=$AFTER; [ "$b" = before ] && bin=$BEFORE
    echo "all       $b peak RSS $(peak_rss "$bin" "$CORPUS") MiB"
  done
done
[ "${KEEP:-}" = 1 ] || rm -rf "$CORPUS" "$CORPUS.json"
