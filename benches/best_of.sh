# Sourced by the whole-process benchmarks (matrix.sh, memory.sh).
# best_of CMD...: prints "seconds kib" (wall time, peak RSS) of the fastest of
# $RUNS runs of CMD, timed with /usr/bin/time (exit code must be 0 or 1).
best_of() {
  local best="" line
  for _ in $(seq "$RUNS"); do
    line=$(/usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1)
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
  done
  echo "$best"
}
