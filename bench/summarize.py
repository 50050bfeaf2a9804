#!/usr/bin/python3
"""
summarize.py - turns the raw /usr/bin/time -v reports of bench/run.sh into
bench/results/latest.json (machine readable) and latest.md (a short table),
and prints the table. Called by run.sh; standard library only.

Medians over rounds for times; the maximum over rounds for peak RSS (it
barely varies). "analyze+recommend" is summed per round, then the median of
the sums is taken; its peak RSS is the larger of the two processes'.
Ratios are kopilot / reference: 2.0 means kopilot takes twice as long (or
twice the memory) as the reference.

The headline is `kopilot run` (cold: raw snapshot to the last report) against
python3 json.load of the same files in the same rounds, with the issue's
targets (<= 0.3x python's wall time, <= 300 MB peak RSS). The scale section
holds one point per waste scale (~10x fewer and ~10x more findings), each
with its own python reference, and says whether time and peak RSS grow
linearly (or better) with the findings and the input.
"""

import argparse
import datetime as dt
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys

TARGET_PODS = 150000
TARGET_SECONDS = 2.0            # the earlier, post-cache target (secondary)
TARGET_RSS_MB = 300.0           # MB = 10^6 bytes, as the issues state it
TARGET_RUN_VS_PYTHON = 0.3      # issue 15: kopilot run <= 0.3x python json.load of the same files
TARGET_RUN_RSS_MB = 300.0       # issue 15: kopilot run <= 300 MB peak RSS
LINEAR_SLACK = 1.5              # a marginal cost up to 50% above the first interval's still counts as linear (noise)
MAX_ELASTICITY = 1.1            # the whole run: cost per finding may not rise by more than noise
FINDING_STAGES = ("analyze", "recommend", "render")  # the stages whose work grows with the findings
MIB = 2 ** 20


def parse_time_v(path):
	"""The fields of one `/usr/bin/time -v` report."""
	out = {}
	with open(path, encoding="utf-8", errors="replace") as f:
		for line in f:
			line = line.strip()
			if line.startswith("Elapsed (wall clock) time"):
				v = line.rsplit(": ", 1)[1]
				parts = [float(x) for x in v.split(":")]
				sec = 0.0
				for p in parts:
					sec = sec * 60 + p
				out["seconds"] = sec
			elif line.startswith("Maximum resident set size (kbytes)"):
				out["rss_kib"] = int(line.rsplit(": ", 1)[1])
			elif line.startswith("User time (seconds)"):
				out["user"] = float(line.rsplit(": ", 1)[1])
			elif line.startswith("System time (seconds)"):
				out["sys"] = float(line.rsplit(": ", 1)[1])
			elif line.startswith("Exit status"):
				out["exit"] = int(line.rsplit(": ", 1)[1])
	if "seconds" not in out or "rss_kib" not in out:
		raise SystemExit("summarize.py: %s is not a /usr/bin/time -v report" % path)
	return out


def rounds(work, name):
	files = glob.glob(os.path.join(work, "raw", "%s.*.time" % name))
	by_round = {}
	for p in files:
		m = re.search(r"\.(\d+)\.time$", p)
		by_round[int(m.group(1))] = parse_time_v(p)
	return [by_round[k] for k in sorted(by_round)]


def r3(x):
	return None if x is None else round(x, 3)


def mb(kib):
	return round(kib * 1024 / 1e6, 1)


def summary(rs):
	secs = [r["seconds"] for r in rs]
	return {"seconds_median": r3(statistics.median(secs)), "seconds_min": r3(min(secs)), "seconds_max": r3(max(secs)),
	        "seconds_all": [r3(s) for s in secs],
	        "user_seconds_median": r3(statistics.median(r["user"] for r in rs)),
	        "sys_seconds_median": r3(statistics.median(r["sys"] for r in rs)),
	        "cpu_seconds_median": r3(statistics.median(r["user"] + r["sys"] for r in rs)),
	        "peak_rss_mb": mb(max(r["rss_kib"] for r in rs)),
	        "exit_codes": sorted({r["exit"] for r in rs})}


def ratio(a, b):
	return round(a / b, 2) if a is not None and b else None


def sh(cmd):
	try:
		return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
	except (OSError, subprocess.SubprocessError):
		return ""


def host_info():
	cpu = ""
	try:
		with open("/proc/cpuinfo", encoding="utf-8") as f:
			for line in f:
				if line.startswith("model name"):
					cpu = line.split(":", 1)[1].strip()
					break
	except OSError:
		pass
	mem = None
	try:
		with open("/proc/meminfo", encoding="utf-8") as f:
			for line in f:
				if line.startswith("MemTotal:"):
					mem = round(int(line.split()[1]) * 1024 / 1e9, 1)
	except OSError:
		pass
	return {"cpu": cpu, "cpus": os.cpu_count(), "memory_gb": mem, "kernel": platform.release(),
	        "python": platform.python_version()}


def loadavg(work):
	"""1-minute load average when the rounds started and ended: a shared host's noise, on the record."""
	out = {}
	for k in ("start", "end"):
		p = os.path.join(work, "loadavg." + k)
		try:
			with open(p, encoding="utf-8") as f:
				out[k] = float(f.read().split()[0])
		except (OSError, ValueError, IndexError):
			out[k] = None
	return out


def run_json_stats(work, prefix):
	"""Median stage_seconds and the largest peak_rss_bytes kopilot wrote to run.json over the rounds."""
	stage, rss, counts, bg = {}, [], None, {}
	for p in sorted(glob.glob(os.path.join(work, "raw", "%s.*.run.json" % prefix))):
		if not re.search(r"\.\d+\.run\.json$", p[len(os.path.join(work, "raw", prefix)):]):
			continue
		with open(p, encoding="utf-8") as f:
			rj = json.load(f)
		for k, v in rj.get("stage_seconds", {}).items():
			stage.setdefault(k, []).append(v)
		for k, v in rj.get("background_seconds", {}).items():
			bg.setdefault(k, []).append(v)
		if "peak_rss_bytes" in rj:
			rss.append(rj["peak_rss_bytes"])
		counts = rj.get("counts", counts)
	st = {k: r3(statistics.median(v)) for k, v in stage.items()}
	# work a stage left running beside the later ones (collect's copy of
	# the snapshot): its own time, overlapping the stages after it
	bgs = {k: r3(statistics.median(v)) for k, v in bg.items()}
	return st, (round(max(rss) / 1e6, 1) if rss else None), counts, bgs


TARGET_REPORT_LOAD_SECONDS = 2.0  # issue 15: report.html rendered by headless Chromium in under 2 s


def report_load(m, work):
	"""report.html's load time in headless Chromium: the report's median minus an empty page's."""
	rep, blank = m.get("chromium-report"), m.get("chromium-blank")
	if not rep or not blank:
		return None
	path = os.path.join(work, "report.html")
	load = r3(max(0.0, rep["seconds_median"] - blank["seconds_median"]))
	return {"target": TARGET_REPORT_LOAD_SECONDS, "measured": load, "met": load < TARGET_REPORT_LOAD_SECONDS,
	        "report_seconds": rep["seconds_median"], "blank_seconds": blank["seconds_median"],
	        "bytes": os.path.getsize(path) if os.path.exists(path) else None}


def load_json(path, default=None):
	try:
		with open(path, encoding="utf-8") as f:
			return json.load(f)
	except (OSError, ValueError):
		return default


def snapshot_files(snap):
	out = {}
	od = os.path.join(snap, "objects")
	for n in sorted(os.listdir(od)):
		if n.endswith(".json"):
			out["objects/" + n] = os.path.getsize(os.path.join(od, n))
	out["usage.json"] = os.path.getsize(os.path.join(snap, "usage.json"))
	return out


def label_of(w):
	return "x" + (("%g" % w) if isinstance(w, float) else w)


def linearity(points, key_x, key_y):
	"""Marginal cost of y per unit of x between consecutive points (sorted by x), and the elasticity
	log(y2/y1)/log(x2/x1): 1 = proportional, < 1 = a fixed part dominates, > 1 = faster than linear."""
	import math
	pts = sorted((p for p in points if p.get(key_x) and p.get(key_y)), key=lambda p: p[key_x])
	out = []
	for a, b in zip(pts, pts[1:]):
		dx = b[key_x] - a[key_x]
		out.append({"from": a["label"], "to": b["label"],
		            "marginal": (b[key_y] - a[key_y]) / dx if dx else None,
		            "elasticity": round(math.log(b[key_y] / a[key_y]) / math.log(b[key_x] / a[key_x]), 2)
		            if b[key_x] != a[key_x] and a[key_y] > 0 else None})
	return out


def verdict_marginal(steps):
	"""For a cost that only the findings drive: the last interval's marginal cost per finding is at most
	LINEAR_SLACK times the first's (a convex, faster-than-linear cost fails even when a fixed part hides it)."""
	if len(steps) >= 2 and steps[0]["marginal"] is not None and steps[-1]["marginal"] is not None:
		m0, m1 = steps[0]["marginal"], steps[-1]["marginal"]
		return m1 <= max(m0, 0) * LINEAR_SLACK + 1e-12 or m1 <= 0
	return verdict_elasticity(steps)


def verdict_elasticity(steps):
	"""For the whole run, which two things drive (the input's objects and the findings): the cost per finding
	does not rise from one point to the next, beyond noise (every elasticity at most MAX_ELASTICITY)."""
	if not steps or any(s_["elasticity"] is None for s_ in steps):
		return None
	return all(s_["elasticity"] <= MAX_ELASTICITY for s_ in steps)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--work", required=True)
	ap.add_argument("--snapshot", required=True, help="the headline snapshot (waste 1)")
	ap.add_argument("--files", nargs="+", required=True, help="the files the headline's python reference read")
	ap.add_argument("--kopilot", required=True)
	ap.add_argument("--runs", type=int, required=True)
	ap.add_argument("--scale-runs", type=int, default=None)
	ap.add_argument("--points", nargs="*", default=[], help="WASTE=SNAPDIR for every point, the headline's included")
	ap.add_argument("--now", required=True)
	ap.add_argument("--json", required=True)
	ap.add_argument("--md", required=True)
	a = ap.parse_args()

	gen = load_json(os.path.join(a.snapshot, ".gen-stats.json"), {})
	pods = gen.get("pods")

	m = {}
	names = ["cat", "python-json", "python-json-nogc", "analyze", "recommend", "run", "collect", "chromium-report",
	         "chromium-blank"]
	raw = {n: rounds(a.work, n) for n in names}
	for n in names:
		if raw[n]:
			m[n] = summary(raw[n])
	ar = [x["seconds"] + y["seconds"] for x, y in zip(raw["analyze"], raw["recommend"])]
	arc = [x["user"] + x["sys"] + y["user"] + y["sys"] for x, y in zip(raw["analyze"], raw["recommend"])]
	m["analyze+recommend"] = {
		"seconds_median": r3(statistics.median(ar)), "seconds_min": r3(min(ar)), "seconds_max": r3(max(ar)),
		"seconds_all": [r3(s) for s in ar], "cpu_seconds_median": r3(statistics.median(arc)),
		"peak_rss_mb": max(m["analyze"]["peak_rss_mb"], m["recommend"]["peak_rss_mb"])}

	# kopilot run: what run.json says about itself, next to what time(1) saw
	st, rj_rss, run_counts, bgs = run_json_stats(a.work, "run")
	if st:
		m["run"]["run_json_stage_seconds_median"] = st
		m["run"]["run_json_peak_rss_mb"] = rj_rss
		m["run"]["run_json_background_seconds_median"] = bgs
		m["run"]["seconds_outside_stage_seconds"] = r3(m["run"]["seconds_median"] - sum(st.values()))

	py, pyn, cat = m["python-json"], m["python-json-nogc"], m["cat"]
	ar_s, ar_rss = m["analyze+recommend"]["seconds_median"], m["analyze+recommend"]["peak_rss_mb"]
	run_s, run_rss = m["run"]["seconds_median"], m["run"]["peak_rss_mb"]
	ratios = {
		"run / python-json": {"time": ratio(run_s, py["seconds_median"]), "peak_rss": ratio(run_rss, py["peak_rss_mb"])},
		"run / python-json-nogc": {"time": ratio(run_s, pyn["seconds_median"]),
		                           "peak_rss": ratio(run_rss, pyn["peak_rss_mb"])},
		"analyze+recommend / python-json": {"time": ratio(ar_s, py["seconds_median"]),
		                                    "peak_rss": ratio(ar_rss, py["peak_rss_mb"])},
		"analyze+recommend / python-json-nogc": {"time": ratio(ar_s, pyn["seconds_median"]),
		                                         "peak_rss": ratio(ar_rss, pyn["peak_rss_mb"])},
		"analyze+recommend / cat": {"time": ratio(ar_s, cat["seconds_median"])},
	}
	for n in ("analyze", "recommend", "run"):
		m[n]["ratio_time_vs_python_json"] = ratio(m[n]["seconds_median"], py["seconds_median"])
		m[n]["ratio_rss_vs_python_json"] = ratio(m[n]["peak_rss_mb"], py["peak_rss_mb"])

	applies = pods == TARGET_PODS
	run_ratio = ratios["run / python-json"]["time"]
	targets = {
		"pods": TARGET_PODS, "applies": applies,
		"run_vs_python_json_time": {"target": TARGET_RUN_VS_PYTHON, "measured": run_ratio,
		                            "met": run_ratio is not None and run_ratio <= TARGET_RUN_VS_PYTHON},
		"run_peak_rss_mb": {"target": TARGET_RUN_RSS_MB, "measured": run_rss, "met": run_rss <= TARGET_RUN_RSS_MB},
		"report_html_chromium_seconds": report_load(m, a.work),
		"secondary": {
			"analyze+recommend_seconds": {"target": TARGET_SECONDS, "measured": ar_s, "met": ar_s < TARGET_SECONDS},
			"analyze+recommend_peak_rss_mb": {"target": TARGET_RSS_MB, "measured": ar_rss, "met": ar_rss < TARGET_RSS_MB}},
	}

	# ---- the scale points ----
	points = []
	for spec in a.points:
		w, snap = spec.split("=", 1)
		lab = label_of(w)
		suffix = "" if float(w) == 1.0 else "@" + lab
		g = load_json(os.path.join(snap, ".gen-stats.json"), {})
		prs, rrs = rounds(a.work, "python-json" + suffix), rounds(a.work, "run" + suffix)
		recs = rounds(a.work, "recommend" + suffix)
		if not prs or not rrs:
			continue
		ps, rs = summary(prs), summary(rrs)
		failed = []
		for fp in sorted(glob.glob(os.path.join(a.work, "raw", "run%s.*.failed" % suffix))):
			with open(fp, encoding="utf-8", errors="replace") as f:
				failed.append(" ".join(f.read().split()))
		st_p, rj_p, counts_p, _ = run_json_stats(a.work, "run" + suffix)
		fc = load_json(os.path.join(a.work, "raw", "run%s.findings.json" % suffix), {})
		files = snapshot_files(snap)
		nbytes = sum(files.values())
		findings = (counts_p or {}).get("findings") or fc.get("findings")
		points.append({
			"label": lab, "waste_scale": float(w), "headline": float(w) == 1.0, "pods": g.get("pods"),
			"failed": failed or None,
			"bytes": nbytes, "pods_json_bytes": files.get("objects/pods.json"),
			"objects": g.get("objects"), "planted": g.get("planted"), "generator_seconds": g.get("seconds"),
			"findings": findings, "findings_by_category": fc.get("by_category"), "blocked": fc.get("blocked"),
			"plan_steps": fc.get("plan_steps"), "output_bytes": fc.get("bytes"),
			"python_json": ps, "run": rs, "run_json_stage_seconds_median": st_p, "run_json_peak_rss_mb": rj_p,
			"ratio_time_vs_python_json": ratio(rs["seconds_median"], ps["seconds_median"]),
			"ratio_rss_vs_python_json": ratio(rs["peak_rss_mb"], ps["peak_rss_mb"]),
			"run_seconds": rs["seconds_median"], "run_peak_rss_mb": rs["peak_rss_mb"],
			"finding_stages_seconds": r3(sum(st_p.get(k, 0) for k in FINDING_STAGES)) if st_p and not failed else None,
			"recommend_peak_rss_mb": summary(recs)["peak_rss_mb"] if recs and not failed else None,
			"input_mb": nbytes / 1e6})
	points.sort(key=lambda p: p["waste_scale"])
	lin = {}
	for y, rule in (("run_seconds", verdict_elasticity), ("run_peak_rss_mb", verdict_elasticity),
	                ("finding_stages_seconds", verdict_marginal), ("recommend_peak_rss_mb", verdict_marginal)):
		steps = linearity([p for p in points if not p["failed"]], "findings", y)
		verdict = rule(steps)
		if any(p["failed"] for p in points):
			verdict = None  # a point that failed shows nothing about growth, or the worst
		lin["%s_per_finding" % y] = {"steps": steps, "linear_or_better": verdict,
		                             "rule": "marginal" if rule is verdict_marginal else "elasticity"}
	scale = {"points": points, "linearity": lin,
	         "rule": "pods are the same in every point; the input grows with the objects that carry the waste, "
	                 "so the whole run has two drivers. The whole run grows no faster than linearly when its cost "
	                 "per finding does not rise from one point to the next (elasticity at most %.1f). What only the "
	                 "findings drive (the analyze, recommend and render stages' time in run.json; `kopilot "
	                 "recommend` alone, whose memory is the findings' only) must pass the stricter test: the "
	                 "marginal cost per extra finding of the last interval at most %.1fx that of the first, so a "
	                 "convex cost fails even where a fixed part hides it" % (MAX_ELASTICITY, LINEAR_SLACK)}

	sizes = {("objects/" if os.path.basename(os.path.dirname(p)) == "objects" else "") + os.path.basename(p):
	         os.path.getsize(p) for p in a.files}
	root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
	commit = sh(["git", "-C", root, "rev-parse", "--short", "HEAD"])
	dirty = sh(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"])
	result = {
		"schema": "kopilot.bench/v2",
		"generated_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
		"kopilot": {"binary": a.kopilot, "version": sh([a.kopilot, "version"]),
		            "git_commit": commit + ("-dirty" if dirty else "")},
		"host": dict(host_info(), loadavg_1min=loadavg(a.work)),
		"runs": a.runs, "scale_runs": a.scale_runs or a.runs, "now": a.now,
		"snapshot": {"generator": "bench/gen_cluster.py", "pods": pods, "bytes": sum(sizes.values()),
		             "files": sizes, "objects": gen.get("objects"), "usage_entries": gen.get("usage_entries"),
		             "generator_seconds": gen.get("seconds"), "waste_scale": gen.get("waste_scale"),
		             "managed_fields_share": gen.get("managed_fields_share"),
		             "last_applied_share": gen.get("last_applied_share"), "planted": gen.get("planted"),
		             "node_requested_ratio": gen.get("node_requested_ratio")},
		"findings": run_counts,
		"findings_by_category": next((p["findings_by_category"] for p in points if p["headline"]), None),
		"measurements": m,
		"ratios": ratios,
		"cpu_ratios": {"run / python-json": ratio(m["run"]["cpu_seconds_median"], py["cpu_seconds_median"]),
		               "analyze+recommend / python-json": ratio(m["analyze+recommend"]["cpu_seconds_median"],
		                                                        py["cpu_seconds_median"]),
		               "analyze+recommend / python-json-nogc": ratio(m["analyze+recommend"]["cpu_seconds_median"],
		                                                             pyn["cpu_seconds_median"])},
		"targets": targets,
		"scale": scale,
		"units": {"seconds": "wall clock, /usr/bin/time -v", "cpu_seconds": "user + system CPU time, /usr/bin/time -v",
		          "peak_rss_mb": "maximum resident set size, 10^6 bytes",
		          "ratio": "kopilot / reference; > 1 means kopilot is slower or bigger"},
	}
	tmp = a.json + ".tmp"
	with open(tmp, "w", encoding="utf-8") as f:
		json.dump(result, f, indent=2)
		f.write("\n")
	os.replace(tmp, a.json)

	# ---- markdown ----
	L = []
	A = L.append
	yes = lambda b: "met" if b else "NOT met"
	A("# kopilot benchmark: %s pods" % ("{:,}".format(pods) if pods else "?"))
	A("")
	la = result["host"]["loadavg_1min"]
	A("%s, %s (commit %s), %d rounds, median wall time; host: %s, %s CPUs, %s GB RAM, load average %s at the "
	  "start and %s at the end of the rounds. "
	  "Snapshot (waste x1): %.0f MB of JSON in %d files (pods.json %.0f MB, %s usage entries; managedFields on %.0f%% "
	  "and last-applied-configuration on %.0f%% of the user-managed objects), page cache warm." % (
		  result["generated_at"], result["kopilot"]["version"] or "?", result["kopilot"]["git_commit"] or "?",
		  a.runs, result["host"]["cpu"] or "?", result["host"]["cpus"], result["host"]["memory_gb"], la["start"], la["end"],
		  result["snapshot"]["bytes"] / 1e6, len(sizes), sizes.get("objects/pods.json", 0) / 1e6,
		  "{:,}".format(gen.get("usage_entries") or 0), 100 * (gen.get("managed_fields_share") or 0),
		  100 * (gen.get("last_applied_share") or 0)))
	A("")
	run = m["run"]
	A("## Headline: `kopilot run`, cold, raw snapshot to the last report")
	A("")
	A("%s findings%s. A new process each round, no model cache: **%.2f s and %.0f MB peak RSS**, %sx python "
	  "json.load's wall time (%sx with its gc off) and %sx its peak RSS over the same files in the same rounds." % (
		  "{:,}".format((run_counts or {}).get("findings") or 0),
		  (" (" + ", ".join("%s %s" % (k, "{:,}".format(v)) for k, v in (result["findings_by_category"] or {}).items()) + ")")
		  if result["findings_by_category"] else "",
		  run["seconds_median"], run["peak_rss_mb"], run_ratio, ratios["run / python-json-nogc"]["time"],
		  ratios["run / python-json"]["peak_rss"]))
	A("")
	A("Targets (issue 15)%s:" % ("" if applies else " (this run has %s pods: the targets do not apply as such)" % pods))
	A("")
	A("- time: at most %.1fx python json.load: %sx -> **%s**" % (TARGET_RUN_VS_PYTHON, run_ratio,
	                                                              yes(targets["run_vs_python_json_time"]["met"])))
	A("- peak RSS: at most %.0f MB: %.0f MB -> **%s**" % (TARGET_RUN_RSS_MB, run_rss, yes(targets["run_peak_rss_mb"]["met"])))
	rl = targets.get("report_html_chromium_seconds")
	if rl:
		A("- report.html (%.2f MB) in headless Chromium in under %.0f s: %.2f s to load it and dump its DOM, %.2f s for "
		  "an empty page in the same rounds, so %.2f s for the report -> **%s**" % (
			  (rl["bytes"] or 0) / 1e6, rl["target"], rl["report_seconds"], rl["blank_seconds"], rl["measured"],
			  yes(rl["met"])))
	if st:
		A("")
		bgs = m["run"].get("run_json_background_seconds_median", {})
		A("Per stage (run.json `stage_seconds`, median): %s; %.2f s of the %.2f s wall time are outside the stages%s. "
		  "Peak RSS per run.json: %s MB." % (
			  ", ".join("%s %.2f s" % (k, v) for k, v in st.items()), m["run"]["seconds_outside_stage_seconds"],
			  run["seconds_median"],
			  "; beside them on a second thread (`background_seconds`): " +
			  ", ".join("%s's copy of the snapshot and model cache %.2f s" % (k, v) for k, v in bgs.items())
			  if bgs else "", rj_rss))
	A("")
	A("| measurement | median s | min..max s | CPU s | peak RSS MB | time vs python json.load | RSS vs python json.load |")
	A("|---|---:|---:|---:|---:|---:|---:|")
	rows = [("**kopilot run: raw snapshot to the last report**", "run"), ("cat (raw read of all files)", "cat"),
	        ("python3 json.load (all files)", "python-json"), ("python3 json.load, gc off", "python-json-nogc"),
	        ("kopilot collect (1 run)", "collect"), ("kopilot analyze (after the model cache)", "analyze"),
	        ("kopilot recommend (after the model cache)", "recommend"),
	        ("kopilot analyze + recommend (after the model cache)", "analyze+recommend"),
	        ("headless Chromium: the run's report.html", "chromium-report"),
	        ("headless Chromium: an empty page", "chromium-blank")]
	for label, k in rows:
		x = m.get(k)
		if not x:
			continue
		A("| %s | %.2f | %.2f..%.2f | %.2f | %.0f | %s | %s |" % (
			label, x["seconds_median"], x["seconds_min"], x["seconds_max"], x["cpu_seconds_median"], x["peak_rss_mb"],
			"%.2fx" % ratio(x["seconds_median"], py["seconds_median"]),
			"%.2fx" % ratio(x["peak_rss_mb"], py["peak_rss_mb"])))
	A("")
	A("Secondary (the old post-cache figure): analyze + recommend from collect's model cache (snapshot/model.bin), "
	  "%.2f s (%s the earlier %.0f s target) and %.0f MB (%s %.0f MB)." % (
		  ar_s, yes(targets["secondary"]["analyze+recommend_seconds"]["met"]), TARGET_SECONDS, ar_rss,
		  yes(targets["secondary"]["analyze+recommend_peak_rss_mb"]["met"]), TARGET_RSS_MB))
	if len(points) > 1:
		A("")
		A("## Scale: ~10x fewer and ~10x more findings (%d round%s each, each point with its own python reference)" % (
			a.scale_runs or a.runs, "" if (a.scale_runs or a.runs) == 1 else "s"))
		A("")
		A("| waste | pods | input MB | findings | `kopilot run` s | peak RSS MB | python json.load s | run vs python | "
		  "s per 1k findings | MB RSS per 1k findings | collect / analyze / recommend / render s | "
		  "`kopilot recommend` alone, peak RSS MB |")
		A("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
		for p in points:
			sp = p["run_json_stage_seconds_median"] or {}
			if p["failed"]:
				A("| %s | %s | %.0f | ? | **FAILED** after %.2f s | %.0f | %.2f | | | | %s |" % (
					p["label"], "{:,}".format(p["pods"] or 0), p["input_mb"], p["run_seconds"], p["run_peak_rss_mb"],
					p["python_json"]["seconds_median"], "; ".join(p["failed"]).replace("|", "/")))
				continue
			A("| %s%s | %s | %.0f | %s | %.2f | %.0f | %.2f | %sx | %.3f | %.2f | %s | %s |" % (
				p["label"], " (headline)" if p["headline"] else "", "{:,}".format(p["pods"] or 0), p["input_mb"],
				"{:,}".format(p["findings"] or 0), p["run_seconds"], p["run_peak_rss_mb"],
				p["python_json"]["seconds_median"], p["ratio_time_vs_python_json"],
				1000 * p["run_seconds"] / p["findings"] if p["findings"] else float("nan"),
				1000 * p["run_peak_rss_mb"] / p["findings"] if p["findings"] else float("nan"),
				" / ".join("%.2f" % sp.get(k, float("nan")) for k in ("collect", "analyze", "recommend", "render")),
				"%.0f" % p["recommend_peak_rss_mb"] if p["recommend_peak_rss_mb"] is not None else "?"))
		A("")
		A("Findings per category:")
		A("")
		cats = sorted({c for p in points for c in (p["findings_by_category"] or {})})
		A("| category | " + " | ".join(p["label"] for p in points) + " |")
		A("|---|" + "---:|" * len(points))
		for c in cats:
			A("| %s | %s |" % (c, " | ".join("failed" if p["failed"] else
			                                "{:,}".format((p["findings_by_category"] or {}).get(c, 0)) for p in points)))
		A("| blocked (protected namespaces) | %s |" % " | ".join("failed" if p["failed"] else str(p["blocked"])
		                                                         for p in points))
		A("")
		A("Grows linearly? " + scale["rule"][0].upper() + scale["rule"][1:] + ".")
		A("")
		for key, txt, unit in (("run_seconds_per_finding", "`kopilot run` wall time (elasticity)", "s"),
		                       ("run_peak_rss_mb_per_finding", "`kopilot run` peak RSS (elasticity)", "MB"),
		                       ("finding_stages_seconds_per_finding",
		                        "analyze + recommend + render time in run.json (marginal)", "s"),
		                       ("recommend_peak_rss_mb_per_finding", "`kopilot recommend` alone, peak RSS (marginal)",
		                        "MB")):
			e = lin[key]
			A("- %s, per 1k more findings: %s -> **%s**" % (
				txt, "; ".join("%s->%s %+.3f %s (elasticity %s)" % (
					s_["from"], s_["to"], 1000 * s_["marginal"], unit, s_["elasticity"]) for s_ in e["steps"]),
				"linear or better" if e["linear_or_better"] else
				("NOT linear: grows faster" if e["linear_or_better"] is False else
				 "not shown: %s failed" % ", ".join(p["label"] for p in points if p["failed"])
				 if any(p["failed"] for p in points) else "not enough points")))
		A("")
		whole = [(txt, lin[k]["steps"]) for k, txt in (("run_seconds_per_finding", "time"),
		                                               ("run_peak_rss_mb_per_finding", "memory"))]
		rises = ["%s %.2fx" % (txt, st[-1]["marginal"] / st[0]["marginal"]) for txt, st in whole
		         if len(st) >= 2 and st[0]["marginal"] and st[-1]["marginal"] and st[0]["marginal"] > 0]
		if rises:
			A("For the record, the whole run's marginal cost per extra finding, last interval over first: %s. It "
			  "mixes two drivers: the input (collect grows with the objects read, and the x10 snapshot holds far "
			  "more of them) and the findings; and the peak RSS is the larger of collect's model and the findings, "
			  "so at small points the model hides what the findings add. Hence the split above." % ", ".join(rises))
			A("")
		A("Elasticity = log(y2/y1) / log(findings2/findings1): 1 is proportional, below 1 a fixed part (the pods) "
		  "dominates, above 1 the cost per finding grows.")
	A("")
	md = "\n".join(L)
	with open(a.md + ".tmp", "w", encoding="utf-8") as f:
		f.write(md)
	os.replace(a.md + ".tmp", a.md)
	print()
	print(md)
	return 0


if __name__ == "__main__":
	sys.exit(main())
