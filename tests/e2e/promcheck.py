#!/usr/bin/python3
"""promcheck.py: run kopilot's usage queries against a Prometheus and compare
the answers with a kopilot.usage/v1 file.

  promcheck.py --url http://127.0.0.1:9090 --usage USAGE.json [--namespaces REGEX]
               [--original] [--rate 5m] [--show-queries]

Every query is an instant query (POST /api/v1/query) at time = the usage
window's end T, over W = end - start, with subquery step S = step_seconds.
Prints every mismatch, then the number of queries, the time each took and its
peak samples (Prometheus' query.max-samples counts these); exit 1 on any
mismatch or query error.

Tolerances: CPU percentiles and max within 0.05 millicore of the file's value
(the file has one decimal), memory exact to the byte (after rounding the float
Prometheus returns), samples, first_seen, last_seen, restarts, OOM kills and
owner exact, cpu_throttled_ratio within 0.005. A container absent from the
file must have no series; a container in the file without a throttling ratio
must have no CFS series; no OOM-kill result means 0.

The queries are the reference form of kopilot's (stages/collect/usage.c
sends cheaper equivalents: percentiles per series and then max by container,
first/last seen and OOM kills only for the pods an instant query before them
could not settle; tests/e2e/prom.sh checks that kopilot's usage.json equals
what these give), with five corrections (--original runs them as first
written, to show why):
  9  in two phases: first the pods with an OOMKilled last-terminated reason
     in the window (max_over_time over W: cheap), then query 9 for those pods
     only (pod=~"...", 200 pods a query). Over all containers it holds 3
     samples per subquery point in memory (3 x containers x W/S: 2,000
     containers of 14 days at 60 s exceed query.max-samples = 50M) and takes
     ~80 s for 900 containers (2 min timeout at 1,300);
  6  timestamp(count_over_time(MEM[S-1ms])) instead of timestamp(MEM): in
     Prometheus 2.42, timestamp() of a plain selector inside a subquery
     re-reads every series from its start at every step (quadratic: 14 days
     of 210 containers time out after 120 s; this form takes 4 s). It gives the
     evaluation time of the points where a sample lies in (t-S, t]: the
     sample's time when samples sit on the step grid, else the next step; and
     never a time before the window (the lookback of the original can return a
     sample up to 5 minutes before T-W);
  9  one more "(" so that the subquery [W:S] applies to the product (as first
     written it does not parse: "unexpected right parenthesis");
  9  subquery range W-S instead of W: its points at T-W+S .. T count the
     restarts in (T-W, T], as query 8 does (with W it also counts a restart
     in the step before the window);
  8, 9  init containers' series too: kube-state-metrics names them
     kube_pod_init_container_status_restarts_total and
     kube_pod_init_container_status_last_terminated_reason.
"""

import argparse
import datetime as dt
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

L = "namespace,pod,container"


def parse_ts(s):
	t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
	if t.tzinfo is None:
		t = t.replace(tzinfo=dt.timezone.utc)
	return int(t.timestamp())


def fmt_ts(t):
	return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def queries(nsre, W, S, R, original=False):
	sel = 'container!="",container!="POD",namespace=~"%s"' % nsre
	ksel = 'namespace=~"%s"' % nsre
	w, s = "%ds" % W, "%ds" % S
	cpu = "sum by (%s) (rate(container_cpu_usage_seconds_total{%s}[%s]))" % (L, sel, R)
	mem = "container_memory_working_set_bytes{%s}" % sel
	# first/last seen: timestamp() of the subquery's points where a sample
	# lies in (t-S, t]: the evaluation time t, exact on samples aligned to the
	# step, else rounded up to the next step
	seen = mem if original else "count_over_time(%s[%dms])" % (mem, S * 1000 - 1)
	if original:
		rs = "kube_pod_container_status_restarts_total{%s}" % ksel
		reason = 'kube_pod_container_status_last_terminated_reason{%s,reason="OOMKilled"}' % ksel
		oom = ("sum by (L) (sum_over_time((((max by (L) (RS)) - (max by (L) (RS offset S))) > 0) * on (L) "
		       "(max by (L) (REASON)))[W:S]))")
	else:
		rs = '{__name__=~"kube_pod_container_status_restarts_total|kube_pod_init_container_status_restarts_total",%s}' % ksel
		reason = ('{__name__=~"kube_pod_container_status_last_terminated_reason|kube_pod_init_container_status_last_terminated_reason",'
		          '%s,reason="OOMKilled"}' % ksel)
		oom = ("sum by (L) (sum_over_time(((((max by (L) (RS)) - (max by (L) (RS offset S))) > 0) * on (L) "
		       "(max by (L) (REASON)))[WS:S]))")
	oom = oom.replace("RS", rs).replace("REASON", reason).replace("(L)", "(%s)" % L) \
		.replace("[WS:S]", "[%ds:%s]" % (W - S, s)).replace("[W:S]", "[%s:%s]" % (w, s)).replace("offset S", "offset " + s)
	q = [
		("cpu_p50", "quantile_over_time(0.5, (%s)[%s:%s])" % (cpu, w, s)),
		("cpu_p95", "quantile_over_time(0.95, (%s)[%s:%s])" % (cpu, w, s)),
		("cpu_p99", "quantile_over_time(0.99, (%s)[%s:%s])" % (cpu, w, s)),
		("cpu_max", "max_over_time((%s)[%s:%s])" % (cpu, w, s)),
		("mem_p50", "quantile_over_time(0.5, (max by (%s) (%s))[%s:%s])" % (L, mem, w, s)),
		("mem_max", "max by (%s) (max_over_time(%s[%s]))" % (L, mem, w)),
		("samples", "sum by (%s) (count_over_time(%s[%s]))" % (L, mem, w)),
		("first_seen", "min by (%s) (min_over_time(timestamp(%s)[%s:%s]))" % (L, seen, w, s)),
		("last_seen", "max by (%s) (max_over_time(timestamp(%s)[%s:%s]))" % (L, seen, w, s)),
		("throttle", "sum by (%s) (increase(container_cpu_cfs_throttled_periods_total{%s}[%s])) / "
		             "sum by (%s) (increase(container_cpu_cfs_periods_total{%s}[%s]))" % (L, sel, w, L, sel, w)),
		("restarts", "max by (%s) (max_over_time(%s[%s]) - min_over_time(%s[%s]))" % (L, rs, w, rs, w)),
		("oom_kills", oom),
		("owner", 'max by (namespace,pod,owner_kind,owner_name) (max_over_time(kube_pod_owner{%s,owner_is_controller="true"}[%s]))'
		          % (ksel, w)),
	]
	return q


def promql_regex_literal(s):
	"""s as a regular expression matching only itself, inside a PromQL "string"."""
	out = ""
	for ch in s:
		if ch in ".+*?()|[]{}^$\\":
			out += "\\\\" + ch
		elif ch == '"':
			out += '\\"'
		else:
			out += ch
	return out


def oom_candidates(nsre, W):
	return ('max by (namespace,pod) (max_over_time({__name__=~"kube_pod_container_status_last_terminated_reason|'
	        'kube_pod_init_container_status_last_terminated_reason",namespace=~"%s",reason="OOMKilled"}[%ds]))' % (nsre, W))


def run_query(url, q, T, timeout):
	data = urllib.parse.urlencode({"query": q, "time": str(T), "stats": "all"}).encode()
	req = urllib.request.Request(url.rstrip("/") + "/api/v1/query", data=data,
	                             headers={"Content-Type": "application/x-www-form-urlencoded"})
	t0 = time.time()
	try:
		with urllib.request.urlopen(req, timeout=timeout) as r:
			body = json.load(r)
	except urllib.error.HTTPError as e:
		try:
			body = json.load(e)
		except Exception:
			body = {"status": "error", "error": "HTTP %d" % e.code}
	except (urllib.error.URLError, OSError) as e:
		body = {"status": "error", "error": str(e)}
	return body, time.time() - t0


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--url", required=True)
	ap.add_argument("--usage", required=True)
	ap.add_argument("--namespaces", default=".+", help="NSRE of the queries (a Prometheus regex, anchored)")
	ap.add_argument("--rate", default="5m", help="rate window R")
	ap.add_argument("--original", action="store_true", help="run the queries as first written (no corrections)")
	ap.add_argument("--show-queries", action="store_true")
	ap.add_argument("--timeout", type=float, default=600)
	ap.add_argument("--max-report", type=int, default=200, help="print at most this many mismatches")
	args = ap.parse_args()

	doc = json.load(open(args.usage))
	win = doc["window"]
	start, end = parse_ts(win["start"]), parse_ts(win["end"])
	S = int(win.get("step_seconds") or 60)
	W = end - start
	T = end
	nsre = re.compile(args.namespaces)
	want = {}
	for e in doc["containers"]:
		if nsre.fullmatch(e["namespace"]):
			want[(e["namespace"], e["pod"], e["container"])] = e

	res = {}
	errors = []
	timing = []
	t_all = time.time()
	todo = queries(args.namespaces, W, S, args.rate, args.original)
	while todo:
		name, q = todo.pop(0)
		if name == "oom_kills" and not args.original:
			# two phases: the containers with an OOMKilled reason in the window
			# (cheap), then the exact count for their pods only
			body, secs = run_query(args.url, oom_candidates(args.namespaces, W), T, args.timeout)
			timing.append(("oom_pods", secs, None, None))
			if body.get("status") != "success":
				errors.append("oom_pods: query failed: %s" % body.get("error"))
				continue
			pods = sorted(set(r["metric"].get("pod", "") for r in body["data"]["result"]))
			if not pods:
				res[name] = {}
				continue
			for i in range(0, len(pods), 200):
				rx = "|".join(promql_regex_literal(p) for p in pods[i:i + 200])
				todo.insert(0, ("oom_kills+", q.replace('namespace=~"%s"' % args.namespaces,
				                                          'namespace=~"%s",pod=~"%s"' % (args.namespaces, rx))))
			continue
		if args.show_queries:
			print("%s: %s" % (name, q))
		body, secs = run_query(args.url, q, T, args.timeout)
		peak = None
		if body.get("status") != "success":
			errors.append("%s: query failed: %s" % (name, body.get("error")))
			timing.append((name, secs, None, None))
			continue
		d = body["data"]
		st = d.get("stats", {}).get("samples", {})
		peak = st.get("peakSamples")
		if name.endswith("+"):          # a further part of a query
			name = name[:-1]
			out = res.setdefault(name, {})
		else:
			out = {}
		for r in d["result"]:
			m = r["metric"]
			v = float(r["value"][1])
			if name == "owner":
				out.setdefault((m.get("namespace"), m.get("pod")), []).append({"kind": m.get("owner_kind"), "name": m.get("owner_name")})
			else:
				key = (m.get("namespace"), m.get("pod"), m.get("container"))
				if key in out:
					errors.append("%s: two results for %s/%s/%s" % ((name,) + key))
				out[key] = v
		res[name] = out
		timing.append((name, secs, len(d["result"]), peak))
	elapsed = time.time() - t_all

	bad = list(errors)

	def mis(key, what):
		bad.append("%s/%s/%s: %s" % (key + (what,)))

	def get(name, key):
		return res.get(name, {}).get(key)

	if all(n in res for n in ("samples",)):
		for key in sorted(set(res["samples"]) - set(want)):
			mis(key, "has series but no entry in the usage file")
	for key, e in sorted(want.items()):
		if "samples" in e and "samples" in res:
			g = get("samples", key)
			if g is None:
				mis(key, "no series (samples: expected %d)" % e["samples"])
				continue
			if int(g) != e["samples"]:
				mis(key, "samples %d, expected %d" % (g, e["samples"]))
		cm = e.get("cpu_millicores") or {}
		for k in ("p50", "p95", "p99", "max"):
			n = "cpu_" + k
			if n not in res:
				continue
			g = get(n, key)
			if k not in cm:
				if g is not None:
					mis(key, "cpu %s %.4f, expected none" % (k, g * 1000))
				continue
			if g is None:
				mis(key, "cpu %s missing, expected %s" % (k, cm[k]))
			elif abs(g * 1000 - cm[k]) > 0.05 + 1e-6:
				mis(key, "cpu %s %.4f m, expected %s" % (k, g * 1000, cm[k]))
		mm = e.get("memory_bytes") or {}
		for k in ("p50", "max"):
			n = "mem_" + k
			if n not in res:
				continue
			g = get(n, key)
			if k not in mm:
				if g is not None:
					mis(key, "memory %s %s, expected none" % (k, g))
				continue
			if g is None:
				mis(key, "memory %s missing, expected %d" % (k, mm[k]))
			elif int(round(g)) != int(mm[k]):
				mis(key, "memory %s %d, expected %d" % (k, int(round(g)), mm[k]))
		for n in ("first_seen", "last_seen"):
			if n in e and n in res:
				g = get(n, key)
				if g is None:
					mis(key, "%s missing, expected %s" % (n, e[n]))
				elif int(round(g)) != parse_ts(e[n]):
					mis(key, "%s %s, expected %s" % (n, fmt_ts(int(round(g))), e[n]))
		if "throttle" in res:
			g = get("throttle", key)
			r = e.get("cpu_throttled_ratio")
			if r is None and g is not None:
				mis(key, "cpu_throttled_ratio %.4f, expected none (no CFS series)" % g)
			elif r is not None and g is None:
				mis(key, "cpu_throttled_ratio missing, expected %s" % r)
			elif r is not None and abs(g - r) > 0.005:
				mis(key, "cpu_throttled_ratio %.4f, expected %s" % (g, r))
		if "restarts" in res and e.get("restarts") is not None:
			g = get("restarts", key)
			if g is None:
				mis(key, "restarts missing, expected %d" % e["restarts"])
			elif int(round(g)) != e["restarts"]:
				mis(key, "restarts %d, expected %d" % (g, e["restarts"]))
		if "oom_kills" in res and e.get("oom_kills") is not None:
			g = get("oom_kills", key) or 0
			if int(round(g)) != e["oom_kills"]:
				mis(key, "oom_kills %d, expected %d" % (g, e["oom_kills"]))
		if "owner" in res:
			g = res["owner"].get(key[:2])
			o = e.get("owner")
			if o is None and g:
				mis(key, "owner %s, expected none" % g)
			elif o is not None:
				if not g:
					mis(key, "owner missing, expected %s/%s" % (o["kind"], o["name"]))
				elif len(g) > 1 or g[0] != {"kind": o["kind"], "name": o["name"]}:
					mis(key, "owner %s, expected %s/%s" % (g, o["kind"], o["name"]))

	for line in bad[:args.max_report]:
		print("MISMATCH " + line)
	if len(bad) > args.max_report:
		print("... and %d more" % (len(bad) - args.max_report))
	print("promcheck: %d queries in %.2f s (%s), %d containers, %d mismatch(es)" % (
		len(timing), elapsed, ", ".join("%s %.2fs" % (n, s) for n, s, _, _ in timing), len(want), len(bad)))
	peaks = [(n, p) for n, _, _, p in timing if p is not None]
	if peaks:
		print("promcheck: peak samples: " + ", ".join("%s %d" % (n, p) for n, p in peaks))
	sys.exit(1 if bad else 0)


if __name__ == "__main__":
	main()
