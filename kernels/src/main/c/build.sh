#!/bin/sh
# Builds libstrata_kernels.so (the native twins of the Java matvec kernels, see strata_kernels.c) into
# $1/native/<os>-<arch>/, where NativeKernels looks for it on the class path. Run by the kernels module's build
# (exec-maven-plugin, compile phase). Never fails the build: without gcc, on another platform, or when the
# compiler rejects the code, it prints one warning line and Strata uses its Java kernels.
# CC overrides the compiler; STRATA_NATIVE_BUILD=skip builds nothing (to test the Java-only path).
set -u
cd "$(dirname "$0")"
OUT_ROOT="${1:?usage: build.sh <classes directory>}"
warn() { echo "[WARNING] strata native kernels not built ($1); the Java kernels will be used"; exit 0; }
[ "${STRATA_NATIVE_BUILD:-}" = skip ] && warn "STRATA_NATIVE_BUILD=skip"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLATFORM=linux-x86_64 ;;
  *) warn "no native kernels for $(uname -s)-$(uname -m)" ;;
esac
CC="${CC:-gcc}"
command -v "$CC" >/dev/null 2>&1 || warn "$CC not found"
DEST="$OUT_ROOT/native/$PLATFORM"
LIB="$DEST/libstrata_kernels.so"
# up to date: newer than every source and this script
if [ -f "$LIB" ] && [ -z "$(find . -newer "$LIB" \( -name '*.c' -o -name '*.h' -o -name build.sh \) -print)" ]; then
  exit 0
fi
mkdir -p "$DEST" || warn "cannot create $DEST"
TMP="$LIB.tmp.$$"
# -ffp-contract=off: no fused multiply-add the source does not spell out; no -ffast-math: nothing reassociated.
if ! "$CC" -O3 -ffp-contract=off -fno-fast-math -fPIC -shared -fvisibility=hidden -std=c11 -Wall -Wextra \
      -o "$TMP" ./*.c 2>"$TMP.log"; then
  first=$(grep -m1 -i error "$TMP.log" || head -1 "$TMP.log")
  rm -f "$TMP" "$TMP.log"
  warn "$CC failed: $first"
fi
if [ -s "$TMP.log" ]; then cat "$TMP.log" >&2; fi
rm -f "$TMP.log"
mv "$TMP" "$LIB" || warn "cannot write $LIB"
echo "[INFO] built $LIB"
