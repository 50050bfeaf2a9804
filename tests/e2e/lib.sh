# lib.sh - what the end-to-end scripts share: counting, checks, finding the
# tools they need. Source it after setting SUITE (the name the messages and
# the summary line use) and PY.
#
#   SUITE=e2e; PY=/usr/bin/python3; . tests/e2e/lib.sh
#   check NAME COMMAND...          ok when COMMAND succeeds, else its output
#   expect_exit NAME CODE PATTERN -- COMMAND...
#                                  exit code and a stderr pattern
#   need COMMAND PACKAGE           fail at once, saying what to install
#   schema_valid SCHEMA JSON       JSON Schema 2020-12, first errors printed
#   finish                         "SUITE: N passed, N failed" and the status
#   fakes_tempdir NAME             T=/tmp/kopilot-NAME.XXXXXX, and on exit the
#                                  fakes in PIDS (each its own process group,
#                                  setsid) stopped and T removed
#   npm_ready DIR                  npm ci in DIR when its package-lock.json is
#                                  newer than node_modules (the pinned clients)

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/#   /' | head -20; }
# ok_or_degraded COMMAND...: exit 0 or 3 (the demo is degraded by design)
ok_or_degraded() { "$@"; local rc=$?; [ $rc -eq 0 ] || [ $rc -eq 3 ]; }
check() { # check NAME COMMAND...
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
expect_exit() { # expect_exit NAME CODE PATTERN -- COMMAND...
	local name=$1 code=$2 pattern=$3; shift 4
	local err rc
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -ne "$code" ]; then not_ok "$name (exit $rc, expected $code)" "$err"; return; fi
	if ! grep -qE -- "$pattern" <<<"$err"; then not_ok "$name (message does not match /$pattern/)" "$err"; return; fi
	ok "$name"
}
# A missing tool fails the suite with what to install: never a skip.
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || { echo "$SUITE: $1 is missing: install it with 'make deps' (Debian package $2)" >&2; exit 1; }
}
schema_valid() { # schema_valid SCHEMA JSON
	$PY - "$1" "$2" <<'PYEOF'
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:10]:
    print("/".join(map(str, e.path)), e.message)
sys.exit(1 if errors else 0)
PYEOF
}
fakes_tempdir() {
	T=$(mktemp -d "/tmp/kopilot-$1.XXXXXX")
	PIDS=()
	trap 'for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null; done
		for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
		rm -rf "$T"' EXIT
}
npm_ready() {
	if [ ! -f "$1/node_modules/.package-lock.json" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
		(cd "$1" && npm ci --no-audit --no-fund) >"$T/npm.log" 2>&1 ||
			{ echo "$SUITE: 'npm ci' in ${1#$ROOT/} failed (it needs the npm registry):" >&2; tail -20 "$T/npm.log" >&2; exit 1; }
	fi
}
finish() {
	echo
	echo "$SUITE: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
