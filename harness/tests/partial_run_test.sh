#!/bin/sh
# partial_run_test.sh RUNNER SOURCE MINGW_BUILD WINE_STATE DIR: a filtered conform (a partial run)
# changes no file of the results folder, writes its results, the simulator's, the POSIX suite's and
# its matrix into the run folder and names them, and its simulator runs the same filter.
#
# It runs the real runner under the Wine environment that is up (the ctest fixture's, kept), on a
# copy of the committed results/ in DIR, from a build folder of its own in DIR (the mingw build's
# bin/ and Wine state linked in), so it takes no run lock of the real build tree. Every file of the
# copy is dated 2000-01-01 first: a file written again, even with the same bytes, shows.
set -u
runner=$1
source=$2
mingw_build=$3
wine_state=$4
dir=$5

fail() {
  echo "FAIL: $*"
  [ -f "$dir/out" ] && sed 's/^/  stdout: /' "$dir/out"
  [ -f "$dir/err" ] && sed 's/^/  stderr: /' "$dir/err"
  exit 1
}

rm -rf "$dir"
mkdir -p "$dir/build" || fail "cannot make $dir"
ln -s "$mingw_build/bin" "$dir/build/bin"
ln -s "$wine_state" "$dir/build/wine"
cp -R "$source/results" "$dir/results" || fail "cannot copy $source/results"
rm -rf "$dir/results/run"  # a Windows run folder, should one be there: not part of the baseline
find "$dir/results" -exec touch -h -d '2000-01-01 00:00:00' {} +

# Every file under a folder: name, size, date (to the nanosecond), inode, content.
snapshot() {
  (cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do
    printf '%s %s %s\n' "$f" "$(stat -c '%s %.9Y %i' "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"
  done)
}
# The committed results of the checkout itself: a run given --results must not write them either.
source_snapshot() {
  (cd "$source/results" && find . -type f ! -path './run/*' | LC_ALL=C sort | while read -r f; do
    printf '%s %s\n' "$f" "$(stat -c '%s %.9Y %i' "$f")"
  done)
}
snapshot "$dir/results" > "$dir/before"
source_snapshot > "$dir/source-before"

# One live test (also in the simulator), one the simulator alone has, one of the POSIX suite.
filter='StillActive.WhileRunning:SimOnly.DriverHoldsTheDyingThreadHostage:PosixExit.ExitRunsAtexitFunctionsInReverseOrder'
"$runner" conform --keep-wine --build "$dir/build" --results "$dir/results" \
  --expectations "$source/results/expectations" --filter "$filter" > "$dir/out" 2> "$dir/err"
rc=$?
[ "$rc" = 0 ] || fail "conform --filter exited $rc, expected 0"

snapshot "$dir/results" > "$dir/after"
cmp -s "$dir/before" "$dir/after" ||
  fail "a filtered conform changed the results folder:
$(diff "$dir/before" "$dir/after")"
source_snapshot > "$dir/source-after"
cmp -s "$dir/source-before" "$dir/source-after" ||
  fail "a filtered conform given --results changed $source/results:
$(diff "$dir/source-before" "$dir/source-after")"

# What it wrote instead: each in the run folder, each named in its output.
run_dir="$dir/build/results"
for pattern in 'wine-*.partial.json' 'sim.partial.json' 'linux-*.partial.json' 'report.html' 'MATRIX.md'; do
  found=$(find "$run_dir" -maxdepth 1 -name "$pattern" | head -n 1)
  [ -n "$found" ] || fail "no $pattern in the run folder $run_dir"
  grep -qF "$found" "$dir/out" || fail "the output does not name $found"
done
# The simulator ran the filter: the live test and the simulator's own test, nothing else.
grep -qF "simulator: 2 tests (1 simulator-only), 0 failing" "$dir/out" ||
  fail "the simulator's line does not say 'simulator: 2 tests (1 simulator-only), 0 failing'"
grep -q "^ *\"name\": \"StillActive.WhileRunning\"" "$run_dir/sim.partial.json" ||
  fail "sim.partial.json has no result of StillActive.WhileRunning"

# The control: the snapshot sees a file written again with the same bytes (the matrix of the copy,
# made from the same inputs as the copied one).
"$runner" report --results "$dir/results" --expectations "$source/results/expectations" \
  --catalog "$source/docs/claims.json" --out "$dir/results" > /dev/null 2> "$dir/err" || fail "report failed"
snapshot "$dir/results" > "$dir/control"
cmp -s "$dir/before" "$dir/control" && fail "the control: the snapshot did not see report.html and MATRIX.md written again"
echo "ok: a filtered conform left $(wc -l < "$dir/before") results files as they were and wrote its own to $run_dir"
