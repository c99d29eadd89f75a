# shellcheck shell=bash
# scripts/lib/steps.sh - named steps and their PASS/FAIL/SKIP summary, sourced by scripts/test,
# scripts/test-reliability and scripts/test-shipping.
#
#   steps_begin DIR          logs go to DIR/NN.log (DIR is emptied)
#   step NAME COMMAND...     runs COMMAND, output shown live and kept; a step that prints a line starting
#                            "SKIPPED:" and exits 0 counts as skipped
#   steps_summary [TITLE]    prints, for every failed step, the lines of its output that say why (failing
#                            test names, sanitizer / valgrind / libFuzzer verdicts, ctest timeouts), then one
#                            line per step; returns 1 when a step failed
#
# The "why" block comes right before the summary on purpose: CI keeps only the tail of a run's output,
# and a bare "FAIL  tsan: pytest" there cannot be acted on.

steps_dir=
steps_n=0
steps_failed=0
steps_passed=0
steps_skipped=0
steps_t0=$SECONDS
declare -a steps_results=() steps_failures=()

steps_begin() {   # steps_begin DIR
  steps_dir=$1
  rm -rf "$steps_dir"
  mkdir -p "$steps_dir"
  steps_t0=$SECONDS
}

step() {   # step NAME COMMAND...
  local name=$1; shift
  local t0=$SECONDS rc log
  steps_n=$((steps_n + 1))
  log=$(printf '%s/%02d.log' "${steps_dir:?steps_begin first}" "$steps_n")
  echo
  echo "==== $name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  local took="($((SECONDS - t0)) s)"
  if ((rc != 0)); then
    steps_results+=("FAIL  $name $took (exit $rc)")
    steps_failures+=("$name|$log")
    steps_failed=$((steps_failed + 1))
  elif grep -q '^SKIPPED:' "$log"; then
    steps_results+=("SKIP  $name ($(grep -m1 '^SKIPPED:' "$log"))")
    steps_skipped=$((steps_skipped + 1))
  else
    steps_results+=("PASS  $name $took")
    steps_passed=$((steps_passed + 1))
  fi
  return 0
}

# The lines of a log that say why a step failed: pytest's short summary, cmocka's and ctest's failed
# test lists, sanitizer SUMMARY lines, UBSan runtime errors, valgrind error counts, libFuzzer crashes,
# this file's own FAIL lines of nested runs. Deduplicated (a nested run's "why" block repeats
# its own lines, indented); at most 14; the log's last lines when nothing matched.
steps_why() {   # steps_why LOG
  local why
  why=$(grep -E \
      -e '^ *(FAILED|ERROR) ' \
      -e 'SUMMARY: [A-Za-z]*Sanitizer' \
      -e 'runtime error:' \
      -e '\[  FAILED  \] test_' \
      -e '^ *[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception|Not Run|ILLEGAL|BUS|OTHER_FAULT)\)' \
      -e 'ERROR SUMMARY: [1-9]' \
      -e 'definitely lost: [1-9]' \
      -e 'ERROR: libFuzzer|deadly signal' \
      -e '^ *FAIL:? ' \
      "$1" | awk '{l = $0; sub(/^ +/, "", l); if (!seen[l]++) print l}' | tail -n 14)
  if [[ -n "$why" ]]; then printf '%s\n' "$why"; else tail -n 8 "$1"; fi
}

steps_summary() {   # steps_summary [TITLE]
  local f
  if ((${#steps_failures[@]})); then
    echo
    echo "==== why"
    for f in "${steps_failures[@]}"; do
      echo "${f%%|*} (${f#*|}):"
      steps_why "${f#*|}" | cut -c1-240 | sed 's/^/  /'
    done
  fi
  echo
  echo "==== ${1:-summary} ($((SECONDS - steps_t0)) s)"
  printf '%s\n' "${steps_results[@]}"
  ((steps_failed == 0))
}
