#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [HARNESS...] - build the libFuzzer harnesses and
# run each for SECONDS (default 60), failing if any finds a crash, a leak,
# undefined behaviour, a timeout or runs out of memory.
#
#   tests/fuzz/run.sh              all seven harnesses, 60 s each
#   tests/fuzz/run.sh 300 mustache one harness, 5 minutes
#   FUZZ_BUILD_ONLY=1 tests/fuzz/run.sh   just build (and replay regressions)
#
# Harnesses are built with clang -fsanitize=fuzzer,address,undefined against
# the library sources themselves (not build/libkp.a, which has no coverage
# instrumentation). Everything goes to build/fuzz/: binaries, the companion
# snapshot and seeds (made by make_corpus.py from examples/demo-cluster), the
# growing corpora and any crash artifacts. Inputs that once crashed are kept
# in tests/fuzz/regressions/<harness>/ and are replayed before fuzzing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECS=${1:-60}
shift || true
ALL=(snapshot model redact quantity mustache config yamledit)
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=("${ALL[@]}")

OUT=build/fuzz
CC=${FUZZ_CC:-clang}
PKGS="json-c yaml-0.1 xlsxwriter libcmark-gfm libcurl libgit2"
# UB checks are recoverable only so that tests/fuzz/ubsan.supp can silence
# known, reported issues; halt_on_error below still stops at the first other.
SAN="-fsanitize=address,undefined -fsanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -g -Wall -Wextra -Wshadow -I. $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lcmark-gfm-extensions -lm"
mkdir -p "$OUT/obj"

if ! echo 'int main(void){return 0;}' | $CC -x c -fsanitize=fuzzer-no-link -c -o /dev/null - 2>/dev/null; then
	echo "fuzz: $CC cannot build with -fsanitize=fuzzer (apt-get install clang)" >&2
	exit 2
fi

/usr/bin/python3 tests/fuzz/make_corpus.py "$OUT"

# The built-in report template, generated as the Makefile does.
{ echo '/* generated from templates/report.md.mustache by tests/fuzz/run.sh */'
  echo 'static const unsigned char tmpl[] = {'; xxd -i < templates/report.md.mustache; echo ', 0x00 };'
  echo 'const char *kp_template_builtin(void) { return (const char *)tmpl; }'
  echo 'static const unsigned char pr_tmpl[] = {'; xxd -i < templates/pr-body.md.mustache; echo ', 0x00 };'
  echo 'const char *kp_template_pr_body(void) { return (const char *)pr_tmpl; }'; } > "$OUT/templates.c"

# Library objects, instrumented for coverage (fuzzer-no-link) and sanitizers.
OBJS=()
for src in $(ls pipeline/*.c stages/*/*.c stages/*/*/*.c 2>/dev/null | grep -v '^pipeline/main\.c$') "$OUT/templates.c"; do
	obj="$OUT/obj/$(echo "${src%.c}" | tr / _).o"
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find pipeline stages -name '*.h' -newer "$obj" | head -1)" ]; then
		$CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -Wno-missing-prototypes -c "$src" -o "$obj"
	fi
	OBJS+=("$obj")
done

for h in "${HARNESSES[@]}"; do
	$CC $CFLAGS -Werror $SAN -fsanitize=fuzzer -DKP_FUZZ_COMPANION="\"$ROOT/$OUT/companion\"" \
		-o "$OUT/fuzz_$h" "tests/fuzz/fuzz_$h.c" "${OBJS[@]}" $LIBS
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/tests/fuzz/ubsan.supp}
export TMPDIR=${TMPDIR:-/tmp}

max_len() {
	case "$1" in
	snapshot | model | redact) echo 65536 ;;
	quantity) echo 128 ;;
	mustache) echo 16384 ;;
	config) echo 8192 ;;
	yamledit) echo 16384 ;;
	esac
}

failed=()
for h in "${HARNESSES[@]}"; do
	bin="$OUT/fuzz_$h"
	reg="tests/fuzz/regressions/$h"
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
		echo "== fuzz_$h: replaying $reg"
		"$bin" -timeout=20 "$reg"/* >"$OUT/replay_$h.log" 2>&1 || { echo "fuzz_$h: a regression input fails again, see $OUT/replay_$h.log"; failed+=("$h"); continue; }
	fi
	[ -z "${FUZZ_BUILD_ONLY:-}" ] || continue
	corpus="$OUT/corpus-live/$h"
	art="$OUT/artifacts/$h/"
	mkdir -p "$corpus" "$art"
	echo "== fuzz_$h: ${SECS}s"
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a blow-up.
	dict=()
	case "$h" in model | redact) dict=(-dict=tests/fuzz/kubernetes.dict) ;; esac
	if ! "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$h")" ${dict[@]+"${dict[@]}"} \
		-print_final_stats=1 -artifact_prefix="$art" "$corpus" "$OUT/corpus/$h" >"$OUT/fuzz_$h.log" 2>&1; then
		echo "fuzz_$h: FAILED, see $OUT/fuzz_$h.log and $art"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$OUT/fuzz_$h.log" | head -5 || true
		failed+=("$h")
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz_$h.log")
	grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done' "$OUT/fuzz_$h.log" | tr '\n' ' '
	if [ -n "$runs" ]; then echo "(about $((runs * 60 / SECS)) runs a minute)"; else echo; fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failures in: ${failed[*]}"
	exit 1
fi
echo "fuzz: ${#HARNESSES[@]} harness(es) clean"
