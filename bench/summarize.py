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
TARGET_SECONDS = 2.0
TARGET_RSS_MB = 300.0  # MB = 10^6 bytes, as the issue states it
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


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--work", required=True)
	ap.add_argument("--snapshot", required=True)
	ap.add_argument("--files", nargs="+", required=True)
	ap.add_argument("--kopilot", required=True)
	ap.add_argument("--runs", type=int, required=True)
	ap.add_argument("--now", required=True)
	ap.add_argument("--json", required=True)
	ap.add_argument("--md", required=True)
	a = ap.parse_args()

	gen = {}
	gp = os.path.join(a.snapshot, ".gen-stats.json")
	if os.path.exists(gp):
		with open(gp, encoding="utf-8") as f:
			gen = json.load(f)
	pods = gen.get("pods")

	m = {}
	names = ["cat", "python-json", "python-json-nogc", "analyze", "recommend", "run", "collect"]
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
	stage = {}
	rj_rss = []
	for p in sorted(glob.glob(os.path.join(a.work, "raw", "run.*.run.json"))):
		with open(p, encoding="utf-8") as f:
			rj = json.load(f)
		for k, v in rj.get("stage_seconds", {}).items():
			stage.setdefault(k, []).append(v)
		if "peak_rss_bytes" in rj:
			rj_rss.append(rj["peak_rss_bytes"])
	if stage:
		st = {k: r3(statistics.median(v)) for k, v in stage.items()}
		m["run"]["run_json_stage_seconds_median"] = st
		m["run"]["run_json_peak_rss_mb"] = round(max(rj_rss) / 1e6, 1) if rj_rss else None
		m["run"]["seconds_outside_stage_seconds"] = r3(m["run"]["seconds_median"] - sum(st.values()))

	py, pyn, cat = m["python-json"], m["python-json-nogc"], m["cat"]
	ar_s, ar_rss = m["analyze+recommend"]["seconds_median"], m["analyze+recommend"]["peak_rss_mb"]
	ratios = {
		"analyze+recommend / python-json": {"time": ratio(ar_s, py["seconds_median"]),
		                                    "peak_rss": ratio(ar_rss, py["peak_rss_mb"])},
		"analyze+recommend / python-json-nogc": {"time": ratio(ar_s, pyn["seconds_median"]),
		                                         "peak_rss": ratio(ar_rss, pyn["peak_rss_mb"])},
		"analyze+recommend / cat": {"time": ratio(ar_s, cat["seconds_median"])},
		"run / python-json": {"time": ratio(m["run"]["seconds_median"], py["seconds_median"]),
		                      "peak_rss": ratio(m["run"]["peak_rss_mb"], py["peak_rss_mb"])},
	}
	for n in ("analyze", "recommend", "run"):
		m[n]["ratio_time_vs_python_json"] = ratio(m[n]["seconds_median"], py["seconds_median"])
		m[n]["ratio_rss_vs_python_json"] = ratio(m[n]["peak_rss_mb"], py["peak_rss_mb"])

	applies = pods == TARGET_PODS
	targets = {
		"pods": TARGET_PODS, "applies": applies,
		"analyze+recommend_seconds": {"target": TARGET_SECONDS, "measured": ar_s, "met": ar_s < TARGET_SECONDS},
		"analyze+recommend_peak_rss_mb": {"target": TARGET_RSS_MB, "measured": ar_rss, "met": ar_rss < TARGET_RSS_MB},
	}

	sizes = {("objects/" if os.path.basename(os.path.dirname(p)) == "objects" else "") + os.path.basename(p):
	         os.path.getsize(p) for p in a.files}
	root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
	commit = sh(["git", "-C", root, "rev-parse", "--short", "HEAD"])
	dirty = sh(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"])
	result = {
		"schema": "kopilot.bench/v1",
		"generated_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
		"kopilot": {"binary": a.kopilot, "version": sh([a.kopilot, "version"]),
		            "git_commit": commit + ("-dirty" if dirty else "")},
		"host": dict(host_info(), loadavg_1min=loadavg(a.work)),
		"runs": a.runs, "now": a.now,
		"snapshot": {"generator": "bench/gen_cluster.py", "pods": pods, "bytes": sum(sizes.values()),
		             "files": sizes, "objects": gen.get("objects"), "usage_entries": gen.get("usage_entries"),
		             "generator_seconds": gen.get("seconds")},
		"measurements": m,
		"ratios": ratios,
		"cpu_ratios": {"analyze+recommend / python-json": ratio(m["analyze+recommend"]["cpu_seconds_median"],
		                                                        py["cpu_seconds_median"]),
		               "analyze+recommend / python-json-nogc": ratio(m["analyze+recommend"]["cpu_seconds_median"],
		                                                             pyn["cpu_seconds_median"])},
		"targets": targets,
		"units": {"seconds": "wall clock, /usr/bin/time -v", "cpu_seconds": "user + system CPU time, /usr/bin/time -v", "peak_rss_mb": "maximum resident set size, 10^6 bytes",
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
	A("# kopilot benchmark: %s pods" % ("{:,}".format(pods) if pods else "?"))
	A("")
	la = result["host"]["loadavg_1min"]
	A("%s, %s (commit %s), %d rounds, median wall time; host: %s, %s CPUs, %s GB RAM, load average %s at the "
	  "start and %s at the end of the rounds. "
	  "Snapshot: %.0f MB of JSON in %d files (%s usage entries), page cache warm." % (
		  result["generated_at"], result["kopilot"]["version"] or "?", result["kopilot"]["git_commit"] or "?",
		  a.runs, result["host"]["cpu"] or "?", result["host"]["cpus"], result["host"]["memory_gb"], la["start"], la["end"],
		  result["snapshot"]["bytes"] / 1e6, len(sizes), "{:,}".format(gen.get("usage_entries") or 0)))
	A("")
	A("| measurement | median s | min..max s | CPU s | peak RSS MB | time vs python json.load | RSS vs python json.load |")
	A("|---|---:|---:|---:|---:|---:|---:|")
	rows = [("cat (raw read of all files)", "cat"), ("python3 json.load (all files)", "python-json"),
	        ("python3 json.load, gc off", "python-json-nogc"), ("kopilot analyze (after the model cache)", "analyze"),
	        ("kopilot recommend (after the model cache)", "recommend"),
	        ("kopilot analyze + recommend (after the model cache)", "analyze+recommend"),
	        ("**kopilot run: raw snapshot to the last report**", "run"), ("kopilot collect (1 run)", "collect")]
	for label, k in rows:
		x = m.get(k)
		if not x:
			continue
		A("| %s | %.2f | %.2f..%.2f | %.2f | %.0f | %s | %s |" % (
			label, x["seconds_median"], x["seconds_min"], x["seconds_max"], x["cpu_seconds_median"], x["peak_rss_mb"],
			"%.2fx" % ratio(x["seconds_median"], py["seconds_median"]),
			"%.2fx" % ratio(x["peak_rss_mb"], py["peak_rss_mb"])))
	A("")
	run = m["run"]
	A("Headline, what a user waits for: `kopilot run` from the raw snapshot to the last report, a new process "
	  "each round: %.2f s and %.0f MB peak RSS, %sx python json.load's wall time and %sx its peak RSS over the "
	  "same files in the same rounds." % (
		  run["seconds_median"], run["peak_rss_mb"], ratios["run / python-json"]["time"],
		  ratios["run / python-json"]["peak_rss"]))
	A("")
	A("Secondary, a slice (analyze and recommend start from collect's model cache, snapshot/model.bin), against "
	  "the earlier target: analyze + recommend over %s pods in under %.0f s and under %.0f MB%s:" % (
		"{:,}".format(TARGET_PODS), TARGET_SECONDS, TARGET_RSS_MB,
		"" if applies else " (this run has %s pods: the target does not apply as such)" % pods))
	A("")
	A("- time: %.2f s -> **%s** (%.1fx the target)" % (
		ar_s, "met" if targets["analyze+recommend_seconds"]["met"] else "NOT met", ar_s / TARGET_SECONDS))
	A("- peak RSS: %.0f MB -> **%s** (%.1fx the target)" % (
		ar_rss, "met" if targets["analyze+recommend_peak_rss_mb"]["met"] else "NOT met", ar_rss / TARGET_RSS_MB))
	A("- against the cost of just reading the data: %sx python json.load's wall time (%sx with its gc off), "
	  "%sx its CPU time (%sx with gc off), %sx its peak RSS" % (
		  ratios["analyze+recommend / python-json"]["time"], ratios["analyze+recommend / python-json-nogc"]["time"],
		  result["cpu_ratios"]["analyze+recommend / python-json"],
		  result["cpu_ratios"]["analyze+recommend / python-json-nogc"],
		  ratios["analyze+recommend / python-json"]["peak_rss"]))
	if stage:
		st = m["run"]["run_json_stage_seconds_median"]
		A("")
		A("`kopilot run` per run.json (median): %s; %.2f s of the %.2f s wall time are outside `stage_seconds`." % (
			", ".join("%s %.2f s" % (k, v) for k, v in st.items()), m["run"]["seconds_outside_stage_seconds"],
			m["run"]["seconds_median"]))
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
