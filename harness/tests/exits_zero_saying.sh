#!/bin/sh
# exits_zero_saying.sh TEXT COMMAND [ARG...]: runs COMMAND and passes only if it exits 0 and its
# standard output contains TEXT (ctest's PASS_REGULAR_EXPRESSION alone ignores the exit status).
text="$1"
shift
out=$("$@")
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 0 ]; then
  echo "exits_zero_saying: $1 exited with status $status" >&2
  exit 1
fi
case "$out" in
  *"$text"*) exit 0 ;;
esac
echo "exits_zero_saying: the output does not say '$text'" >&2
exit 1
