# POSIX sh (mvnw is sh). Sourced by ./mvnw and ./strata: points JAVA_HOME at a JDK >= 25 without the user exporting anything.
# Order: STRATA_JAVA_HOME, JAVA_HOME, the `java` on PATH, then the usual install roots; the newest JDK >= 25 of
# the install roots wins only when none of the first three is already >= 25 (a user's own choice is kept).
strata_jdk_major() { # $1 = JDK home; prints its major version or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] || return 0
  if [ -r "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -1)
  fi
  echo "$v"
}
strata_find_jdk() {
  local want=25 c v best="" bestv=0 onpath=""
  if command -v java >/dev/null 2>&1; then
    onpath=$(readlink -f "$(command -v java)" 2>/dev/null); onpath=${onpath%/bin/java}
  fi
  for c in "${STRATA_JAVA_HOME:-}" "${JAVA_HOME:-}" "$onpath"; do
    [ -n "$c" ] || continue
    v=$(strata_jdk_major "$c"); [ -n "$v" ] && [ "$v" -ge "$want" ] && { echo "$c"; return 0; }
  done
  local noglob=""
  case $- in *f*) noglob=1; set +f;; esac  # mvnw runs with globbing off
  for c in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/*jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$c" ] || continue
    v=$(strata_jdk_major "$c"); [ -n "$v" ] || continue
    if [ "$v" -ge "$want" ] && [ "$v" -gt "$bestv" ]; then best=$c; bestv=$v; fi
  done
  [ -z "$noglob" ] || set -f
  [ -n "$best" ] && { echo "$best"; return 0; }
  return 1
}
strata_use_jdk() {
  local h
  if ! h=$(strata_find_jdk); then
    echo "strata: no JDK 25 or newer found (looked at STRATA_JAVA_HOME, JAVA_HOME, PATH, /usr/lib/jvm, /usr/java, /opt, ~/.sdkman)." >&2
    echo "strata: install one, or set JAVA_HOME to it." >&2
    return 1
  fi
  export JAVA_HOME="$h"
}
