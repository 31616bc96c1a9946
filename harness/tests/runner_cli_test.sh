#!/bin/sh
# runner_cli_test.sh RUNNER CASE DIR: what `termsuite-runner conform` refuses, it refuses with exit 2
# and one line naming the problem, before starting anything. DIR is a scratch folder of the case's
# own (its build folder, results and expectations), so no real run is disturbed.
set -u
runner=$1
case_name=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir/build" "$dir/results" "$dir/expectations"
lock="$dir/build/termsuite-run.lock"
holder=

fail() {
  echo "FAIL ($case_name): $*"
  [ -f "$dir/err" ] && sed 's/^/  stderr: /' "$dir/err"
  [ -n "$holder" ] && kill -9 "$holder" 2>/dev/null
  exit 1
}

conform() {
  "$runner" conform --build "$dir/build" --results "$dir/results" --expectations "$dir/expectations" "$@" \
    >"$dir/out" 2>"$dir/err"
  rc=$?
}

# Exit 2, exactly one line on stderr, and that line contains $1.
expect_refusal() {
  [ "$rc" = 2 ] || fail "exit $rc, expected 2"
  [ "$(wc -l < "$dir/err")" = 1 ] || fail "expected one line on stderr"
  grep -qF -- "$1" "$dir/err" || fail "the line does not say '$1'"
  echo "ok ($case_name): $(cat "$dir/err")"
}

# A process of its own holds the run lock of the scratch build folder, named in the lock file as a
# run names itself. Waits (polling, with a deadline) until it holds it.
hold_lock() {
  sh -c 'echo "pid $$: runner_cli_test.sh holding the lock" > "$0"; exec 9>>"$0"; flock 9; exec sleep 60' "$lock" &
  holder=$!
  i=0
  while flock -n "$lock" true; do
    i=$((i + 1))
    [ "$i" -lt 200 ] || fail "the holder never took the lock"
    sleep 0.05
  done
}

case "$case_name" in
  wine-nonexistent)
    conform --wine /nonexistent
    expect_refusal "/nonexistent: no such file or folder" ;;
  wine-not-a-wine)
    # A launcher and a server that answer --version, but not as Wine does.
    mkdir -p "$dir/fake"
    printf '#!/bin/sh\necho "fake 1.0"\n' > "$dir/fake/wine"
    printf '#!/bin/sh\necho "Wine 1.0"\n' > "$dir/fake/wineserver"
    chmod +x "$dir/fake/wine" "$dir/fake/wineserver"
    conform --wine "$dir/fake/wine"
    expect_refusal "is not a Wine" ;;
  wine-folder-not-a-tree)
    conform --wine "$dir/results"
    expect_refusal "not a Wine build tree" ;;
  expectations-from-unknown)
    conform --expectations-from wine-0.0-nowhere-x86_64
    expect_refusal "--expectations-from wine-0.0-nowhere-x86_64: no such platform" ;;
  platform-id-malformed)
    conform --platform-id 'Wine/8.0'
    expect_refusal "is not a platform id" ;;
  lock-held)
    hold_lock
    # --wine /nonexistent would be the refusal if the lock were not checked first.
    conform --wine /nonexistent
    expect_refusal "is in use by another run (pid $holder: runner_cli_test.sh holding the lock)"
    kill -9 "$holder"
    wait "$holder" 2>/dev/null ;;
  lock-of-a-killed-run)
    hold_lock
    kill -9 "$holder"
    wait "$holder" 2>/dev/null
    holder=
    # The holder's name is still in the file, but its lock died with it: the run goes on to its
    # next check.
    conform --wine /nonexistent
    expect_refusal "/nonexistent: no such file or folder" ;;
  *)
    fail "unknown case" ;;
esac
exit 0
