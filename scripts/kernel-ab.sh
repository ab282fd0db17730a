#!/usr/bin/env bash
# A/B of the native batch (prompt) kernels of git revisions, interleaved in one process per shape
# (kernels/src/test/c/batch_ab.c): each revision's kernels/src/main/c built with build.sh's flags.
#   scripts/kernel-ab.sh [-r ROUNDS] [-n REPS] REV... -- TYPE:ROWSxCOLSxINPUTS... | RTYPE:COLS...
#   e.g. scripts/kernel-ab.sh df94859 HEAD -- bf16:3584x1024x32 bf16:1024x3584x32 q8_0:3584x1024x32
# RTYPE:COLS (bf16:1024, q8_0:1024, q4_k:1024, q6_k:3584; f32 f16 q5_k too) times the decode rows kernels instead
# (kernels/src/test/c/rows_ab.c: GB/s per round from memory and from L2, and the fraction of a plain streaming
# read in the same round; -n does not apply).
# WORKTREE as a revision means the uncommitted sources. Batch figures are fractions of the CPU's peak rate measured
# in the same round: compare revisions within one run only.
set -euo pipefail
rounds=8 reps=20
while getopts r:n: o; do case $o in r) rounds=$OPTARG ;; n) reps=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
revs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do revs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#revs[@]} -ge 1 ] && [ $# -ge 1 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
libs=()
for rev in "${revs[@]}"; do
  d="$tmp/src-${#libs[@]}"
  mkdir -p "$d"
  if [ "$rev" = WORKTREE ]; then
    cp "$root"/kernels/src/main/c/*.c "$root"/kernels/src/main/c/*.h "$d"/
  else
    git -C "$root" archive "$rev" kernels/src/main/c | tar -x -C "$d" --strip-components=4
  fi
  lib="$tmp/$(echo "$rev" | tr -c 'A-Za-z0-9._\n-' _).so"
  gcc -O3 -ffp-contract=off -fno-fast-math -fPIC -shared -fvisibility=hidden -std=c11 -o "$lib" "$d"/*.c
  libs+=("$lib")
done
gcc -O3 -o "$tmp/batch_ab" "$root/kernels/src/test/c/batch_ab.c" -ldl
gcc -O3 -mf16c -o "$tmp/rows_ab" "$root/kernels/src/test/c/rows_ab.c" -ldl -lpthread
for shape in "$@"; do
  type=${shape%%:*} dims=${shape#*:}
  echo "== $shape"
  if [ "$dims" = "${dims%%x*}" ]; then
    "$tmp/rows_ab" "${libs[@]}" -- "$type" "$dims" "$rounds" | sed "s|$tmp/||"
    continue
  fi
  IFS=x read -r rows cols inputs <<< "$dims"
  "$tmp/batch_ab" "$type" "$rows" "$cols" "$inputs" "$reps" "$rounds" "${libs[@]}" | sed "s|$tmp/||"
done
