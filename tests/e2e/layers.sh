#!/usr/bin/env bash
# layers.sh - the layers point one way (DESIGN.md): the core in pipeline/
# (everything but the command layer: cmd_*.c, cmd.h, main.c, log.*) includes
# no stage and no command header; a stage includes the core, itself and
# earlier stages (collect < analyze < recommend < render), never a later
# stage. Checked on the #include lines, so a new file is covered as it lands.
set -u
cd "$(dirname "$0")/../.."
pass=0
fail=0
order=(collect analyze recommend render)
rank() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && echo "$i" && return; done; echo 99; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
for f in pipeline/*.c pipeline/*.h; do
	case "$(basename "$f")" in cmd*.c | cmd*.h | main.c | log.c | log.h) continue ;; esac
	while IFS= read -r inc; do
		case "$inc" in
		stages/* | pipeline/cmd.h | pipeline/log.h) bad "$f: the core includes $inc" ;;
		esac
	done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$f")
done
for f in $(find stages -name '*.[ch]'); do
	own=$(echo "$f" | cut -d/ -f2)
	while IFS= read -r inc; do
		case "$inc" in
		pipeline/cmd.h | pipeline/log.h) bad "$f: a stage includes the command layer ($inc)" ;;
		stages/*)
			other=$(echo "$inc" | cut -d/ -f2)
			[ "$(rank "$other")" -le "$(rank "$own")" ] || bad "$f: stage $own includes a later stage's $inc"
			;;
		esac
	done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$f")
done
# Stage code never prints or exits: that is the command layer's job.
while IFS= read -r hit; do bad "stage code prints or exits: $hit"; done \
	< <(grep -nE '\b(printf|fprintf|puts|fputs|exit|abort)\(' $(find stages -name '*.c') | grep -v 'snprintf\|vsnprintf')
[ $fail -eq 0 ] && pass=1 && echo "ok - layers point one way; stages never print or exit"
echo "layers: $pass passed, $fail failed"
[ $fail -eq 0 ]
