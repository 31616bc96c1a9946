#!/bin/sh
# phases_test.sh PHASES CASE DIR: ./termsuite's phases (harness/phases.sh) say each phase once as it
# starts, with its log; keep a log without a terminal quiet (that one line, no carriage return);
# draw a status line on a terminal; and end the run with exit 2 and one line naming the phase and
# its log when a phase fails. Each case runs fake phases (a fake build prints Ninja's status lines)
# in a scratch folder DIR of its own.
set -u
phases=$1
case_name=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"

fail() {
  echo "FAIL ($case_name): $*"
  for f in out err; do [ -f "$dir/$f" ] && od -c "$dir/$f" | head -20 | sed "s/^/  $f: /"; done
  exit 1
}

# A fake build: Ninja's lines as `cmake --build` prints them without a terminal, a warning among them.
cat > "$dir/build" <<'SH'
#!/bin/sh
echo "[0/2] Re-checking globbed directories..."
echo "[1/3] Building CXX object a.o"
echo "a.cpp:1: warning: something"
echo "[2/3] Building CXX object b.o"
echo "[3/3] Linking CXX executable c"
SH
# A warm build: nothing to do.
printf '#!/bin/sh\necho "[0/2] Re-checking globbed directories..."\necho "ninja: no work to do."\n' > "$dir/warm"
# A build that fails.
printf '#!/bin/sh\necho "[1/2] Building CXX object a.o"\necho "a.cpp:1: error: boom"\necho "FAILED: a.o"\nexit 1\n' > "$dir/broken"
chmod +x "$dir/build" "$dir/warm" "$dir/broken"

# Runs the phases of $1 (bash code after sourcing phases.sh) without a terminal: stdout, stderr, rc.
phases() {
  (cd "$dir" && TERM=xterm bash -c ". '$phases'; set -euo pipefail; $1; echo after" > out 2> err < /dev/null)
  rc=$?
}

lines() { wc -l < "$dir/$1" | tr -d ' '; }
no_cr() { ! grep -q "$(printf '\r')" "$dir/$1" || fail "a carriage return in $1"; }

case "$case_name" in
  quiet)
    # Without a terminal: one line per phase, as it starts, naming its log; the whole output in the
    # log; no carriage return. Two phases: a configure-like one and a lazy build.
    phases "phase 'configure fake' logs/configure.log -- ./build; phase 'build fake' logs/build.log --lazy -- ./build"
    [ "$rc" = 0 ] || fail "exit $rc"
    [ "$(lines out)" = 3 ] || fail "expected 3 lines (2 phases, then the script's own), got $(lines out)"
    [ "$(sed -n 1p "$dir/out")" = "termsuite: configure fake (log: logs/configure.log)" ] || fail "line 1: $(sed -n 1p "$dir/out")"
    [ "$(sed -n 2p "$dir/out")" = "termsuite: build fake (log: logs/build.log)" ] || fail "line 2: $(sed -n 2p "$dir/out")"
    [ "$(sed -n 3p "$dir/out")" = "after" ] || fail "the script did not go on"
    no_cr out
    [ -s "$dir/err" ] && fail "stderr is not empty"
    cmp -s "$dir/logs/build.log" - <<EOF2 || fail "the log is not the build's whole output"
$("$dir/build")
EOF2
    echo "ok ($case_name): $(tr '\n' '|' < "$dir/out")"
    ;;
  warm)
    # A build with nothing to do says nothing; one with work (the control) says its line.
    phases "phase 'build warm' logs/warm.log --lazy -- ./warm; phase 'build fake' logs/build.log --lazy -- ./build"
    [ "$rc" = 0 ] || fail "exit $rc"
    [ "$(cat "$dir/out")" = "termsuite: build fake (log: logs/build.log)
after" ] || fail "expected only the build with work to say its line"
    grep -q "no work to do" "$dir/logs/warm.log" || fail "the warm build's log is not kept"
    echo "ok ($case_name)"
    ;;
  failure)
    # A failing phase: exit 2, one line on stderr naming the phase and its log; the log's errors on
    # stdout; nothing after it runs.
    phases "phase 'build fake' logs/build.log --lazy -- ./build; PHASE_ERRORS='error|FAILED' phase 'build broken' logs/broken.log --lazy -- ./broken"
    [ "$rc" = 2 ] || fail "exit $rc, expected 2"
    [ "$(lines err)" = 1 ] || fail "expected one line on stderr"
    [ "$(cat "$dir/err")" = "termsuite: build broken failed (exit 1); see logs/broken.log" ] || fail "stderr: $(cat "$dir/err")"
    grep -q "^after" "$dir/out" && fail "the script went on after the failed phase"
    grep -q "error: boom" "$dir/out" || fail "the log's error is not shown"
    no_cr out
    echo "ok ($case_name): $(cat "$dir/err")"
    ;;
  terminal)
    # On a terminal (a pseudo-terminal of script(1)): the status line shows Ninja's steps, redrawn in
    # place, and ends as "done in".
    command -v script > /dev/null || fail "no script(1) to give the phases a terminal"
    (cd "$dir" && TERM=xterm script -qec "bash -c \". '$phases'; phase 'build fake' logs/build.log --lazy -- ./build\"" /dev/null \
      > out 2> err < /dev/null)
    rc=$?
    [ "$rc" = 0 ] || fail "exit $rc"
    grep -q "termsuite: build fake (log: logs/build.log)" "$dir/out" || fail "no start line"
    grep -q "$(printf '\r')" "$dir/out" || fail "no status line redrawn in place"
    grep -q "\[3/3\] Linking CXX executable c" "$dir/out" || fail "the status does not show Ninja's steps"
    grep -q "warning" "$dir/out" && fail "the status shows a line that is not a step"
    grep -q "done in [0-9]* s" "$dir/out" || fail "no 'done in'"
    echo "ok ($case_name)"
    ;;
  *) fail "unknown case" ;;
esac
