# promlib.sh - a real Prometheus with backfilled data, for the end-to-end
# tests of the Prometheus collector. Source it, then:
#
#   prom_start DATA_OM WORKDIR    backfill DATA_OM (OpenMetrics, e.g. from
#                                 tests/e2e/promgen.py) into WORKDIR/tsdb and
#                                 start Prometheus on a free 127.0.0.1 port;
#                                 sets PROM_URL and PROM_PID. DATA_OM may also
#                                 be a directory: every *.om in it, in turn.
#   prom_backfill DATA_OM TSDB    only the backfill (call it once per part of
#                                 a data set too big for one file)
#   prom_serve TSDB WORKDIR       only the start, on an existing TSDB
#   prom_stop                     stop the Prometheus prom_start started
#
# Prometheus runs with a config without scrape jobs, retention 100y (it counts
# from the newest block: queries must pass time=, the data is not "now"), and
# logs to WORKDIR/prometheus.log. PROM_EXTRA_ARGS adds flags (for example
# --query.max-samples=20000000). promtool's default 2h blocks re-read the whole
# file once per block; --max-block-duration=87600h makes the block range the
# largest promtool has (39366h), so 14 days take one pass (504h rounds down
# to 486h ranges, and a boundary falls inside the demo window: two passes).

prom_need() {
	local t
	for t in prometheus promtool; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "promlib: $t is missing: install it with 'make deps' (Debian package prometheus)" >&2
			return 1
		fi
	done
}

prom_backfill() { # prom_backfill DATA_OM TSDB
	local om=$1 db=$2 f files=()
	prom_need || return 1
	if [ -d "$om" ]; then
		for f in "$om"/*.om; do [ -e "$f" ] && files+=("$f"); done
		[ ${#files[@]} -gt 0 ] || { echo "promlib: no *.om file in $om" >&2; return 1; }
	else
		[ -r "$om" ] || { echo "promlib: cannot read $om" >&2; return 1; }
		files=("$om")
	fi
	mkdir -p "$db" || return 1
	for f in "${files[@]}"; do
		if ! promtool tsdb create-blocks-from openmetrics --max-block-duration=87600h "$f" "$db" >"$db.backfill.log" 2>&1; then
			echo "promlib: backfill of $f failed:" >&2
			tail -5 "$db.backfill.log" >&2
			return 1
		fi
	done
}

prom_free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

prom_serve() { # prom_serve TSDB WORKDIR
	local db=$1 work=$2 port i code
	prom_need || return 1
	mkdir -p "$work" || return 1
	cat >"$work/prometheus.yml" <<-'EOF'
	# kopilot e2e: no scrape jobs, only the backfilled blocks
	global:
	  scrape_interval: 1h
	  evaluation_interval: 1h
	scrape_configs: []
	EOF
	for i in 1 2 3 4 5; do
		port=$(prom_free_port) || return 1
		# shellcheck disable=SC2086
		prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$db" \
			--web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=100y \
			${PROM_EXTRA_ARGS:-} >"$work/prometheus.log" 2>&1 &
		PROM_PID=$!
		PROM_URL="http://127.0.0.1:$port"
		for _ in $(seq 1 600); do
			if ! kill -0 "$PROM_PID" 2>/dev/null; then
				break
			fi
			code=$(curl -s -o /dev/null -w '%{http_code}' "$PROM_URL/-/ready" 2>/dev/null)
			if [ "$code" = 200 ]; then
				export PROM_URL PROM_PID
				return 0
			fi
			sleep 0.1
		done
		if kill -0 "$PROM_PID" 2>/dev/null; then
			kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null
			echo "promlib: Prometheus did not get ready in 60 s, see $work/prometheus.log" >&2
			return 1
		fi
		wait "$PROM_PID" 2>/dev/null
		# lost the port to someone else? try another one
		grep -q "address already in use" "$work/prometheus.log" || break
	done
	echo "promlib: Prometheus did not start:" >&2
	tail -5 "$work/prometheus.log" >&2
	PROM_PID= PROM_URL=
	return 1
}

prom_start() { # prom_start DATA_OM WORKDIR
	local om=$1 work=$2
	prom_need || return 1
	mkdir -p "$work" || return 1
	rm -rf "$work/tsdb"
	prom_backfill "$om" "$work/tsdb" || return 1
	prom_serve "$work/tsdb" "$work"
}

prom_stop() {
	if [ -n "${PROM_PID:-}" ]; then
		kill "$PROM_PID" 2>/dev/null
		wait "$PROM_PID" 2>/dev/null
	fi
	PROM_PID= PROM_URL=
}
