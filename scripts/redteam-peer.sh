#!/usr/bin/env bash
# Red team for the peer node (issue 11): starts a real `strata peer` on 127.0.0.1 serving a model converted from
# the tiny fixture, replays every peer attack against it (RedTeamPeerTest in external mode: squatting identities,
# fresh keys after a ban, a GET_MANIFEST flood without reading, unauthenticated 16 MiB frames, a PEERS frame of 57
# listening ports, a one-byte-at-a-time connection), checks that an honest fetch still succeeds and that the
# process's RSS grows by less than the bound stated in the test (256 MiB), then stops the peer.
# Every attack is bounded in count and time; the whole run takes about two minutes. Linux only (it attacks from
# 127.0.x.y source addresses and reads /proc/PID/status).
# Usage: scripts/redteam-peer.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/strata-redteam.XXXXXX")"
PEER_PID=""
cleanup() {
  if [ -n "$PEER_PID" ] && kill -0 "$PEER_PID" 2>/dev/null; then
    kill "$PEER_PID" 2>/dev/null || true
    wait "$PEER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

./strata shard-convert testdata/data/fixtures/tiny-mixtral-f32 "$WORK/model" --shard-size 256KiB \
  --chunk-size 64KiB -q
./strata peer --model "$WORK/model" --listen 127.0.0.1:0 >"$WORK/peer.log" 2>&1 &
PEER_PID=$!   # ./strata execs java: this is the JVM's pid
for _ in $(seq 1 600); do
  grep -q "listening on" "$WORK/peer.log" 2>/dev/null && break
  kill -0 "$PEER_PID" 2>/dev/null || { cat "$WORK/peer.log" >&2; exit 1; }
  sleep 0.1
done
ADDR="$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$WORK/peer.log" | head -1)"
[ -n "$ADDR" ] || { echo "redteam: strata peer did not start" >&2; cat "$WORK/peer.log" >&2; exit 1; }
echo "redteam: strata peer pid $PEER_PID on $ADDR"

set +e
./mvnw -q -pl p2p -am test -Dtest=RedTeamPeerTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dstrata.redteam.target="$ADDR" -Dstrata.redteam.model="$WORK/model" -Dstrata.redteam.pid="$PEER_PID" \
  >"$WORK/test.log" 2>&1
rc=$?
set -e
grep "redteam:" "$WORK/test.log" || true
if [ $rc -ne 0 ]; then
  grep -E "FAIL|Assertion|expected" "$WORK/test.log" | head -20 >&2
  echo "redteam: FAILED" >&2
  exit 1
fi
kill -0 "$PEER_PID" 2>/dev/null || { echo "redteam: strata peer died" >&2; exit 1; }
echo "redteam: passed; strata peer still up"
