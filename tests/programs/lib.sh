# Sourced by the program tests (tests/programs/*.sh): how they fail and how they expect an error.

fail() { echo "FAILED: $*" >&2; exit 1; }

# expect_error PATTERN COMMAND...: COMMAND must exit with an error status (non-zero, and not killed
# by a signal: a crash is no clear error) and print PATTERN, as a fixed string or a grep regex.
expect_error() {
  local pat=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  ((rc != 0 && rc < 128)) || fail "expected an error exit (got $rc): $*"
  grep -qF -- "$pat" <<<"$out" || grep -q -- "$pat" <<<"$out" 2>/dev/null ||
    fail "message for '$*' lacks '$pat': $out"
}
