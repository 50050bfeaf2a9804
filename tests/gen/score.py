#!/usr/bin/python3
"""
score.py - scores one kopilot run against a gencluster.py snapshot.

    /usr/bin/python3 tests/gen/score.py --snapshot DIR --run RUN [--label SEED]

Reads DIR/expected.json, DIR/objects/*.json, DIR/usage.json and
RUN/findings.json. Prints one row per category (expected, reported, true
positives, precision, recall; a category passes only with precision and
recall both 1.0, an empty category passes when nothing is reported), the
misses and false positives by name (with the near-miss story when a false
positive is a planted near miss), then the safety invariants:
  memory      recommended memory_request_bytes >= the finding's
              memory_max_bytes evidence and >= the peak in usage.json
              (max over the workload's pods of memory_bytes.max)
  cpu         recommended cpu_request_millicores >= the observed median
              (max over the workload's pods of cpu_millicores.p50)
  approval    every destructive action has approval_required
  protected   every destructive action in kube-system / kube-public /
              kube-node-lease is blocked with a blocked_reason
  confidence  no usage-based finding (over-, under-provisioned, idle) with
              confidence "high" whose usage history (usage.json first_seen
              .. last_seen of the workload) is < 24h
  skipped     every object expected.json lists under "skipped" is in
              findings.json `skipped`, and not in `findings`; where the
              entry has a "reason" (a string, or a list of strings), one
              skip of that object says it (all of them)
  memory floor  for each of expected.json's "memory_floors" (a language
              runtime's heap setting: the request kopilot must not go
              below): a rightsizing finding of that container, if any,
              recommends memory_request_bytes >= min_request_bytes (the
              current request when it recommends none); with "finding"
              true, the finding must exist
  memory request  for each of expected.json's "memory_requests": the
              rightsizing finding of that container exists, recommends
              exactly memory_request_bytes (kept after an OOM kill at the
              current limit, lowered to a runtime's floor, or the usage
              target where a look-alike must change nothing), has every
              evidence metric in "evidence" (the first one's summary naming
              one of "mentions", when given) and none in "no_evidence"
  cpu request  the same for expected.json's "cpu_requests" and the
              recommended cpu_request_millicores (kept where a
              VerticalPodAutoscaler controls CPU, raised to an updateMode
              Off VPA's lowerBound, the usage target otherwise)
  managed by  for each of expected.json's "requests_owners": the
              rightsizing finding of that container exists; with a
              "managed_by" {kind, name} (the workload's controller is an
              operator's custom resource) its resource.managed_by names the
              same kind and name, its action.command is null and it has
              requests_owner evidence; with null, none of those and a
              command
  node risk   for each of expected.json's "node_risks": the node's
              underutilized-node finding exists with that risk; with
              pods_not_evictable > 0 (pods that must move but say
              safe-to-evict "false" or karpenter.sh/do-not-disrupt "true")
              its pods_not_evictable evidence has that value, with 0 it has
              none (or 0)
Last line: "score: N passed, N failed" (one check per category plus one per
invariant). Exit status 0 when nothing failed, 1 otherwise, 2 on bad input.
Python 3 standard library only.
"""

import argparse
import datetime as dt
import json
import os
import re
import sys

CATEGORIES = ["over-provisioned", "under-provisioned", "idle-workload", "zero-replica-workload", "orphaned-pvc",
              "unbound-pv", "idle-loadbalancer", "finished-job", "underutilized-node"]
PROTECTED = {"kube-system", "kube-public", "kube-node-lease"}
USAGE_BASED = {"over-provisioned", "under-provisioned", "idle-workload"}


def load(path):
	with open(path, encoding="utf-8") as f:
		return json.load(f)


def parse_ts(s):
	return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def key(category, ns, kind, name, container):
	return (category, ns or None, kind, name, container or None)


def fmt_key(k):
	cat, ns, kind, name, ct = k
	return "%s/%s/%s%s" % (ns or "-", kind, name, "[%s]" % ct if ct else "")


class Usage:
	"""Per (kind, namespace, workload): per container peak, median CPU, history; resolved like kopilot:
	live pod -> its controller; gone pod -> the entry's owner; ReplicaSet -> Deployment; Job -> CronJob
	(by ownerReference, or by the <cronjob>-<minutes> name of a pruned Job)."""

	def __init__(self, snap):
		objs = {}
		for res in ("pods", "replicasets", "jobs", "cronjobs"):
			p = os.path.join(snap, "objects", res + ".json")
			objs[res] = load(p)["items"] if os.path.exists(p) else []

		def ctl(o):
			for r in o["metadata"].get("ownerReferences") or []:
				if r.get("controller", True):
					return r["kind"], r["name"]
			return None

		self.pod_owner = {(p["metadata"].get("namespace"), p["metadata"]["name"]): ctl(p) for p in objs["pods"]}
		self.rs_owner = {(o["metadata"]["namespace"], o["metadata"]["name"]): ctl(o) for o in objs["replicasets"]}
		self.job_owner = {(o["metadata"]["namespace"], o["metadata"]["name"]): ctl(o) for o in objs["jobs"]}
		self.cronjobs = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objs["cronjobs"]}
		self.by_wl = {}
		up = os.path.join(snap, "usage.json")
		if os.path.exists(up):
			for e in load(up).get("containers", []):
				ns = e["namespace"]
				own = self.pod_owner.get((ns, e["pod"])) if (ns, e["pod"]) in self.pod_owner else (
					(e["owner"]["kind"], e["owner"]["name"]) if e.get("owner") else None)
				wl = self.resolve(ns, own)
				if wl is None:
					continue
				d = self.by_wl.setdefault(wl, {}).setdefault(e["container"], {
					"mem_max": 0, "cpu_p50": 0.0, "first": None, "last": None})
				mem = e.get("memory_bytes", {}).get("max")
				if mem is not None:
					d["mem_max"] = max(d["mem_max"], mem)
				p50 = e.get("cpu_millicores", {}).get("p50")
				if p50 is not None:
					d["cpu_p50"] = max(d["cpu_p50"], p50)
				f, l = parse_ts(e["first_seen"]), parse_ts(e["last_seen"])
				d["first"] = f if d["first"] is None else min(d["first"], f)
				d["last"] = l if d["last"] is None else max(d["last"], l)

	def resolve(self, ns, own):
		if own is None:
			return None
		kind, name = own
		if kind == "ReplicaSet":
			o = self.rs_owner.get((ns, name))
			if o and o[0] == "Deployment":
				return ("Deployment", ns, o[1])
			return ("ReplicaSet", ns, name)
		if kind == "Job":
			o = self.job_owner.get((ns, name))
			if o and o[0] == "CronJob":
				return ("CronJob", ns, o[1])
			if (ns, name) not in self.job_owner:
				m = re.fullmatch(r"(.+)-[0-9]+", name)
				if m and (ns, m.group(1)) in self.cronjobs:
					return ("CronJob", ns, m.group(1))
			return ("Job", ns, name)
		return (kind, ns, name)

	def stats(self, kind, ns, name, container):
		cs = self.by_wl.get((kind, ns, name), {})
		if container is not None:
			cs = {container: cs[container]} if container in cs else {}
		if not cs:
			return None
		firsts = [v["first"] for v in cs.values()]
		lasts = [v["last"] for v in cs.values()]
		return {"mem_max": max(v["mem_max"] for v in cs.values()),
		        "cpu_p50": max(v["cpu_p50"] for v in cs.values()),
		        "history_h": (max(lasts) - min(firsts)).total_seconds() / 3600.0}


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--snapshot", required=True)
	ap.add_argument("--run", required=True)
	ap.add_argument("--label", default="")
	a = ap.parse_args()
	try:
		exp = load(os.path.join(a.snapshot, "expected.json"))
		got = load(os.path.join(a.run, "findings.json"))
		usage = Usage(a.snapshot)
	except (OSError, ValueError, KeyError) as e:
		print("score: cannot read inputs: %s" % e, file=sys.stderr)
		return 2
	label = a.label
	passed = failed = 0
	fails = []

	def result(name, ok, detail=""):
		nonlocal passed, failed
		if ok:
			passed += 1
		else:
			failed += 1
			fails.append(name)
		return "ok" if ok else "FAIL"

	expected = {key(e["category"], e["namespace"], e["kind"], e["name"], e["container"]) for e in exp["findings"]}
	near = {}
	for n in exp.get("not_flagged", []):
		near.setdefault((n["namespace"] or None, n["kind"], n["name"]), []).append(n)
	findings = got.get("findings", [])
	reported = {}
	for f in findings:
		r = f["resource"]
		reported[key(f["category"], r.get("namespace"), r["kind"], r["name"], f.get("container"))] = f

	print("%-6s %-24s %8s %8s %5s %9s %7s  %s" % ("seed", "category", "expected", "reported", "tp", "precision",
	                                            "recall", "result"))
	details = []
	for cat in CATEGORIES:
		e = {k for k in expected if k[0] == cat}
		g = {k for k in reported if k[0] == cat}
		tp = len(e & g)
		prec = tp / len(g) if g else 1.0
		rec = tp / len(e) if e else 1.0
		st = result("%s %s" % (label, cat), prec == 1.0 and rec == 1.0)
		print("%-6s %-24s %8d %8d %5d %9.3f %7.3f  %s" % (label, cat, len(e), len(g), tp, prec, rec, st))
		for k in sorted(e - g, key=str):
			details.append("  missed   %-22s %s" % (cat, fmt_key(k)))
		for k in sorted(g - e, key=str):
			why = [n["why"] for n in near.get(k[1:4], []) if n["category"] == cat and n.get("container") in (None, k[4])]
			f = reported[k]
			ev = "; ".join(x.get("summary", "") for x in f.get("evidence", [])[:2])
			details.append("  extra    %-22s %s%s\n           evidence: %s" % (
				cat, fmt_key(k), "  (planted near miss: %s)" % why[0] if why else "", ev[:300]))
	for d in details:
		print(d)

	# ---- invariants
	inv = {n: [] for n in ("memory", "cpu", "approval", "protected", "confidence", "skipped", "memory floor",
	                       "memory request", "cpu request", "managed by", "node risk")}
	for f in findings:
		r = f["resource"]
		ns, kind, name, ct = r.get("namespace"), r["kind"], r["name"], f.get("container")
		where = "%s %s/%s/%s%s" % (f["category"], ns or "-", kind, name, "[%s]" % ct if ct else "")
		rec = f.get("recommended") or {}
		st = usage.stats(kind, ns, name, ct)
		mem = rec.get("memory_request_bytes")
		if mem is not None:
			ev = [x.get("value") for x in f.get("evidence", []) if x.get("metric") == "memory_max_bytes"]
			if not ev and f["category"] in ("over-provisioned", "under-provisioned"):
				inv["memory"].append("%s: no memory_max_bytes evidence" % where)
			for v in ev:
				if v is None or mem < v:
					inv["memory"].append("%s: recommends %s bytes < evidence peak %s" % (where, mem, v))
			if st and mem < st["mem_max"]:
				inv["memory"].append("%s: recommends %d bytes < usage.json peak %d" % (where, mem, st["mem_max"]))
		cpu = rec.get("cpu_request_millicores")
		if cpu is not None and st and cpu < st["cpu_p50"]:
			inv["cpu"].append("%s: recommends %sm < observed p50 %.1fm" % (where, cpu, st["cpu_p50"]))
		act = f.get("action") or {}
		if act.get("destructive"):
			if not act.get("approval_required"):
				inv["approval"].append("%s: destructive action without approval_required" % where)
			if ns in PROTECTED and not (act.get("blocked") and act.get("blocked_reason")):
				inv["protected"].append("%s: destructive action in %s not blocked with a reason" % (where, ns))
		if f.get("confidence") == "high" and f["category"] in USAGE_BASED:
			if st is None:
				inv["confidence"].append("%s: high confidence but no usage history in usage.json" % where)
			elif st["history_h"] < 24.0:
				inv["confidence"].append("%s: high confidence on %.1fh of history" % (where, st["history_h"]))
	skipped = {}
	for s in got.get("skipped", []):
		skipped.setdefault((s["resource"].get("namespace") or None, s["resource"]["kind"], s["resource"]["name"]),
		                   []).append(s.get("reason") or "")
	flagged = {k[1:4] for k in reported}
	for s in exp.get("skipped", []):
		k = (s["namespace"] or None, s["kind"], s["name"])
		if k not in skipped:
			inv["skipped"].append("%s/%s/%s (%s): not listed under skipped" % (k[0] or "-", k[1], k[2], s["why"]))
		elif s.get("reason"):
			want = [s["reason"]] if isinstance(s["reason"], str) else s["reason"]
			if not any(all(w in r for w in want) for r in skipped[k]):
				inv["skipped"].append("%s/%s/%s (%s): skipped, but no reason says %s: %s" % (
					k[0] or "-", k[1], k[2], s["why"], " and ".join('"%s"' % w for w in want),
					" | ".join(skipped[k])[:300]))
		if k in flagged:
			inv["skipped"].append("%s/%s/%s (%s): reported as a finding" % (k[0] or "-", k[1], k[2], s["why"]))

	# the planted sizing cases: OOM kills in the pods' status, language runtimes' heap settings,
	# VerticalPodAutoscalers, operators that own the requests
	sizing = {}
	for f in findings:
		if f["category"] in ("over-provisioned", "under-provisioned"):
			r = f["resource"]
			sizing[(r.get("namespace") or None, r["kind"], r["name"], f.get("container") or None)] = f

	def rec_value(f, field):
		v = (f.get("recommended") or {}).get(field)
		return v if v is not None else (f.get("current") or {}).get(field)

	def rec_memory(f):
		return rec_value(f, "memory_request_bytes")

	def mib(v):
		return "%.1fMi" % (v / 2**20) if isinstance(v, (int, float)) else str(v)

	for e in exp.get("memory_floors", []):
		k = (e["namespace"] or None, e["kind"], e["name"], e["container"] or None)
		where = "%s/%s/%s[%s] (%s)" % (k[0] or "-", k[1], k[2], k[3], e["why"])
		f = sizing.get(k)
		if f is None:
			if e.get("finding"):
				inv["memory floor"].append("%s: no rightsizing finding" % where)
			continue
		m = rec_memory(f)
		if m is None or m < e["min_request_bytes"]:
			inv["memory floor"].append("%s: %s recommends memory %s < floor %s" % (
				where, f["category"], mib(m), mib(e["min_request_bytes"])))
	def check_request(e, check, field, what, fmt):
		"""A planted finding's exact recommended request and its evidence."""
		k = (e["namespace"] or None, e["kind"], e["name"], e["container"] or None)
		where = "%s/%s/%s[%s] (%s)" % (k[0] or "-", k[1], k[2], k[3], e["why"])
		f = sizing.get(k)
		if f is None:
			inv[check].append("%s: no rightsizing finding" % where)
			return
		m = rec_value(f, field)
		if m != e[field]:
			inv[check].append("%s: recommends %s %s, expected %s (current %s)" % (
				where, what, fmt(m), fmt(e[field]), fmt((f.get("current") or {}).get(field))))
		ev = {}
		for x in f.get("evidence", []):
			ev.setdefault(x.get("metric"), x)
		for metric in e.get("evidence", []):
			if metric not in ev:
				inv[check].append("%s: no %s evidence (has: %s)" % (where, metric, ", ".join(str(m) for m in ev)))
		for metric in e.get("no_evidence", []):
			if metric in ev:
				inv[check].append("%s: has %s evidence: %s" % (where, metric, ev[metric].get("summary", "")[:200]))
		if e.get("mentions") and e.get("evidence") and e["evidence"][0] in ev:
			summary = ev[e["evidence"][0]].get("summary") or ""
			if not any(n in summary for n in e["mentions"]):
				inv[check].append("%s: %s evidence names none of %s: %s" % (
					where, e["evidence"][0], "/".join(e["mentions"]), summary[:200]))

	def milli(v):
		return "%sm" % v if isinstance(v, (int, float)) else str(v)

	for e in exp.get("memory_requests", []):
		check_request(e, "memory request", "memory_request_bytes", "memory", mib)
	for e in exp.get("cpu_requests", []):
		check_request(e, "cpu request", "cpu_request_millicores", "CPU", milli)

	# workloads whose controller is an operator's custom resource: the finding names it, proposes no command
	for e in exp.get("requests_owners", []):
		k = (e["namespace"] or None, e["kind"], e["name"], e["container"] or None)
		where = "%s/%s/%s[%s] (%s)" % (k[0] or "-", k[1], k[2], k[3], e["why"])
		f = sizing.get(k)
		if f is None:
			inv["managed by"].append("%s: no rightsizing finding" % where)
			continue
		got = f["resource"].get("managed_by")
		cmd = (f.get("action") or {}).get("command")
		has_ev = any(x.get("metric") == "requests_owner" for x in f.get("evidence", []))
		want = e.get("managed_by")
		if want:
			if not isinstance(got, dict) or (got.get("kind"), got.get("name")) != (want["kind"], want["name"]):
				inv["managed by"].append("%s: resource.managed_by is %s, expected %s" % (
					where, json.dumps(got), json.dumps(want)))
			if cmd is not None:
				inv["managed by"].append("%s: has a command: %s" % (where, str(cmd)[:200]))
			if not has_ev:
				inv["managed by"].append("%s: no requests_owner evidence" % where)
		else:
			if got is not None:
				inv["managed by"].append("%s: resource.managed_by is %s, expected none" % (where, json.dumps(got)))
			if not cmd:
				inv["managed by"].append("%s: no command" % where)
			if has_ev:
				inv["managed by"].append("%s: has requests_owner evidence" % where)

	# underutilized nodes: pods that may not be evicted make the drain critical
	nodes = {f["resource"]["name"]: f for f in findings if f["category"] == "underutilized-node"}
	for e in exp.get("node_risks", []):
		where = "-/Node/%s (%s)" % (e["name"], e["why"])
		f = nodes.get(e["name"])
		if f is None:
			inv["node risk"].append("%s: no underutilized-node finding" % where)
			continue
		if str(f.get("risk", "")).upper() != e["risk"].upper():
			inv["node risk"].append("%s: risk %s, expected %s" % (where, f.get("risk"), e["risk"]))
		ev = [x for x in f.get("evidence", []) if x.get("metric") == "pods_not_evictable"]
		n = e["pods_not_evictable"]
		if n and (not ev or ev[0].get("value") != n):
			inv["node risk"].append("%s: pods_not_evictable evidence %s, expected %d" % (
				where, ev[0].get("value") if ev else "missing", n))
		if not n and ev and ev[0].get("value"):
			inv["node risk"].append("%s: pods_not_evictable evidence %s, expected none" % (where, ev[0].get("value")))
	for n, errs in inv.items():
		st = result("%s invariant %s" % (label, n), not errs)
		print("%-6s %-24s %-37s  %s" % (label, "invariant " + n, "%d violation%s" % (len(errs), "" if len(errs) == 1
		                                                                             else "s"), st))
		for e in errs[:20]:
			print("  " + e)
		if len(errs) > 20:
			print("  ... %d more" % (len(errs) - 20))
	print("score: %d passed, %d failed" % (passed, failed))
	return 0 if failed == 0 else 1


if __name__ == "__main__":
	sys.exit(main())
