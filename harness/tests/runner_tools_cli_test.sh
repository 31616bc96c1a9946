#!/bin/sh
# runner_tools_cli_test.sh RUNNER CASE DIR: `termsuite-runner compare`, `expectations update` and
# `report` on crafted files in the scratch folder DIR: their exit codes (0, 1 for a regression, 2
# with one line on stderr for bad input), what they print, and what update and report write.
set -u
runner=$1
case_name=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir/old" "$dir/new" "$dir/results/expectations"

fail() {
  echo "FAIL ($case_name): $*"
  for f in out err; do [ -f "$dir/$f" ] && sed "s/^/  $f: /" "$dir/$f"; done
  exit 1
}

# results FILE PLATFORM-ID "NAME OUTCOME DETAIL" ...: a stable results file.
results() {
  file=$1 id=$2
  shift 2
  {
    printf '{"platform": {"id": "%s", "os": "windows", "version": "6.1.7601", "wine": "8.0", "arch": "x86_64"},\n "tests": [' "$id"
    sep=
    for t in "$@"; do
      set -- $t
      printf '%s\n  {"name": "%s", "claim": "some.claim", "backend": "live", "outcome": "%s", "detail": "%s"}' "$sep" "$1" "$2" "${3:-}"
      sep=,
    done
    printf ']}\n'
  } > "$file"
}

# explore_run RESULTS: the explorer's results beside the results files, as `termsuite explore`
# writes them: a run with one new finding and the finding's scenario file.
explore_run() {
  mkdir -p "$1/explore/wine-8.0-x86_64"
  printf '# termsuite-scenario 1\nctrl 1 0\n' > "$1/explore/wine-8.0-x86_64/finding-1.scn"
  cat > "$1/explore/wine-8.0-x86_64.json" <<'JSON'
{"platform": "wine-8.0-x86_64", "seed": 7, "seconds": 9.5, "scenarios": 20, "scenarios_per_minute": 126.0,
 "disagreements": 1, "flaky": 0, "flaky_signatures": [], "new_findings": 1, "mutants_covered": ["m"],
 "claims_covered": ["some.claim"],
 "findings": [{"signature": "ctrl: 0 -> 6", "status": "new", "claims": [], "steps": 1, "original_steps": 4,
   "scenario": "# termsuite-scenario 1\nctrl 1 0\n",
   "first_difference": {"line": 0, "model": "1 ctrl 1 0: 0", "live": "1 ctrl 1 0: 6", "last_agreement": ""},
   "confirmations": "2 of 2", "file": "wine-8.0-x86_64/finding-1.scn"}],
 "budget_seconds": 10.0}
JSON
}

tool() {
  "$runner" "$@" >"$dir/out" 2>"$dir/err"
  rc=$?
}

expect_rc() { [ "$rc" = "$1" ] || fail "exit $rc, expected $1"; }
expect_out() { grep -qF -- "$1" "$dir/out" || fail "stdout does not say '$1'"; }
# Exit 2, exactly one line on stderr, and that line contains $1.
expect_refusal() {
  expect_rc 2
  [ "$(wc -l < "$dir/err")" = 1 ] || fail "expected one line on stderr"
  grep -qF -- "$1" "$dir/err" || fail "the line does not say '$1'"
}

case "$case_name" in
  compare-regression)
    results "$dir/old/w.json" wine-8.0-x86_64 "A.B pass" "C.D fail broken"
    results "$dir/new/w.json" wine-8.0-x86_64 "A.B fail boom" "C.D pass"
    tool compare "$dir/old/w.json" "$dir/new/w.json"
    expect_rc 1
    expect_out "A.B [some.claim]: pass -> fail: boom"
    expect_out "C.D [some.claim]: fail -> pass: was: broken"
    expect_out "result: 1 regression"
    tool compare --markdown "$dir/old" "$dir/new"
    expect_rc 1
    expect_out "## termsuite compare: 1 regression"
    expect_out "| \`A.B\` | \`some.claim\` | pass | **fail** | boom |" ;;
  compare-no-regression)
    results "$dir/old/w.json" wine-8.0-x86_64 "A.B fail broken"
    results "$dir/new/w.json" wine-9.0-x86_64 "A.B pass"
    tool compare "$dir/old/w.json" "$dir/new/w.json"
    expect_rc 0
    expect_out "note: the files are for different platforms: wine-8.0-x86_64 (old) and wine-9.0-x86_64 (new)"
    expect_out "result: no regression" ;;
  compare-malformed)
    results "$dir/old/w.json" wine-8.0-x86_64 "A.B pass"
    printf '{"platform": ' > "$dir/new/w.json"
    tool compare "$dir/old/w.json" "$dir/new/w.json"
    expect_refusal "w.json: not a JSON object" ;;
  compare-missing)
    results "$dir/old/w.json" wine-8.0-x86_64 "A.B pass"
    tool compare "$dir/old/w.json" "$dir/new/nothing.json"
    expect_refusal "nothing.json: no such file" ;;
  update)
    results "$dir/results/wine-8.0-x86_64.json" wine-8.0-x86_64 "A.B xpass unexpected" "C.D fail boom" "E.F xfail kept"
    results "$dir/results/sim.json" sim "A.B pass"
    cat > "$dir/results/expectations/wine-8.0-x86_64.json" <<'JSON'
{
  "platform": "wine-8.0-x86_64",
  "comment": "stays",
  "deviations": [
    {"test": "A.B", "claim": "some.claim", "expect": "fail", "reason": "fixed since"},
    {"test": "E.F", "claim": "some.claim", "expect": "fail", "reason": "kept"},
    {"test": "G.H", "claim": "some.claim", "expect": "fail", "reason": "Wine 9", "when": {"wine": {"min": "9.0"}}}
  ]
}
JSON
    tool expectations update --results "$dir/results" --expectations "$dir/results/expectations"
    expect_rc 0
    expect_out "removed A.B: passes now"
    expect_out "added C.D (expect fail): UNTRIAGED: boom"
    expect_out "1 UNTRIAGED entry"
    f="$dir/results/expectations/wine-8.0-x86_64.json"
    grep -q '"reason": "kept"' "$f" || fail "the kept reason is gone"
    grep -q '"reason": "Wine 9"' "$f" || fail "the conditional entry is gone"
    grep -q '"reason": "UNTRIAGED: boom"' "$f" || fail "no UNTRIAGED entry"
    grep -q '"comment": "stays"' "$f" || fail "the comment is gone"
    grep -q '"A.B"' "$f" && fail "the passing test's entry is still there"
    cp "$f" "$dir/first"
    tool expectations update --platform wine-8.0-x86_64 --results "$dir/results" --expectations "$dir/results/expectations"
    expect_rc 0
    expect_out "is up to date (no change)"
    cmp -s "$f" "$dir/first" || fail "a second update changed the file"
    [ "$(ls -A "$dir/results/expectations")" = "wine-8.0-x86_64.json" ] || fail "a temporary file was left" ;;
  update-malformed)
    results "$dir/results/wine-8.0-x86_64.json" wine-8.0-x86_64 "A.B pass"
    printf '{"platform": "wine-8.0-x86_64", "deviations": [{"test": "A.B"}]}' > "$dir/results/expectations/wine-8.0-x86_64.json"
    tool expectations update --results "$dir/results" --expectations "$dir/results/expectations"
    expect_refusal "termsuite: expectations: " ;;
  update-which-platform)
    results "$dir/results/wine-8.0-x86_64.json" wine-8.0-x86_64 "A.B pass"
    results "$dir/results/wine-9.0-x86_64.json" wine-9.0-x86_64 "A.B pass"
    tool expectations update --results "$dir/results" --expectations "$dir/results/expectations"
    expect_refusal "choose one with --platform" ;;
  report-explore)
    results "$dir/results/wine-8.0-x86_64.json" wine-8.0-x86_64 "A.B pass"
    explore_run "$dir/results"
    tool report --results "$dir/results" --expectations "$dir/results/expectations" --out "$dir/report"
    expect_rc 0
    grep -q '^## Explorer findings$' "$dir/report/MATRIX.md" || fail "MATRIX.md has no explorer section"
    grep -qF '| `wine-8.0-x86_64` | 7 | 10 s | 20 in 9.5 s (126 a minute) | 1 | 0 | 1 new, 0 known | 1 mutant, 1 claim |' \
      "$dir/report/MATRIX.md" || fail "MATRIX.md has no row for the run"
    grep -qF 'explore --replay ' "$dir/report/MATRIX.md" || fail "MATRIX.md has no replay command"
    grep -qF '/results/explore/wine-8.0-x86_64/finding-1.scn`' "$dir/report/MATRIX.md" || fail "the command does not name the scenario file"
    grep -qF '<section class="finding" id="finding-wine-8.0-x86_64-1"' "$dir/report/report.html" || fail "report.html has no finding"
    rm -r "$dir/results/explore"
    tool report --results "$dir/results" --expectations "$dir/results/expectations" --out "$dir/report"
    expect_rc 0
    grep -q 'xplorer' "$dir/report/MATRIX.md" "$dir/report/report.html" && fail "an explorer section without an explorer file" ;;
  report-explore-malformed)
    results "$dir/results/wine-8.0-x86_64.json" wine-8.0-x86_64 "A.B pass"
    explore_run "$dir/results"
    printf '{"platform": ' > "$dir/results/explore/wine-8.0-x86_64.json"
    tool report --results "$dir/results" --expectations "$dir/results/expectations" --out "$dir/report"
    expect_refusal "wine-8.0-x86_64.json: not an explorer results file: "
    [ -e "$dir/report/report.html" ] && fail "a report was written" ;;
  *) fail "unknown case" ;;
esac
echo "ok ($case_name)"
