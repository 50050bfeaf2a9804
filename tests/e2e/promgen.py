#!/usr/bin/python3
"""promgen.py: Prometheus fixtures for kopilot's usage queries.

Writes OpenMetrics text (cAdvisor and kube-state-metrics series, as a kubelet
and kube-state-metrics scraped by Prometheus would have stored them) which,
backfilled into a real Prometheus (tests/e2e/promlib.sh), makes the usage
queries (tests/e2e/promcheck.py) give back the values of a kopilot.usage/v1
file.

  promgen.py --usage USAGE.json --out data.om [--scrape 60] [--expect-out F] [--lean]
  promgen.py --synthetic 2000 --seed 1 --end 2026-11-25T06:00:00Z --days 14 \\
             --usage-out usage.json --out data.om [--shard I/K]

--usage: one set of series per container entry; containers with no entry get
  no series. Prints the containers whose values Prometheus cannot produce (see
  "Short containers" below) and, with --expect-out, writes the usage file as
  Prometheus will answer it (the input, except for those).
--synthetic N: invents N containers in about N/20 namespaces (Deployments,
  StatefulSets, DaemonSets, CronJobs, init containers, pods replaced in the
  window, OOM kills, restarts, CPU throttling) and writes the expected usage
  (--usage-out) and the series. --shard I/K writes only the pods of shard I
  of K (every shard writes the same --usage-out), so a big data set can be
  generated and backfilled a part at a time.
--verify: also recomputes every expected value from the generated samples with
  promgen's own model of Prometheus 2.42 (rate extrapolation, subquery
  alignment, lookback, quantile interpolation) and fails on a difference.

How values are reproduced exactly. Every query is evaluated at T (window end)
over W (window) with subquery step S. CPU: the subquery
(rate(cpu[5m]))[W:S] gives one point per step; a point whose 5-minute window
holds samples at both ends is the mean of the 5 per-minute rates in it (the
range is closed at both ends in 2.42: 6 samples). quantile_over_time only sees
the sorted points, so the per-minute rates are built as a walk of runs: a run
either holds one target value exactly ("plateau", >= 4 minutes) or stays
strictly between two neighbouring target values; consecutive runs only move to
the neighbouring plateau value. A point is then exactly a target value when its
window lies inside a plateau, and otherwise strictly inside one known interval,
so the number of points below / at / above each target is known exactly and
the run lengths are chosen to put the targets at the ranks quantile_over_time
interpolates at (phi*(n-1)). Memory: the points of the subquery are the samples
(plus the last sample repeated for 5 minutes of lookback after a series ends),
chosen the same way without windows. Counters start at 0 for containers that
start in the window; containers that exist at the window start get 30 minutes
of earlier samples.

Short containers: with few samples, rate()'s points at the series' edges
are extrapolated (x0.3 .. x0.7) and p95, p99 and max interpolate between the
same few sorted points, so some combinations cannot come out of Prometheus at
all (the demo's jobs and init containers of 2..49 samples: "no data gives
these percentiles"); others (a few hundred samples, with only 1-4 rate points
between p99 and max) need a sharper spike than promgen's walk builds ("walk
needs more"). For both promgen writes a plausible series near the targets and
reports (--expect-out, --usage-out) what Prometheus answers for it.

Size: realistic cAdvisor lines (id, image, name labels) are ~500 bytes, and
promtool's backfill costs ~5 us a sample (demo: 17 M samples, 6.8 GB, ~90 s);
--lean drops those three labels (3.9 GB, ~60 s). For data sets too big for
one file, --shard I/K writes one part; promlib.sh's prom_backfill adds each
part to the same TSDB (Prometheus merges the overlapping blocks at start).

Standard library only.
"""

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import random
import sys
import time

RATE_WINDOW = 300   # the queries' rate window R (5m)
LOOKBACK = 300      # Prometheus' default lookback delta
LEAD_IN = 1800      # seconds of samples before the window for containers alive at its start


def die(msg):
	print("promgen: " + msg, file=sys.stderr)
	sys.exit(2)


def parse_ts(s):
	t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
	if t.tzinfo is None:
		t = t.replace(tzinfo=dt.timezone.utc)
	return int(t.timestamp())


def fmt_ts(t):
	return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def h64(*parts):
	return int.from_bytes(hashlib.sha256("\0".join(map(str, parts)).encode()).digest()[:8], "big")


def hexid(n, *parts):
	out = ""
	i = 0
	while len(out) < n:
		out += hashlib.sha256(("\0".join(map(str, parts)) + "#%d" % i).encode()).hexdigest()
		i += 1
	return out[:n]


def uid_of(*parts):
	x = hexid(32, "uid", *parts)
	return "%s-%s-%s-%s-%s" % (x[:8], x[8:12], x[12:16], x[16:20], x[20:])


# ---------------------------------------------------------------------------
# Prometheus 2.42 semantics (the model the construction relies on, and the
# reference the --verify mode and the short containers use)

def go_quantile(q, values):
	"""promql quantile(): values sorted, rank q*(n-1), linear interpolation."""
	n = len(values)
	if n == 0:
		return None
	if q < 0:
		return -math.inf
	if q > 1:
		return math.inf
	vs = sorted(values)
	rank = q * (float(n) - 1)
	lower = max(0.0, math.floor(rank))
	upper = min(float(n - 1), lower + 1)
	weight = rank - math.floor(rank)
	return vs[int(lower)] * (1 - weight) + vs[int(upper)] * weight


def extrapolated_rate(ts_ms, vals, range_start_ms, range_end_ms, is_rate, range_s):
	"""promql extrapolatedRate for a counter, samples already cut to the range."""
	if len(vals) < 2:
		return None
	result = vals[-1] - vals[0]
	prev = vals[0]
	for v in vals[1:]:
		if v < prev:
			result += prev
		prev = v
	dur_start = float(ts_ms[0] - range_start_ms) / 1000
	dur_end = float(range_end_ms - ts_ms[-1]) / 1000
	sampled = float(ts_ms[-1] - ts_ms[0]) / 1000
	avg = sampled / float(len(vals) - 1)
	if result > 0 and vals[0] >= 0:
		dur_zero = sampled * (vals[0] / result)
		if dur_zero < dur_start:
			dur_start = dur_zero
	thr = avg * 1.1
	ext = sampled
	ext += dur_start if dur_start < thr else avg / 2
	ext += dur_end if dur_end < thr else avg / 2
	factor = ext / sampled
	if is_rate:
		factor /= range_s
	return result * factor


def sub_points(T, W, S):
	"""Evaluation times (ms) of a [W:S] subquery at T: multiples of S in [T-W, T]."""
	start = (T - W) * 1000
	step = S * 1000
	first = (start // step) * step
	if first < start:
		first += step
	return list(range(first, T * 1000 + 1, step))


def sim_rate_points(ts_ms, vals, points_ms, R):
	out = []
	for t in points_ms:
		i0 = bisect.bisect_left(ts_ms, t - R * 1000)
		i1 = bisect.bisect_right(ts_ms, t)
		if i1 - i0 >= 2:
			out.append(extrapolated_rate(ts_ms[i0:i1], vals[i0:i1], t - R * 1000, t, True, float(R)))
	return out


def sim_lookback(ts_ms, vals, points_ms, lookback=LOOKBACK):
	"""(point, sample time, value) of an instant selector at each point."""
	out = []
	for t in points_ms:
		i = bisect.bisect_right(ts_ms, t) - 1
		if i >= 0 and ts_ms[i] >= t - lookback * 1000:
			out.append((t, ts_ms[i], vals[i]))
	return out


def sim_increase(ts_ms, vals, T, W):
	i0 = bisect.bisect_left(ts_ms, (T - W) * 1000)
	i1 = bisect.bisect_right(ts_ms, T * 1000)
	return extrapolated_rate(ts_ms[i0:i1], vals[i0:i1], (T - W) * 1000, T * 1000, False, float(W))


# ---------------------------------------------------------------------------
# Choosing the sorted values: anchors

def quantile_positions(q, n):
	rank = q * (float(n) - 1)
	lo = int(max(0.0, math.floor(rank)))
	hi = int(min(float(n - 1), lo + 1))
	w = rank - math.floor(rank)
	return lo, hi, w


def solve_anchors(n, quants, vmax):
	"""Values the sorted points must have at some positions so that
	quantile_over_time(q) = value for each (q, value) in quants and the top is
	vmax (None: free). Plateaus where possible. Returns {pos: value} or None."""
	fixed = {}
	if vmax is not None:
		fixed[n - 1] = vmax
	for q, v in sorted(quants, reverse=True):
		lo, hi, w = quantile_positions(q, n)
		if w == 0 or hi == lo:
			if lo in fixed and abs(fixed[lo] - v) > 1e-9 * max(1, abs(v)):
				return None
			fixed[lo] = v
			continue
		if lo in fixed and hi in fixed:
			if abs(fixed[lo] * (1 - w) + fixed[hi] * w - v) > 1e-6 * max(1, abs(v)):
				return None
		elif hi in fixed:
			fixed[lo] = (v - w * fixed[hi]) / (1 - w)
		elif lo in fixed:
			fixed[hi] = (v - (1 - w) * fixed[lo]) / w
		else:
			fixed[lo] = fixed[hi] = v
	prev = None
	for p in sorted(fixed):
		if fixed[p] < 0 or (prev is not None and fixed[p] < prev - 1e-9):
			return None
		prev = fixed[p]
	return fixed


def bands_of(anchors):
	"""[[value, pmin, pmax]] of the distinct anchor values, in order."""
	bands = []
	for p in sorted(anchors):
		v = anchors[p]
		if bands and v == bands[-1][0]:
			bands[-1][2] = p
		else:
			bands.append([v, p, p])
	return bands


def alloc(total, mins, weights):
	"""Integers >= mins summing to total, the rest shared by weight. None if impossible."""
	rest = total - sum(mins)
	if rest < 0:
		return None
	sw = float(sum(weights)) or 1.0
	shares = [rest * w / sw for w in weights]
	out = [m + int(s) for m, s in zip(mins, shares)]
	left = total - sum(out)
	order = sorted(range(len(out)), key=lambda i: int(shares[i]) - shares[i])
	for i in order[:left]:
		out[i] += 1
	return out


class Infeasible(Exception):
	pass


# ---------------------------------------------------------------------------
# CPU: runs of blocks (one block = one step S of per-sample increments)

class CpuDesign:
	"""classes: 2j = strictly between value j-1 and value j (value -1 = 0),
	2j-1 = exactly value j (j = 1..m). Run = [cls, length]."""

	def __init__(self, g, a, b, targets, rng):
		self.g = g
		self.a, self.b = a, b
		K = g.K
		self.lo_pt = max(0, a + 1)
		self.hi_pt = min(g.P1, b + K - 1)
		n = self.hi_pt - self.lo_pt + 1
		if n < 1:
			raise Infeasible("no rate points")
		self.n = n
		quants = [(0.5, targets["p50"]), (0.95, targets["p95"]), (0.99, targets["p99"])]
		anchors = solve_anchors(n, quants, targets["max"])
		if anchors is None:
			raise Infeasible("no data gives these percentiles: quantile_over_time interpolates them between "
			                 "the same few of its %d points" % n)
		# in micro-CPU-seconds per sample
		e = {p: int(round(v * g.sc * 1000)) for p, v in anchors.items()}
		bands = bands_of(e)
		if bands[-1][2] != n - 1:
			raise Infeasible("top")
		self.values = [bb[0] for bb in bands]   # value j+1 = self.values[j]
		self.names = ["%gm" % round(x / (g.sc * 1000.0), 4) for x in self.values]
		m = len(bands)
		self.m = m
		# widen the plateaus a little where there is room
		d = n // 2000
		pmin = [bb[1] for bb in bands]
		pmax = [bb[2] for bb in bands]
		for j in range(m):
			below = pmin[j] - (pmax[j - 1] + 1 if j else 0)
			dd = max(0, min(d, (below - 24) // 3))
			pmin[j] -= dd
			if j < m - 1:
				above = pmin[j + 1] - pmax[j] - 1
				dd = max(0, min(d, (above - 24) // 3))
				pmax[j] += dd
		zero = self.values[0] == 0
		if zero:
			pmin[0] = 0
		counts = []
		counts.append(pmin[0])
		for j in range(m):
			counts.append(pmax[j] - pmin[j] + 1)
			if j < m - 1:
				counts.append(pmin[j + 1] - pmax[j] - 1)
		# counts[c] for c = 0 .. 2m-1
		self.target = counts
		self.low = 1 if zero else 0
		if not zero and counts[0] < 1:
			raise Infeasible("nothing below p50")
		# zone widths: a strict value needs room
		for j in range(m):
			lo = self.values[j - 1] if j else 0
			hi = self.values[j]
			if counts[2 * j] > 0 and hi - lo < 3:
				raise Infeasible("zone too narrow")
		self.build(rng)

	def build(self, rng):
		g, K, a, b = self.g, self.g.K, self.a, self.b
		m, cnt = self.m, self.target
		nb = b - a
		days = max(1, int(round(nb * g.S / 86400.0)))
		# visits per level j = 1..m (a level-j visit reaches the plateau of value j)
		v = [0] * (m + 1)
		v[1] = days if m > 1 else min(days, 3)
		for j in range(2, m + 1):
			v[j] = 1 if j == m else min(2 * days, max(1, cnt[2 * j] // 60))
		last_err = "visits"
		for _attempt in range(400):
			try:
				seq, ee = self.walk(v, rng)
				lengths = self.lengths(seq, ee, rng)
				break
			except Infeasible as e:
				last_err = str(e)
				j = getattr(e, "zone", None)
				if j is None:
					raise
				# fewer visits through the zone that does not fit
				if j == 0:
					if v[1] <= 1:
						raise Infeasible("the points below p50 do not fit the walk")
					v[1] -= 1
				elif v[j] > v[j + 1] and v[j] > 1:
					v[j] -= 1
				elif v[j + 1] > 1:
					v[j + 1] -= 1
				elif v[j] > 1:
					v[j] -= 1
				else:
					raise Infeasible("%d rate points between %s and %s: promgen's walk needs more"
					                 % (self.target[2 * j], self.names[j - 1], self.names[j]))
		else:
			raise Infeasible(last_err)
		self.runs = [[c, L] for c, L in zip(seq, lengths)]
		self.ee = ee
		self.adjust()

	def walk(self, v, rng):
		"""The sequence of run classes. A zone j (between values j and j+1) is
		crossed either by a run of strict values or, where it has few points,
		by a direct step from plateau j to plateau j+1 (the K-1 windows across
		the step average strictly between the two values)."""
		K, m, cnt = self.g.K, self.m, self.target
		# direct steps needed per zone
		nee = {}
		for j in range(1, m):
			runs = v[j] + v[j + 1]
			e = max(0, K * runs - cnt[2 * j])
			if e:
				if v[j + 1] != v[j]:
					# direct steps need one excursion per visit
					if v[j + 1] < v[j]:
						err = Infeasible("zone %d" % j)
						err.zone = j
						raise err
					v[j + 1] = v[j]
					runs = v[j] + v[j + 1]
					e = max(0, K * runs - cnt[2 * j])
				if e > 2 * v[j]:
					err = Infeasible("zone %d" % j)
					err.zone = j
					raise err
				r = runs - e
				rest = cnt[2 * j] - (K - 1) * runs
				if (r == 0 and rest != 0) or rest < r:
					err = Infeasible("zone %d" % j)
					err.zone = j
					raise err
			nee[j] = e
		subs = {}
		for j in range(1, m):
			if nee.get(j):
				subs[j] = [1] * v[j]            # one excursion per visit: its up and down steps may be direct
			else:
				par = [0] * v[j]
				for i in range(v[j + 1]):
					par[rng.randrange(v[j])] += 1
				subs[j] = par
		flags = {}
		for j, e in nee.items():
			slots = list(range(2 * v[j]))
			rng.shuffle(slots)
			flags[j] = set(slots[:e])
		pos = {j: 0 for j in range(1, m + 1)}
		seq = []
		ee = []      # indices i where runs i and i+1 are plateaus of neighbouring values

		def visit(j, with_edges=True):
			i = pos[j]
			pos[j] += 1
			if j == m:
				seq.append(2 * j - 1)
				return
			if with_edges:
				seq.append(2 * j - 1)
			fl = flags.get(j, ())
			n_sub = subs[j][i]
			if not n_sub:
				seq.append(2 * j)
			elif 2 * i not in fl:
				seq.append(2 * j)
			else:
				ee.append(len(seq) - 1)
			for k in range(n_sub):
				visit(j + 1)
				if k < n_sub - 1:
					seq.append(2 * j)
			if n_sub:
				if 2 * i + 1 not in fl:
					seq.append(2 * j)
				else:
					ee.append(len(seq) - 1)
			if with_edges:
				seq.append(2 * j - 1)

		if self.low == 0:
			seq.append(0)
			for _ in range(v[1]):
				visit(1)
				seq.append(0)
		else:
			# the lowest value is 0: the baseline is that plateau, a level-1 visit
			# is an excursion above it
			seq.append(1)
			if m > 1:
				for _ in range(v[1]):
					i = pos[1]
					pos[1] += 1
					seq.append(2)
					for k in range(subs[1][i]):
						visit(2)
						seq.append(2)
					seq.append(1)
		return seq, ee

	def lengths(self, seq, ee, rng):
		"""Run lengths: the points of a run are L + const (strict: K-1 more, the
		windows reaching into it; plateau: K-1 fewer, except at the series'
		ends), minus the points outside [T-W, T]; a direct step adds K-1 points
		to the zone between."""
		g, K, a, b = self.g, self.g.K, self.a, self.b
		m, cnt = self.m, self.target
		nb = b - a
		R = len(seq)
		clip_s = max(0, self.lo_pt - (a + 1))
		clip_e = max(0, (b + K - 1) - self.hi_pt)
		const = []
		mins = []
		for i, c in enumerate(seq):
			if c % 2 == 0:
				k = K - 1
				mn = 1
			else:
				k = -(K - 1) + (K - 1) * (i == 0) + (K - 1) * (i == R - 1)
				mn = K - 1
			if i == 0:
				k -= clip_s
				mn = max(mn, K - 1, clip_s + 1)
			if i == R - 1:
				k -= clip_e
				mn = max(mn, K - 1, (b - self.hi_pt) + 1)
			const.append(k)
			mins.append(mn)
		if R == 1:
			const = [K - 1 - clip_s - clip_e]
		extra = [0] * (2 * m)
		for i in ee:
			extra[min(seq[i], seq[i + 1]) + 1] += K - 1
		lengths = [0] * R
		for c in range(2 * m):
			idx = [i for i in range(R) if seq[i] == c]
			need = cnt[c] - extra[c] - sum(const[i] for i in idx)
			if not idx:
				if need != 0:
					err = Infeasible("class %d unused" % c)
					err.zone = c // 2 if c % 2 == 0 else None
					raise err
				continue
			if c % 2 == 0:
				w = [1.0 + 0.3 * rng.random() for _ in idx]
			else:
				w = [0.2 + rng.random() for _ in idx]
			ls = alloc(need, [mins[i] for i in idx], w)
			if ls is None:
				err = Infeasible("class %d: %d points do not fit %d runs" % (c, cnt[c], len(idx)))
				err.zone = c // 2 if c % 2 == 0 else None
				raise err
			for i, L in zip(idx, ls):
				lengths[i] = L
		if sum(lengths) != nb:
			raise Infeasible("lengths %d != blocks %d" % (sum(lengths), nb))
		return lengths

	# exact counting of the points' classes
	def window_class(self, starts, t):
		a, b, K = self.a, self.b, self.g.K
		w0 = max(a + 1, t - K + 1)
		w1 = min(b, t)
		partial = (t - K + 1 < a + 1) or (t > b)
		i = bisect.bisect_right(starts, w1) - 1
		cls = set()
		while i >= 0:
			cls.add(self.runs[i][0])
			if starts[i] <= w0:
				break
			i -= 1
		if partial and cls != {self.low}:
			# edge windows are extrapolated (smaller); only the low class is safe
			if not (t > b and t - b == 1 and t - K + 1 >= a + 1 and self.g.sc == self.g.S):
				raise Infeasible("edge window holds class %s" % sorted(cls))
		ev = [c for c in cls if c % 2 == 0]
		od = [c for c in cls if c % 2 == 1]
		if ev:
			if len(set(ev)) > 1 or any(abs(o - ev[0]) != 1 for o in od):
				raise Infeasible("window mixes %s" % sorted(cls))
			return ev[0]
		if len(od) == 2 and abs(od[0] - od[1]) == 2:
			return min(od) + 1
		if len(od) != 1:
			raise Infeasible("window mixes plateaus %s" % sorted(cls))
		return od[0]

	def count(self):
		a, b, K = self.a, self.b, self.g.K
		lo_pt, hi_pt = self.lo_pt, self.hi_pt
		counts = [0] * (2 * self.m)
		starts = []
		s = a + 1
		for c, L in self.runs:
			starts.append(s)
			s += L
		assert s == b + 1
		for i, (c, L) in enumerate(self.runs):
			s0 = starts[i]
			e0 = s0 + L - 1
			# interior points: window inside the run
			t0 = max(s0 + K - 1, lo_pt)
			t1 = min(e0, hi_pt)
			if t1 >= t0:
				counts[c] += t1 - t0 + 1
			for t in range(max(s0, lo_pt), min(e0, s0 + K - 2, hi_pt) + 1):
				counts[self.window_class(starts, t)] += 1
		for t in range(max(b + 1, lo_pt), min(b + K - 1, hi_pt) + 1):
			counts[self.window_class(starts, t)] += 1
		return counts

	def adjust(self):
		K = self.g.K
		for _ in range(6):
			got = self.count()
			if got == self.target:
				return
			diff = [x - y for x, y in zip(got, self.target)]
			D = list(itertools.accumulate(diff))
			R = len(self.runs)
			for c in range(2 * self.m - 1):
				need = D[c]
				if need == 0:
					continue
				# need > 0: grow class c+1 runs into neighbouring class c runs
				grow, shrink = (c + 1, c) if need > 0 else (c, c + 1)
				k = abs(need)
				for _pass in range(k + 1):
					moved = False
					for i in range(R - 1):
						if k == 0:
							break
						for x, y in ((i, i + 1), (i + 1, i)):
							if k == 0:
								break
							if self.runs[x][0] == grow and self.runs[y][0] == shrink:
								mn = K if shrink % 2 == 1 else 3
								if y == 0 or y == R - 1:
									mn = max(mn, K + 2 + (self.lo_pt - self.a if y == 0 else 0))
								if self.runs[y][1] >= mn:
									self.runs[y][1] -= 1
									self.runs[x][1] += 1
									k -= 1
									moved = True
					if k == 0 or not moved:
						break
		if self.count() != self.target:
			raise Infeasible("counts do not converge")

	def block_values(self, rng):
		"""Per-block increment per sample (micro CPU seconds) for blocks a+1..b."""
		vals = self.values
		out = []
		R = len(self.runs)
		for i, (c, L) in enumerate(self.runs):
			if c % 2 == 1:
				out.extend([vals[(c - 1) // 2]] * L)
				continue
			j = c // 2
			lo = vals[j - 1] if j else 0
			hi = vals[j]
			mar = max(1, (hi - lo) // 20)
			if j == 0:
				lo2 = max(0, int(hi * 0.3))
				hi2 = hi - mar
			else:
				lo2 = lo + mar
				hi2 = hi - mar
			if lo2 > hi2:
				lo2 = hi2
			span = hi2 - lo2
			# a slow wander inside the zone, with noise
			level = 0.25 + 0.5 * rng.random()
			drift = (rng.random() - 0.5) * 0.5 / max(L, 1)
			y = 0.0
			rnd = rng.random
			for k in range(L):
				y = 0.85 * y + 0.15 * (rnd() - 0.5) * 2
				f = level + drift * k + 0.25 * y
				if f < 0:
					f = 0.0
				elif f > 1:
					f = 1.0
				out.append(lo2 + int(span * f))
		return out


# ---------------------------------------------------------------------------
# Memory: points = grid samples in the window, last one repeated by lookback

def design_memory(g, a, b, p50, vmax, rng, oom_blocks=()):
	"""Returns per-grid-block values for blocks a..b (ints), or raises."""
	m0 = max(0, a)
	tail = max(0, min(g.P1, b + g.LB) - b)
	n = (b - m0 + 1) + tail
	anchors = solve_anchors(n, [(0.5, p50)], None)
	if anchors is None:
		raise Infeasible("memory p50")
	bands = bands_of({p: int(round(v)) for p, v in anchors.items()})
	if len(bands) != 1 or bands[0][0] < 0:
		raise Infeasible("memory anchors")
	e, pmin, pmax = bands[0]
	if e != p50:
		raise Infeasible("memory p50 not an integer plateau")
	d = n // 1000
	pmin = max(0, pmin - d)
	pmax = min(n - 1, pmax + d)
	if vmax > p50:
		pmax = min(pmax, n - 2)
		if pmax < bands[0][2]:
			raise Infeasible("no room above p50 for the max")
	else:
		pmax = n - 1
	if p50 == 0:
		pmin = 0
	wlast = 1 + tail
	if max(pmin, pmax - pmin + 1, n - pmax - 1) < wlast:
		# few samples: the last one (repeated by the lookback) must hold p50
		top = n - 2 if vmax > p50 else n - 1
		lo = min(bands[0][1], max(0, top - wlast + 1))
		if lo + wlast - 1 > top or lo + wlast - 1 < bands[0][2]:
			raise Infeasible("memory tail")
		pmin, pmax = lo, max(pmax, lo + wlast - 1)
	nL, nE = pmin, pmax - pmin + 1
	nH = n - nL - nE
	if nL > 0 and p50 < 2:
		raise Infeasible("nothing below p50")
	# profile: daily wave, slow trend, noise
	nb = b - m0 + 1
	ph = rng.random() * 2 * math.pi
	tr = (rng.random() - 0.3) * 0.6
	rnd = rng.random
	steps_day = 86400.0 / g.S
	y = 0.0
	prof = []
	for i in range(nb):
		y = 0.97 * y + 0.03 * (rnd() - 0.5) * 2
		prof.append(0.5 + 0.3 * math.sin(2 * math.pi * (m0 + i) / steps_day + ph) + tr * i / max(nb, 1) + 0.5 * y)
	cls = [None] * nb
	left = {"L": nL, "E": nE, "H": nH}
	# the last sample counts 1 + tail times
	pref = ["L", "E", "H"] if nb > 30 else ["E", "L", "H"]
	for k in pref:
		if left[k] >= wlast:
			cls[nb - 1] = k
			left[k] -= wlast
			break
	else:
		raise Infeasible("memory tail")
	order = sorted(range(nb - 1), key=lambda i: prof[i])
	pos = 0
	for k in ("L", "E", "H"):
		for _ in range(left[k]):
			cls[order[pos]] = k
			pos += 1
	assert pos == nb - 1
	if vmax > p50 and "H" not in cls:
		raise Infeasible("memory max has no sample")
	# values
	lowv = max(0, int(p50 * 0.8), p50 - max(1, (vmax - p50)))
	lowv = min(lowv, p50 - 1) if p50 > 0 else 0
	hs = sorted((prof[i], i) for i in range(nb) if cls[i] == "H")
	ls = [i for i in range(nb) if cls[i] == "L"]
	pr = [prof[i] for i in ls]
	plo, phi = (min(pr), max(pr)) if pr else (0, 1)
	out = [0] * nb
	for i in range(nb):
		if cls[i] == "E":
			out[i] = p50
		elif cls[i] == "L":
			f = (prof[i] - plo) / ((phi - plo) or 1.0)
			out[i] = min(p50 - 1, lowv + int((p50 - 1 - lowv) * f))
	nh = len(hs)
	for r, (_, i) in enumerate(hs):
		if r == nh - 1:
			out[i] = vmax
		else:
			f = (r + 1.0) / nh
			out[i] = min(vmax, p50 + 1 + int((vmax - p50 - 1) * (0.3 + 0.7 * f * f)))
	# the peaks at the OOM kills: swap values, the multiset stays
	if oom_blocks and nh:
		top = sorted(((out[i], i) for i in range(nb - 1) if cls[i] == "H"), reverse=True)
		for k, blk in enumerate(oom_blocks):
			j = blk - 1 - m0
			if 0 <= j < nb - 1 and k < len(top):
				i = top[k][1]
				out[i], out[j] = out[j], out[i]
	return out


# ---------------------------------------------------------------------------
# Containers

class G:
	"""Globals of one run."""
	pass


def make_globals(start, end, S, sc):
	g = G()
	g.T0, g.T1, g.S, g.sc = start, end, S, sc
	if (end - start) % S or S % sc or RATE_WINDOW % S or LOOKBACK % S or start % S:
		die("window, step and scrape interval must be aligned (step divides 300 s and the window, scrape divides step)")
	g.P1 = (end - start) // S
	g.K = RATE_WINDOW // S
	g.LB = LOOKBACK // S
	g.k = S // sc
	g.lead = LEAD_IN // S
	return g


NODES_AZ = ["a", "b", "c"]


def node_for(nodes, key):
	return nodes[h64("node", key) % len(nodes)]


def make_nodes(n, seed):
	out = []
	seen = set()
	i = j = 0
	while len(out) < n:
		x = h64("nodeip", seed, i, j)
		ip = "10.0.%d.%d" % (x % 64 + (i % 3) * 64, (x >> 8) % 250 + 2)
		j += 1
		if ip in seen:
			continue
		seen.add(ip)
		out.append({"name": "ip-%s.eu-west-1.compute.internal" % ip.replace(".", "-"), "ip": ip})
		i += 1
	return out


def container_design(g, c, verify=False):
	"""Fills c with the samples to write and the values Prometheus will answer."""
	rng = random.Random(h64("design", c["ns"], c["pod"], c["container"], g.seed))
	a, b = c["a"], c["b"]
	if a == 0:
		a = -g.lead            # alive before the window: 30 minutes of earlier samples
	c["a_eff"] = a
	nb = b - a
	exp = {}
	notes = []
	# restarts and OOM kills: at grid blocks inside the window
	R = c.get("restarts") or 0
	O = c.get("oom_kills") or 0
	if O > R:
		notes.append("oom_kills %d > restarts %d: restarts raised to %d" % (O, R, O))
		R = O
	lo_blk, hi_blk = max(a, 0) + 1, b
	events = []
	if R:
		span = hi_blk - lo_blk + 1
		if span < 1:
			notes.append("no room for restarts")
			R = O = 0
		else:
			if R <= span:
				step = span / float(R)
				events = sorted(set(lo_blk + max(0, min(span - 1, int(step * (i + 0.5) + (rng.random() - 0.5) * step * 0.6))) for i in range(R)))
				while len(events) < R:     # collisions: fill free blocks
					x = rng.randrange(lo_blk, hi_blk + 1)
					if x not in events:
						bisect.insort(events, x)
			else:
				events = sorted(lo_blk + (i % span) for i in range(R))
	c["restart_events"] = events          # sorted, one entry per restart
	c["oom_events"] = events[len(events) - O:] if O else []
	c["restarts_r"], c["oom_r"] = R, O
	c["r0"] = (h64("r0", c["pod"], c["container"]) % 4) if (c["a"] == 0 and not O and not c.get("init")) else 0
	# CPU
	fallback = False
	tg = c.get("cpu")
	if tg:
		try:
			d = CpuDesign(g, a, b, tg, rng)
			c["cpu_blocks"] = d.block_values(rng)
			exp["cpu"] = dict(tg)
		except Infeasible as e:
			fallback = True
			notes.append("cpu: " + str(e))
			c["cpu_blocks"] = natural_cpu(g, a, b, tg, rng)
	# memory
	tm = c.get("mem")
	if tm:
		try:
			c["mem_blocks"] = design_memory(g, a, b, int(tm["p50"]), int(tm["max"]), rng,
			                                oom_blocks=c["oom_events"])
			exp["mem"] = {"p50": int(tm["p50"]), "max": int(tm["max"])}
		except Infeasible as e:
			fallback = True
			notes.append("memory: " + str(e))
			c["mem_blocks"] = natural_mem(g, a, b, tm, rng)
	c["cpu_c0"] = (h64("c0", c["pod"], c["container"]) % (3600 * 10**6)) * 50 if c["a"] == 0 else \
		(c["cpu_blocks"][0] // 2 if c.get("cpu_blocks") else 0)
	# CFS throttling: periods and throttled periods, same timestamps
	ratio = c.get("throttle")
	if ratio is not None and c.get("cpu_blocks") is not None:
		cb = c["cpu_blocks"]
		top = max(cb) or 1
		per = []
		thw = []
		for x in cb:
			f = x / float(top)
			p = int(g.sc * 10 * (0.35 + 0.6 * f))   # 100 ms periods the container was runnable in
			per.append(p)
			thw.append(p * f ** 3 + 1e-9)
		# increments inside the window: blocks whose start sample is in the window
		first_in = max(0, -a)               # block index (0-based) of the first block starting at >= T-W
		k = g.k
		tot_p = sum(per[first_in:]) * k
		want = int(round(ratio * tot_p))
		thb = alloc(want, [0] * (len(per) - first_in), [w * k for w in thw[first_in:]]) or [0] * (len(per) - first_in)
		# cap at the periods of the block, spill over
		over = 0
		for i in range(len(thb)):
			capb = per[first_in + i] * k
			if thb[i] > capb:
				over += thb[i] - capb
				thb[i] = capb
		i = 0
		while over and i < len(thb):
			capb = per[first_in + i] * k
			room = capb - thb[i]
			x = min(room, over)
			thb[i] += x
			over -= x
			i += 1
		pre = [int(p * ratio) * k for p in per[:first_in]]
		c["cfs_blocks"] = per
		c["thr_blocks"] = pre + thb           # per block totals (spread over its samples)
		exp["throttle"] = (want - over) / float(tot_p) if tot_p else 0.0
	c["exp"] = exp
	c["notes"] = notes
	c["fallback"] = fallback
	if fallback or verify:
		c["sim"] = simulate(g, c)
		if fallback:
			s = c["sim"]
			if tg and s.get("cpu"):
				exp["cpu"] = {k2: round(v, 1) for k2, v in s["cpu"].items()}
			if tm and s.get("mem"):
				exp["mem"] = {"p50": int(round(s["mem"]["p50"])), "max": int(round(s["mem"]["max"]))}


def natural_cpu(g, a, b, tg, rng):
	"""A plausible series near the targets, for containers too short to hit them:
	noise around p50 with a few peaks, scaled (with the model of rate()'s edge
	extrapolation) so that the max comes out near the target."""
	nb = b - a
	shape = []
	for i in range(nb):
		x = tg["p50"] * (0.6 + 0.8 * rng.random())
		if rng.random() < 0.1 or (nb <= 4 and i == nb // 2):
			x = tg["max"] * (0.85 + 0.15 * rng.random())
		shape.append(x)
	scale = 1.0
	out = None
	for _ in range(3):
		out = [int(x * scale * g.sc * 1000) + 7 for x in shape]
		c = {"a_eff": a, "b": b, "cpu_blocks": out, "cpu_c0": out[0] // 2 if out else 0}
		T, W = g.T1, g.T1 - g.T0
		ts, vals = cpu_samples(g, c)
		r = sim_rate_points([t * 1000 for t in ts], vals, sub_points(T, W, g.S), RATE_WINDOW)
		if not r or max(r) <= 0:
			break
		scale *= tg["max"] / (max(r) * 1000)
	return out


def natural_mem(g, a, b, tm, rng):
	nb = b - max(0, a) + 1
	out = []
	p50, mx = int(tm["p50"]), int(tm["max"])
	for i in range(nb):
		out.append(int(p50 * (0.9 + 0.2 * rng.random())))
	if out:
		out[rng.randrange(len(out))] = mx
	return [min(mx, x) for x in out]


# ---------------------------------------------------------------------------
# Samples of one container (also used by the simulator)

def cpu_samples(g, c):
	"""(times in s, counter values as written) of the cpu counter."""
	a, b, k = c["a_eff"], c["b"], g.k
	t0 = g.T0 + a * g.S
	n = (b - a) * k + 1
	ts = [t0 + i * g.sc for i in range(n)]
	incs = []
	for x in c["cpu_blocks"]:
		incs.extend([x] * k) if k > 1 else incs.append(x)
	cum = itertools.accumulate(incs, initial=c["cpu_c0"])
	return ts, list(map((1e6).__rtruediv__, cum))


def mem_samples(g, c):
	a, b, k = c["a_eff"], c["b"], g.k
	# grid values for blocks max(0,a)..b; lead-in samples copy the first value
	mb = c["mem_blocks"]
	m0 = max(0, a)
	vals = []
	for blk in range(a, b + 1):
		v = mb[blk - m0] if blk >= m0 else mb[0] - (h64("lead", blk, c["pod"]) % max(1, mb[0] // 50))
		if blk == b:
			vals.append(v)
		else:
			vals.extend([v] * k) if k > 1 else vals.append(v)
	t0 = g.T0 + a * g.S
	return [t0 + i * g.sc for i in range(len(vals))], vals


def cfs_samples(g, c):
	a, b, k = c["a_eff"], c["b"], g.k
	per, thr = c["cfs_blocks"], c["thr_blocks"]
	pi, ti = [], []
	for p, th in zip(per, thr):
		q, r = divmod(th, k)
		for j in range(k):
			pi.append(p)
			ti.append(q + (1 if j < r else 0))
	base_p = (h64("cfs", c["pod"], c["container"]) % 10**7) if c["a"] == 0 else 0
	base_t = int(base_p * (c.get("throttle") or 0)) if c["a"] == 0 else 0
	P = list(itertools.accumulate(pi, initial=base_p))
	TT = list(itertools.accumulate(ti, initial=base_t))
	t0 = g.T0 + a * g.S
	return [t0 + i * g.sc for i in range(len(P))], P, TT


def restart_samples(g, c):
	a, b, k = c["a_eff"], c["b"], g.k
	t0 = g.T0 + a * g.S
	n = (b - a) * k + 1
	vals = [c["r0"]] * n
	# an event at block e: the count goes up at the sample at e*S
	for ev in c["restart_events"]:
		i = (ev - a) * k
		for j in range(i, n):
			vals[j] += 1
	return [t0 + i * g.sc for i in range(n)], vals


def restart_samples_fast(g, c):
	a, b, k = c["a_eff"], c["b"], g.k
	n = (b - a) * k + 1
	vals = []
	cur = c["r0"]
	evs = c["restart_events"]
	ei = 0
	nxt = (evs[0] - a) * k if evs else n
	i = 0
	while i < n:
		end = min(n, nxt)
		vals.append((cur, end - i))
		i = end
		while ei < len(evs) and (evs[ei] - a) * k == i:
			cur += 1
			ei += 1
		nxt = (evs[ei] - a) * k if ei < len(evs) else n
	return vals      # run-length (value, count)


def reason_segments(g, c):
	"""[(reason, first sample index, last sample index)] of last_terminated_reason."""
	a, b, k = c["a_eff"], c["b"], g.k
	n = (b - a) * k + 1
	evs, ooms = c["restart_events"], c["oom_events"]
	segs = []
	plain = evs[:len(evs) - len(ooms)]
	start_err = 0 if c["r0"] else ((plain[0] - a) * k if plain else None)
	first_oom = (ooms[0] - a) * k if ooms else None
	if start_err is not None:
		end = (first_oom - 1) if first_oom is not None else n - 1
		if end >= start_err:
			segs.append(("Error", start_err, end))
	if first_oom is not None:
		segs.append(("OOMKilled", first_oom, n - 1))
	return segs


# ---------------------------------------------------------------------------
# The simulator: what the queries of promcheck.py return for one container

def simulate(g, c):
	T, W, S = g.T1, g.T1 - g.T0, g.S
	pts = sub_points(T, W, S)
	out = {}
	if c.get("cpu_blocks") is not None:
		ts, vals = cpu_samples(g, c)
		tms = [t * 1000 for t in ts]
		r = sim_rate_points(tms, vals, pts, RATE_WINDOW)
		if r:
			out["cpu"] = {"p50": go_quantile(0.5, r) * 1000, "p95": go_quantile(0.95, r) * 1000,
			              "p99": go_quantile(0.99, r) * 1000, "max": max(r) * 1000}
	if c.get("mem_blocks") is not None:
		ts, vals = mem_samples(g, c)
		tms = [t * 1000 for t in ts]
		lb = sim_lookback(tms, vals, pts)
		if lb:
			out["mem"] = {"p50": go_quantile(0.5, [x[2] for x in lb]),
			              "max": max(v for t, v in zip(tms, vals) if (T - W) * 1000 <= t <= T * 1000)}
			out["first_seen"] = min(x[1] for x in lb) // 1000
			out["last_seen"] = max(x[1] for x in lb) // 1000
			out["samples"] = sum(1 for t in tms if (T - W) * 1000 <= t <= T * 1000)
	if c.get("cfs_blocks") is not None:
		ts, P, TT = cfs_samples(g, c)
		tms = [t * 1000 for t in ts]
		ip = sim_increase(tms, P, T, W)
		it = sim_increase(tms, TT, T, W)
		if ip:
			out["throttle"] = it / ip
	ts, rv = restart_samples(g, c)
	tms = [t * 1000 for t in ts]
	inw = [v for t, v in zip(tms, rv) if (T - W) * 1000 <= t <= T * 1000]
	if inw:
		out["restarts"] = max(inw) - min(inw)
	segs = reason_segments(g, c)
	oom_ts = []
	for reason, i0, i1 in segs:
		if reason == "OOMKilled":
			oom_ts = tms[i0:i1 + 1]
	cnt = 0
	for t in pts:
		now = sim_lookback(tms, rv, [t])
		before = sim_lookback(tms, rv, [t - S * 1000])
		if now and before and now[0][2] - before[0][2] > 0:
			if sim_lookback(oom_ts, [1] * len(oom_ts), [t]):
				cnt += now[0][2] - before[0][2]
	out["oom_kills"] = cnt
	return out


# ---------------------------------------------------------------------------
# Inputs: a usage file, or invented containers

def load_usage(path, sc):
	doc = json.load(open(path))
	win = doc["window"]
	start, end = parse_ts(win["start"]), parse_ts(win["end"])
	S = int(win.get("step_seconds") or 60)
	g = make_globals(start, end, S, sc)
	cs = []
	for e in doc["containers"]:
		fs = parse_ts(e["first_seen"]) if e.get("first_seen") else start
		ls = parse_ts(e["last_seen"]) if e.get("last_seen") else end - S
		if (fs - start) % S or (ls - start) % S:
			die("%s/%s/%s: first_seen/last_seen not on the %d s grid" % (e["namespace"], e["pod"], e["container"], S))
		c = {"ns": e["namespace"], "pod": e["pod"], "container": e["container"],
		     "owner": e.get("owner"), "a": (fs - start) // S, "b": (ls - start) // S,
		     "restarts": e.get("restarts"), "oom_kills": e.get("oom_kills"),
		     "throttle": e.get("cpu_throttled_ratio"), "entry": e}
		cm = e.get("cpu_millicores") or {}
		if all(k in cm for k in ("p50", "p95", "p99", "max")):
			c["cpu"] = {k: float(cm[k]) for k in ("p50", "p95", "p99", "max")}
		elif cm:
			die("%s/%s/%s: cpu_millicores needs p50, p95, p99 and max" % (c["ns"], c["pod"], c["container"]))
		mm = e.get("memory_bytes") or {}
		if "p50" in mm and "max" in mm:
			c["mem"] = {"p50": int(mm["p50"]), "max": int(mm["max"])}
		if c["a"] < 0 or c["b"] >= g.P1 + 1 or c["b"] < c["a"]:
			die("%s/%s/%s: first_seen/last_seen outside the window" % (c["ns"], c["pod"], c["container"]))
		want = (c["b"] - c["a"]) * g.k + 1
		if e.get("samples") is not None and e["samples"] != want and sc == S:
			print("promgen: note: %s/%s/%s: samples %d, but first_seen..last_seen every %d s makes %d"
			      % (c["ns"], c["pod"], c["container"], e["samples"], sc, want), file=sys.stderr)
		cs.append(c)
	mark_init(cs)
	return doc, g, cs


def mark_init(cs):
	"""Init containers (kube-state-metrics names their series kube_pod_init_container_*):
	in a pod of several containers, one that starts with the pod and ends at least
	5 steps before another container of the pod ends."""
	pods = {}
	for c in cs:
		pods.setdefault((c["ns"], c["pod"]), []).append(c)
	for lst in pods.values():
		if len(lst) < 2:
			continue
		first = min(c["a"] for c in lst)
		last = max(c["b"] for c in lst)
		for c in lst:
			c["init"] = c["a"] == first and c["b"] + 5 <= last and c["b"] - c["a"] < 120


NS_BASE = ["payments", "checkout", "search", "analytics", "ml", "data-platform", "web", "monitoring",
           "kube-system", "staging", "identity", "notifications", "billing", "catalog", "orders", "inventory",
           "recommendations", "media", "logistics", "support", "marketing", "reporting", "fraud", "pricing",
           "gateway", "auth", "messaging", "warehouse", "partners", "mobile-api"]
APPS = ["api", "worker", "web", "consumer", "scheduler", "gateway", "indexer", "exporter", "cache", "proxy",
        "sync", "importer", "renderer", "router", "ingest", "admin", "frontend", "backend", "grpc", "cron"]
SIDECARS = [("envoy", "docker.io/envoyproxy/envoy:v1.31.2"), ("istio-proxy", "docker.io/istio/proxyv2:1.23.2"),
            ("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.1.9"), ("oauth2-proxy", "quay.io/oauth2-proxy/oauth2-proxy:v7.7.1")]
INITS = [("wait-for-db", "docker.io/library/postgres:16.4"), ("migrate", None), ("init-config", "docker.io/library/busybox:1.36.1")]
SUFFIX = "bcdfghjklmnpqrstvwxz2456789"


def rsuffix(n, *parts):
	x = h64(*parts)
	s = ""
	for _ in range(n):
		s += SUFFIX[x % len(SUFFIX)]
		x //= len(SUFFIX)
	return s


def synthetic(n, seed, end, days, S, sc):
	start = end - days * 86400
	g = make_globals(start, end, S, sc)
	rng = random.Random(seed)
	P1 = g.P1
	nns = max(1, int(round(n / 20.0)))
	names = []
	for i in range(nns):
		base = NS_BASE[i % len(NS_BASE)]
		names.append(base if i < len(NS_BASE) else "%s-%d" % (base, i // len(NS_BASE) + 1))
	cs = []
	wl_i = 0
	used = set()

	def rnd_targets(kind):
		scale = rng.choice([2, 5, 10, 20, 50, 100, 200, 400, 800])
		p50 = round(scale * (0.3 + rng.random()), 1)
		p50 = max(p50, 0.3)
		p95 = round(p50 * (1.3 + 1.7 * rng.random()), 1)
		p99 = round(p95 * (1.05 + 0.35 * rng.random()), 1)
		mx = round(p99 * (1.05 + 0.6 * rng.random()), 1)
		p95 = max(p95, round(p50 + 0.3, 1))
		p99 = max(p99, round(p95 + 0.3, 1))
		mx = max(mx, round(p99 + 0.3, 1))
		mp50 = int(rng.choice([16, 32, 64, 128, 256, 512, 1024, 3072]) * 2**20 * (0.5 + rng.random()))
		mmax = int(mp50 * (1.05 + 0.5 * rng.random()))
		return {"p50": p50, "p95": p95, "p99": p99, "max": mx}, {"p50": mp50, "max": mmax}

	def add(ns, pod, cname, image, owner, a, b, init=False):
		cpu, mem = rnd_targets("x")
		if init:
			cpu = {k: round(v / 10, 1) or 0.1 for k, v in cpu.items()}
			cpu = {"p50": max(cpu["p50"], 0.2), "p95": max(cpu["p95"], 0.5), "p99": max(cpu["p99"], 0.8), "max": max(cpu["max"], 1.1)}
			mem = {"p50": mem["p50"] // 8, "max": mem["max"] // 8}
		c = {"ns": ns, "pod": pod, "container": cname, "image": image, "owner": owner, "a": a, "b": b,
		     "cpu": cpu, "mem": mem, "restarts": 0, "oom_kills": 0, "throttle": None, "init": init}
		x = rng.random()
		if not init:
			if x < 0.01:
				c["oom_kills"] = rng.randint(1, 4)
				c["restarts"] = c["oom_kills"] + rng.randint(0, 2)
			elif x < 0.06:
				c["restarts"] = rng.randint(1, 12)
			elif x < 0.062:
				c["restarts"] = rng.randint(500, 3000)
			if rng.random() < 0.15:
				c["throttle"] = round(0.001 + 0.45 * rng.random() ** 2, 4)
		cs.append(c)

	while len(cs) < n:
		ns = names[wl_i % nns]
		kind = rng.choices(["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Pod"], [70, 12, 8, 10, 0.5])[0]
		app = "%s-%s" % (rng.choice(APPS), rsuffix(3, "app", seed, wl_i)) if rng.random() < 0.7 else rng.choice(APPS)
		while (ns, app) in used:
			app = "%s-%s" % (rng.choice(APPS), rsuffix(3, "app", seed, wl_i, len(used)))
		used.add((ns, app))
		wl = app
		wl_i += 1
		image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/%s/%s:%d.%d.%d" % (
			ns, app, rng.randint(1, 4), rng.randint(0, 30), rng.randint(0, 9))
		sidecar = rng.choice(SIDECARS) if rng.random() < 0.2 else None
		initc = rng.choice(INITS) if rng.random() < 0.12 else None
		replicas = rng.choice([1, 1, 2, 2, 3, 4]) if kind in ("Deployment", "StatefulSet") else (rng.randint(3, 8) if kind == "DaemonSet" else 1)
		pods = []   # (pod name, owner, a, b)
		if kind == "Deployment":
			rs = "%s-%s" % (wl, rsuffix(10, "rs", seed, wl, 0))
			roll = rng.random() < 0.2
			t_roll = rng.randint(P1 // 10, P1 - P1 // 10)
			rs2 = "%s-%s" % (wl, rsuffix(10, "rs", seed, wl, 1))
			for r in range(replicas):
				pn = "%s-%s" % (rs, rsuffix(5, "pod", seed, wl, r))
				if roll:
					pods.append((pn, {"kind": "ReplicaSet", "name": rs}, 0, t_roll + 1))
					pods.append(("%s-%s" % (rs2, rsuffix(5, "pod2", seed, wl, r)), {"kind": "ReplicaSet", "name": rs2}, t_roll, P1 - 1))
				elif rng.random() < 0.1:   # evicted and replaced, same ReplicaSet
					t = rng.randint(P1 // 10, P1 - P1 // 10)
					pods.append((pn, {"kind": "ReplicaSet", "name": rs}, 0, t))
					pods.append(("%s-%s" % (rs, rsuffix(5, "pod3", seed, wl, r)), {"kind": "ReplicaSet", "name": rs}, t + 1, P1 - 1))
				else:
					pods.append((pn, {"kind": "ReplicaSet", "name": rs}, 0, P1 - 1))
		elif kind == "StatefulSet":
			for r in range(replicas):
				pods.append(("%s-%d" % (wl, r), {"kind": "StatefulSet", "name": wl}, 0, P1 - 1))
		elif kind == "DaemonSet":
			for r in range(replicas):
				pods.append(("%s-%s" % (wl, rsuffix(5, "ds", seed, wl, r)), {"kind": "DaemonSet", "name": wl}, 0, P1 - 1))
		elif kind == "Pod":     # a bare pod (no controller), like a debug notebook
			t = rng.randint(0, P1 // 2)
			pods.append(("debug-%s" % rsuffix(6, "bare", seed, wl_i), None, t, P1 - 1))
		else:
			every = rng.choice([1440, 720, 360])
			dur = rng.choice([3, 12, 35, 90])
			first = rng.randint(0, every - 1)
			for k, t in enumerate(range(first, P1 - dur - 1, every)):
				sched = (g.T0 + t * S) // 60
				job = "%s-%d" % (wl, sched)
				pods.append(("%s-%s" % (job, rsuffix(5, "job", seed, wl, k)), {"kind": "Job", "name": job}, t, t + dur - 1))
				if k >= 13:
					break
			sidecar = None
		for pn, owner, a, b in pods:
			if len(cs) >= n:
				break
			if initc and a > 0 and b - a > 10:
				add(ns, pn, initc[0], initc[1] or image, owner, a, a + 2, init=True)
				a2 = a + 2
			else:
				a2 = a
			add(ns, pn, app.split("-")[0] if kind != "CronJob" else "job", image, owner, a2 if initc else a, b)
			if sidecar and len(cs) < n:
				add(ns, pn, sidecar[0], sidecar[1], owner, a2 if initc else a, b)
	cs = cs[:n]
	doc = {"schema": "kopilot.usage/v1",
	       "window": {"start": fmt_ts(start), "end": fmt_ts(end), "step_seconds": S, "source": "prometheus"}}
	return doc, g, cs


# ---------------------------------------------------------------------------
# Writing

def esc(v):
	return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def labels(d):
	return "{" + ",".join('%s="%s"' % (k, esc(str(v))) for k, v in d.items()) + "}"


class Writer:
	def __init__(self, path, g):
		self.f = open(path, "w", buffering=1 << 24)
		self.g = g
		self.tmin = g.T0 - g.lead * g.S
		n = (g.T1 - self.tmin) // g.sc + 1
		self.TS = [" %d\n" % (self.tmin + i * g.sc) for i in range(n)]
		self.samples = 0

	def family(self, name, typ, helptext):
		self.f.write("# HELP %s %s\n# TYPE %s %s\n" % (name, helptext, name, typ))

	def idx(self, t):
		return (t - self.tmin) // self.g.sc

	def series(self, name, lab, t0, vals):
		"""vals: strings, one per sample, every scrape interval from t0."""
		p = name + labels(lab) + " "
		i0 = self.idx(t0)
		n = len(vals)
		self.f.write(p + p.join(map(str.__add__, vals, self.TS[i0:i0 + n])))
		self.samples += n

	def const_series(self, name, lab, t0, n, val="1"):
		p = name + labels(lab) + " " + val
		i0 = self.idx(t0)
		self.f.write(p + p.join(self.TS[i0:i0 + n]))
		self.samples += n

	def rle_series(self, name, lab, t0, runs):
		p = name + labels(lab) + " "
		i = self.idx(t0)
		parts = []
		for v, cnt in runs:
			pv = p + str(v)
			parts.append(pv + pv.join(self.TS[i:i + cnt]))
			i += cnt
			self.samples += cnt
		self.f.write("".join(parts))

	def close(self):
		self.f.write("# EOF\n")
		self.f.close()


LEAN = False


def cadvisor_labels(c, node, pod_cgroup=False, pause=False):
	if LEAN:
		return {"container": "" if pod_cgroup else ("POD" if pause else c["container"]),
		        "instance": node["ip"] + ":10250", "job": "kubelet", "metrics_path": "/metrics/cadvisor",
		        "namespace": c["ns"], "pod": c["pod"]}
	qos = "burstable"
	puid = c["pod_uid"].replace("-", "_")
	if pod_cgroup:
		return {"container": "", "id": "/kubepods.slice/kubepods-%s.slice/kubepods-%s-pod%s.slice" % (qos, qos, puid),
		        "image": "", "instance": node["ip"] + ":10250", "job": "kubelet", "metrics_path": "/metrics/cadvisor",
		        "name": "", "namespace": c["ns"], "pod": c["pod"]}
	cid = hexid(64, "cid", c["ns"], c["pod"], c["container"] if not pause else "POD")
	return {"container": c["container"] if not pause else "POD",
	        "id": "/kubepods.slice/kubepods-%s.slice/kubepods-%s-pod%s.slice/cri-containerd-%s.scope" % (qos, qos, puid, cid),
	        "image": c["image"] if not pause else "registry.k8s.io/pause:3.9",
	        "instance": node["ip"] + ":10250", "job": "kubelet", "metrics_path": "/metrics/cadvisor",
	        "name": cid, "namespace": c["ns"], "pod": c["pod"]}


def ksm_labels(c, extra=None):
	d = {"container": c["container"], "instance": "10.0.7.41:8080", "job": "kube-state-metrics",
	     "namespace": c["ns"], "pod": c["pod"], "uid": c["pod_uid"]}
	if extra:
		d.update(extra)
	return d


def write_om(path, g, cs, nodes, node_series):
	w = Writer(path, g)
	S, k = g.S, g.k

	def t_first(c):
		return g.T0 + c["a_eff"] * S

	pods = {}
	for c in cs:
		pods.setdefault((c["ns"], c["pod"]), []).append(c)
	# cAdvisor
	w.family("container_cpu_usage_seconds", "counter", "Cumulative cpu time consumed in seconds.")
	for c in cs:
		if c.get("cpu_blocks") is None:
			continue
		ts, vals = cpu_samples(g, c)
		w.series("container_cpu_usage_seconds_total", cadvisor_labels(c, c["node_d"]), ts[0], list(map(repr, vals)))
	pod_cpu = {}
	for key, lst in pods.items():   # the pod's cgroup (container=""): sum of its containers
		if not lst[0]["pod_cgroup"]:
			continue
		a = min(c["a_eff"] for c in lst)
		b = max(c["b"] for c in lst)
		acc = [0] * ((b - a) * k)
		for c in lst:
			if c.get("cpu_blocks") is None:
				continue
			off = (c["a_eff"] - a) * k
			i = off
			for x in c["cpu_blocks"]:
				for _ in range(k):
					acc[i] += x
					i += 1
		vals = list(map((1e6).__rtruediv__, itertools.accumulate([x + 1500 * g.sc for x in acc], initial=lst[0].get("cpu_c0", 0) + 10**6)))
		w.series("container_cpu_usage_seconds_total", cadvisor_labels(lst[0], lst[0]["node_d"], pod_cgroup=True),
		         g.T0 + a * S, list(map(repr, vals)))
		pod_cpu[key] = (a, b)
	for c in cs:
		if c.get("pause"):
			a, b = c["pod_span"]
			n = (b - a) * k + 1
			w.series("container_cpu_usage_seconds_total", cadvisor_labels(c, c["node_d"], pause=True), g.T0 + a * S,
			         [repr((h64("pause", c["pod"]) % 1000 + i * 0.0005 * g.sc)) for i in range(n)])
	for nd in node_series:
		n = (g.P1 + g.lead) * k + 1
		w.series("container_cpu_usage_seconds_total", {"id": "/", "instance": nd["ip"] + ":10250", "job": "kubelet",
		         "metrics_path": "/metrics/cadvisor"}, w.tmin,
		         [repr(10**6 + i * 1.7 * g.sc) for i in range(n)])
	w.family("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes")
	for c in cs:
		if c.get("mem_blocks") is None:
			continue
		ts, vals = mem_samples(g, c)
		w.series("container_memory_working_set_bytes", cadvisor_labels(c, c["node_d"]), ts[0], list(map(str, vals)))
	for key, lst in pods.items():
		if not lst[0]["pod_cgroup"]:
			continue
		a = min(c["a_eff"] for c in lst)
		b = max(c["b"] for c in lst)
		acc = [2 * 2**20] * ((b - a) * k + 1)
		for c in lst:
			if c.get("mem_blocks") is None:
				continue
			ts, vals = mem_samples(g, c)
			off = (c["a_eff"] - a) * k
			for i, v in enumerate(vals):
				acc[off + i] += v
		w.series("container_memory_working_set_bytes", cadvisor_labels(lst[0], lst[0]["node_d"], pod_cgroup=True),
		         g.T0 + a * S, list(map(str, acc)))
	for c in cs:
		if c.get("pause"):
			a, b = c["pod_span"]
			w.const_series("container_memory_working_set_bytes", cadvisor_labels(c, c["node_d"], pause=True),
			               g.T0 + a * S, (b - a) * k + 1, str(294912 + h64("pausemem", c["pod"]) % 100000))
	for nd in node_series:
		n = (g.P1 + g.lead) * k + 1
		w.const_series("container_memory_working_set_bytes", {"id": "/", "instance": nd["ip"] + ":10250", "job": "kubelet",
		               "metrics_path": "/metrics/cadvisor"}, w.tmin, n, str(9 * 2**30))
	w.family("container_cpu_cfs_periods", "counter", "Number of elapsed enforcement period intervals.")
	for c in cs:
		if c.get("cfs_blocks") is None:
			continue
		ts, P, TT = cfs_samples(g, c)
		w.series("container_cpu_cfs_periods_total", cadvisor_labels(c, c["node_d"]), ts[0], list(map(str, P)))
	w.family("container_cpu_cfs_throttled_periods", "counter", "Number of throttled period intervals.")
	for c in cs:
		if c.get("cfs_blocks") is None:
			continue
		ts, P, TT = cfs_samples(g, c)
		w.series("container_cpu_cfs_throttled_periods_total", cadvisor_labels(c, c["node_d"]), ts[0], list(map(str, TT)))
	# kube-state-metrics
	for fam, init in (("kube_pod_container_status_restarts", False), ("kube_pod_init_container_status_restarts", True)):
		w.family(fam, "counter", "The number of container restarts per container.")
		for c in cs:
			if bool(c.get("init")) != init:
				continue
			w.rle_series(fam + "_total", ksm_labels(c), t_first(c), restart_samples_fast(g, c))
	for fam, init in (("kube_pod_container_status_last_terminated_reason", False),
	                  ("kube_pod_init_container_status_last_terminated_reason", True)):
		w.family(fam, "gauge", "Describes the last reason the container was in terminated state.")
		for c in cs:
			if bool(c.get("init")) != init:
				continue
			for reason, i0, i1 in reason_segments(g, c):
				w.const_series(fam, ksm_labels(c, {"reason": reason}), t_first(c) + i0 * g.sc, i1 - i0 + 1)
	w.family("kube_pod_owner", "gauge", "Information about the Pod's owner.")
	for key, lst in pods.items():
		c = lst[0]
		a = min(x["a_eff"] for x in lst)
		b = max(x["b"] for x in lst)
		o = c.get("owner")
		lab = {"instance": "10.0.7.41:8080", "job": "kube-state-metrics", "namespace": c["ns"], "pod": c["pod"], "uid": c["pod_uid"]}
		if o:
			lab.update({"owner_is_controller": "true", "owner_kind": o["kind"], "owner_name": o["name"]})
		else:
			lab.update({"owner_is_controller": "<none>", "owner_kind": "<none>", "owner_name": "<none>"})
		w.const_series("kube_pod_owner", lab, g.T0 + a * S, (b - a) * k + 1)
	w.close()
	return w.samples


# ---------------------------------------------------------------------------

def expected_entry(g, c, orig=None):
	e = dict(orig) if orig else {}
	e["namespace"], e["pod"], e["container"] = c["ns"], c["pod"], c["container"]
	if c.get("owner"):
		e["owner"] = c["owner"]
	e["first_seen"] = fmt_ts(g.T0 + c["a"] * g.S)
	e["last_seen"] = fmt_ts(g.T0 + c["b"] * g.S)
	e["samples"] = (c["b"] - c["a"]) * g.k + 1
	x = c["exp"]
	if "cpu" in x:
		e["cpu_millicores"] = {k: x["cpu"][k] for k in ("p50", "p95", "p99", "max")}
	if "mem" in x:
		e["memory_bytes"] = {"p50": x["mem"]["p50"], "max": x["mem"]["max"]}
	e["oom_kills"] = c["oom_r"]
	e["restarts"] = c["restarts_r"]
	if "throttle" in x:
		if orig is None or "cpu_throttled_ratio" not in orig or abs(orig["cpu_throttled_ratio"] - x["throttle"]) > 0.001:
			e["cpu_throttled_ratio"] = round(x["throttle"], 4)
	else:
		e.pop("cpu_throttled_ratio", None)
	return e


def verify(g, c):
	"""Compare the simulation with the expected entry; list the differences."""
	s = c["sim"]
	x = c["exp"]
	bad = []
	if "cpu" in x:
		for k in ("p50", "p95", "p99", "max"):
			if abs(s["cpu"][k] - x["cpu"][k]) > 0.05 + 1e-6:
				bad.append("cpu %s %.4f != %.1f" % (k, s["cpu"][k], x["cpu"][k]))
	if "mem" in x:
		for k in ("p50", "max"):
			if int(round(s["mem"][k])) != x["mem"][k]:
				bad.append("memory %s %s != %d" % (k, s["mem"][k], x["mem"][k]))
	if s.get("first_seen") != g.T0 + c["a"] * g.S:
		bad.append("first_seen %s" % s.get("first_seen"))
	if s.get("last_seen") != g.T0 + c["b"] * g.S:
		bad.append("last_seen %s" % s.get("last_seen"))
	if s.get("samples") != (c["b"] - c["a"]) * g.k + 1:
		bad.append("samples %s" % s.get("samples"))
	if s.get("restarts") != c["restarts_r"]:
		bad.append("restarts %s != %s" % (s.get("restarts"), c["restarts_r"]))
	if s.get("oom_kills") != c["oom_r"]:
		bad.append("oom %s != %s" % (s.get("oom_kills"), c["oom_r"]))
	if "throttle" in x and abs(s.get("throttle", -1) - x["throttle"]) > 0.0005:
		bad.append("throttle %s != %s" % (s.get("throttle"), x["throttle"]))
	return bad


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--usage", help="kopilot.usage/v1 file to reproduce")
	ap.add_argument("--out", required=True, help="OpenMetrics file to write")
	ap.add_argument("--scrape", type=int, default=60, help="scrape interval in seconds (divides the step)")
	ap.add_argument("--expect-out", help="write the usage file as Prometheus will answer it")
	ap.add_argument("--synthetic", type=int, help="invent this many containers")
	ap.add_argument("--seed", type=int, default=1)
	ap.add_argument("--end", default="2026-11-25T06:00:00Z")
	ap.add_argument("--days", type=int, default=14)
	ap.add_argument("--step", type=int, default=60, help="synthetic: step_seconds of the usage")
	ap.add_argument("--usage-out", help="synthetic: the expected usage file")
	ap.add_argument("--shard", default="0/1", help="I/K: write only the pods of shard I of K")
	ap.add_argument("--verify", action="store_true", help="check every value with promgen's model of Prometheus")
	ap.add_argument("--lean", action="store_true", help="cAdvisor series without id, image and name labels "
	                "(half the bytes: backfill about twice as fast)")
	ap.add_argument("--quiet", action="store_true")
	args = ap.parse_args()
	t_start = time.time()
	global LEAN
	LEAN = args.lean
	si, sk = (int(x) for x in args.shard.split("/"))
	if not 0 <= si < sk:
		die("--shard I/K needs 0 <= I < K")
	if bool(args.usage) == bool(args.synthetic):
		die("give --usage FILE or --synthetic N")
	if args.usage:
		doc, g, cs = load_usage(args.usage, args.scrape)
		seed = 0
		for c in cs:
			c["image"] = image_guess(c)
	else:
		doc, g, cs = synthetic(args.synthetic, args.seed, parse_ts(args.end), args.days, args.step, args.scrape)
		seed = args.seed
	g.seed = seed
	seen = set()
	for c in cs:
		key = (c["ns"], c["pod"], c["container"])
		if key in seen:
			die("%s/%s/%s appears twice" % key)
		seen.add(key)
	nodes = make_nodes(max(3, len(cs) // 30), seed)
	pods = {}
	for c in cs:
		pods.setdefault((c["ns"], c["pod"]), []).append(c)
	pod_keys = list(pods)
	for pi, key in enumerate(pod_keys):
		lst = pods[key]
		uid = uid_of("pod", key[0], key[1])
		nd = node_for(nodes, key[1])
		pc = h64("podcg", key[0], key[1]) % 4 == 0   # the pod's own cgroup (container=""), 1 pod in 4
		pause = h64("pause?", key[1]) % 20 == 0
		span = (min(c["a"] for c in lst), max(c["b"] for c in lst))
		for j, c in enumerate(lst):
			c["pod_uid"], c["node_d"], c["pod_cgroup"] = uid, nd, pc and j == 0
			c["shard"] = pi % sk
			c["pause"] = pause and j == 0
	mine = [c for c in cs if c["shard"] == si]
	need_all = bool(args.usage_out or args.expect_out)
	todo = cs if need_all else mine
	t0 = time.time()
	bad_total = 0
	for c in todo:
		container_design(g, c, verify=args.verify and c["shard"] == si)
	for c in mine:
		a = min(x["a_eff"] for x in pods[(c["ns"], c["pod"])])
		b = max(x["b"] for x in pods[(c["ns"], c["pod"])])
		c["pod_span"] = (a, b)
	t_design = time.time() - t0
	fallbacks = [c for c in todo if c["fallback"]]
	if args.verify:
		for c in mine:
			bad = verify(g, c)
			if bad:
				bad_total += 1
				print("promgen: verify: %s/%s/%s: %s" % (c["ns"], c["pod"], c["container"], "; ".join(bad)), file=sys.stderr)
	if fallbacks and args.usage and not args.quiet:
		print("promgen: %d container(s) do not get their usage values (short-lived); they get a plausible "
		      "series near them, and --expect-out has what Prometheus answers for it:" % len(fallbacks), file=sys.stderr)
		for c in fallbacks:
			print("  %s/%s/%s (%d samples): %s" % (c["ns"], c["pod"], c["container"], (c["b"] - c["a"]) * g.k + 1,
			      "; ".join(c["notes"])), file=sys.stderr)
	# expected usage
	if need_all:
		ents = []
		for c in cs:
			ents.append(expected_entry(g, c, c.get("entry")))
		out = dict(doc)
		out["containers"] = ents
		path = args.expect_out or args.usage_out
		with open(path + ".tmp", "w") as f:
			json.dump(out, f, indent=1, sort_keys=True)
			f.write("\n")
		os.replace(path + ".tmp", path)
	t1 = time.time()
	node_series = nodes if si == 0 else []
	n = write_om(args.out + ".tmp", g, mine, nodes, node_series)
	os.replace(args.out + ".tmp", args.out)
	t_write = time.time() - t1
	if not args.quiet:
		print("promgen: %d containers (%d in this shard), %d samples, %.1f MB; design %.1f s, write %.1f s, total %.1f s"
		      % (len(cs), len(mine), n, os.path.getsize(args.out) / 1e6, t_design, t_write, time.time() - t_start),
		      file=sys.stderr)
		if fallbacks and not args.usage:
			print("promgen: %d short-lived container(s) got a plausible series and the values promgen's model of "
			      "Prometheus computes for it" % len(fallbacks), file=sys.stderr)
	if bad_total:
		print("promgen: verify: %d container(s) differ" % bad_total, file=sys.stderr)
		sys.exit(1)


def image_guess(c):
	e = c.get("entry") or {}
	return "123456789012.dkr.ecr.eu-west-1.amazonaws.com/%s/%s:1.%d.%d" % (
		c["ns"], c["container"], h64("img", c["ns"], c["container"]) % 40, h64("img2", c["container"]) % 10)


if __name__ == "__main__":
	main()
