# shellcheck shell=bash
# phases.sh: the phases of ./termsuite's bootstrap (packages, configure, build), each with its log.
# Sourced by ./termsuite (bash); harness/tests/phases_test.sh drives it on its own.
#
#   phase NAME LOG [--lazy] -- COMMAND...
#
# runs COMMAND with its standard output and error into LOG (the whole of it) and says so:
#   termsuite: NAME (log: LOG)
# when the phase starts. With --lazy (a build: `cmake --build`, whose Ninja has nothing to do on a
# warm tree) the line waits for the first step of the build (Ninja's "[n/m] " status), so a phase
# with nothing to do says nothing.
#
# On a terminal (stdout a tty, TERM not dumb) a status line under it follows the phase, redrawn in
# place: Ninja's last "[n/m] what" for a build, the command's last line of output otherwise; when
# the phase ends the status line becomes "  done in T". Without a terminal (CI, `> file`) the start
# line is all: no status, no carriage returns.
#
# A phase that fails ends the script: the lines of LOG that say why on stdout (those matching
# PHASE_ERRORS, default the last 20), then one line on stderr naming the phase and its log, exit 2.

phase_tty=0
if [ -t 1 ] && [ "${TERM:-dumb}" != dumb ]; then phase_tty=1; fi
PHASE_ERRORS="${PHASE_ERRORS:-}"
# A step of a build (Ninja's status, pinned below), and the one step a warm build with nothing to
# do still shows (CMake's check of its globs, CONFIGURE_DEPENDS), as awk patterns.
phase_step='^\[[0-9]+\/[0-9]+\] '
phase_idle='Re-checking globbed directories'


# Seconds as "42 s" or "2 min 05 s".
phase_duration() {
  local s=$1
  if ((s < 60)); then printf '%d s' "$s"; else printf '%d min %02d s' $((s / 60)) $((s % 60)); fi
}

phase_columns() {
  local cols
  cols=$(stty size < /dev/tty 2> /dev/null | cut -d' ' -f2) || true
  [[ "$cols" =~ ^[0-9]+$ ]] && ((cols > 10)) || cols=80
  echo "$cols"
}

phase() {
  local name=$1 log=$2 lazy=0
  shift 2
  if [ "${1:-}" = --lazy ]; then lazy=1; shift; fi
  [ "${1:-}" = -- ] && shift
  mkdir -p "$(dirname "$log")"
  : > "$log"
  local announce="termsuite: $name (log: $log)"
  ((lazy)) || echo "$announce"
  local start=$SECONDS rc=0
  # The filter: every line into the log; the start line of a lazy phase at its first step; on a
  # terminal, the status line. Ninja's status is pinned ("[finished/total] ") whatever the caller's
  # NINJA_STATUS says.
  NINJA_STATUS='[%f/%t] ' "$@" 2>&1 | awk -v logfile="$log" -v tty="$phase_tty" -v lazy="$lazy" \
      -v announce="$announce" -v width="$( ((phase_tty)) && phase_columns || echo 80)" '
    function draw(text) {
      text = "  " text
      gsub(/[\r\t]/, " ", text)
      if (length(text) > width - 1) text = substr(text, 1, width - 1)
      printf "\r\033[K%s", text
      fflush()
    }
    {
      print > logfile
      fflush(logfile)
      step = ($0 ~ /'"$phase_step"'/)
      if (lazy && !announced && step && $0 !~ /'"$phase_idle"'/) {
        announced = 1
        if (tty) printf "\r\033[K"
        print announce
        fflush()
      }
      if (tty && (lazy ? announced && step : $0 ~ /[^ \t\r]/)) draw($0)
    }' || rc=$?
  local started=1
  if ((lazy)) && ! awk "/$phase_step/ && !/$phase_idle/ { found = 1 } END { exit !found }" "$log"; then started=0; fi
  if ((phase_tty && started)); then
    if ((rc == 0)); then
      printf '\r\033[K  done in %s\n' "$(phase_duration $((SECONDS - start)))"
    else
      printf '\r\033[K'
    fi
  fi
  if ((rc != 0)); then
    if [ -n "$PHASE_ERRORS" ]; then grep -E -- "$PHASE_ERRORS" "$log" | head -20 || true; else tail -20 "$log"; fi
    echo "termsuite: $name failed (exit $rc); see $log" >&2
    exit 2
  fi
}
