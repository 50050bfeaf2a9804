#!/usr/bin/python3
"""
gencluster.py - seeded cluster generator with planted findings, for the
quality test (tests/e2e/quality.sh) and the benchmarks.

    /usr/bin/python3 tests/gen/gencluster.py --seed N --out DIR [--scale K] [--now RFC3339]

Writes DIR/objects/<resource>.json (what `kubectl get <resource> -A -o json`
prints: a List, compact JSON; verticalpodautoscalers.json as a
VerticalPodAutoscalerList), DIR/usage.json (kopilot.usage/v1) and
DIR/expected.json:
    {"now": ..., "seed": N, "scale": K,
     "findings":    [{category, namespace, kind, name, container}, ...],
     "not_flagged": [{category, namespace, kind, name, container, why}, ...],
     "skipped":     [{namespace, kind, name, why[, reason]}, ...],
     "memory_floors":   [{namespace, kind, name, container, min_request_bytes, why, finding}, ...],
     "memory_requests": [{namespace, kind, name, container, memory_request_bytes, why,
                          evidence, no_evidence, mentions}, ...],
     "cpu_requests":    [{namespace, kind, name, container, cpu_request_millicores, why,
                          evidence, no_evidence}, ...],
     "requests_owners": [{namespace, kind, name, container, managed_by: {kind, name} | null, why}, ...],
     "node_risks":      [{name, risk, pods_not_evictable, why}, ...]}
"findings" is exactly what kopilot must report (per category, precision and
recall 1.0); "not_flagged" are the near misses (listed so a failure names the
case; a finding on one of them is also a false positive); "skipped" are
objects kopilot must list under `skipped` (short history, kopilot.io/ignore),
with a "reason" its skip must contain where one is given (a list: all of
them); "memory_floors": a rightsizing finding of that container, if any (and
one must exist when "finding" is true), recommends at least
min_request_bytes of memory (a language runtime's heap setting);
"memory_requests" / "cpu_requests": the finding of that container recommends
exactly memory_request_bytes / cpu_request_millicores, carries the
"evidence" metrics (the first naming one of "mentions") and none of
"no_evidence"; "requests_owners": the finding of that container names its
operator's resource in resource.managed_by, has no command and has
requests_owner evidence (managed_by null: none of that, and a command);
"node_risks": the node's underutilized-node finding has that risk and
pods_not_evictable evidence of that value (none when 0)
(tests/gen/score.py checks all of it).

The cluster is copies of one "cell" (each copy gets its own namespaces and
nodes, suffixed -<k> for k > 0), plus cluster-wide DaemonSets. One cell holds
about 290 pods; --scale 1 (default) is one cell, --scale K > 1 is
round(0.51*K) cells, so --scale K is about 150*K pods and --scale 1000 is the
~150,000-pod benchmark cluster (~55 s, compact JSON).
Per cell, for every category (rule specs: /work/briefs/rule-specs.md and the
header comments of stages/analyze/rules/*.c), several planted instances with
random sizes/names/namespaces (some in kube-system, so blocking of destructive
actions in protected namespaces is exercised), and near misses:
  over-/under-provisioned vs well-sized, borderline (reduction ~15% < 20%),
  savings just under $1, short history (< 24h: skipped), spiky memory (p50 low,
  max high: memory must stay >= max), HPA targets, ignored objects;
  idle vs a burst above the CPU-max threshold, young, restarting;
  zero-replica StatefulSet holding claims (those claims are NOT orphans),
  zero-replica Deployment holding a claim or a LoadBalancer (that LB is not
  also an idle-loadbalancer finding), one holding nothing, a young one;
  orphaned PVCs vs mounted, CronJob-referenced, fresh, Pending, scaled-down
  StatefulSet ordinals, ignored;
  unbound PVs (Released/Available/Failed) vs Bound, fresh, ignored;
  idle LoadBalancers vs ready endpoints, fresh, selector-less (skipped), ignored;
  finished Jobs vs CronJob-owned, TTL, fresh, running, ignored;
  underutilized nodes vs nodes at ~60% requested, a control-plane node, and a
  near-empty node whose one big pod would only fit on tainted nodes; what the
  cluster autoscaler and Karpenter are told: two nodes that would be findings
  but say scale-down-disabled "true" / karpenter.sh/do-not-disrupt "true"
  (skipped, naming the annotation) vs nodes saying "false" (findings); pods
  that must move saying safe-to-evict "false" (one or two) or
  karpenter.sh/do-not-disrupt "true" (risk CRITICAL, pods_not_evictable
  evidence) vs safe-to-evict "true" and kube-proxy's DaemonSet pods saying
  safe-to-evict "false" on every node (they stay: risk HIGH);
  OOM kills in the pods' status (rightsizing.oom_history_days, 30): memory
  over-provisioned by usage but OOMKilled at the current limit 15-27 days ago
  (lastState, before the window), CPU well-sized (skipped: "memory not
  lowered") or over-provisioned too (a finding that keeps the memory request,
  evidence oom_killed_at_limit), vs look-alikes lowered as usual: Error exit 1
  at the current limit, exit 137 with reason Error at the current limit,
  OOMKilled at an older lower limit (a paused rollout's previous ReplicaSet),
  OOMKilled ~60 days ago;
  language runtimes' heap settings (floor = heap + max(25%, 128Mi)): -Xmx in
  JAVA_TOOL_OPTIONS, NODE_OPTIONS --max-old-space-size, GOMEMLIMIT in MiB, a
  hex .NET GCHeapHardLimit and one more JVM spelling (args, sh -c, another
  options variable, several settings: the largest counts) whose floor lies
  between the usage target and the request (memory lowered to the floor,
  evidence runtime_memory); -XX:MaxRAMPercentage=75 with a limit and without
  one (memory kept, CPU lowered); a floor just under or above the request
  with memory the only change (no finding); look-alikes with a small heap,
  GOMEMLIMIT=off or a small .NET heap percentage (the usage target wins);
  VerticalPodAutoscalers (objects/verticalpodautoscalers.json): one in an
  updating mode owns the requests it controls: over-provisioned workloads
  under one (no updatePolicy, another mode on a StatefulSet, no
  recommendation yet, one targeting the operator's custom resource that
  controls the StatefulSet, a container's own policy winning over "*" mode
  Off) are skipped ("set by VerticalPodAutoscaler <name>", "updateMode
  <mode>"); controlledResources [cpu] or [memory] on a container
  over-provisioned on both: the other request lowered, this one kept
  (vpa_owner evidence); a "*" policy owning a sidecar while the app's own
  entry says mode Off (the app sized as usual, the sidecar not at all); a VPA
  in another namespace naming the workload changes nothing; updateMode Off
  is input (vpa_recommendation evidence): lowerBounds above kopilot's
  targets raise them (rounded up to 5m / 1Mi), one near the request leaves
  no significant reduction (no finding), ones well under change nothing;
  workloads controlled by an operator's custom resource (a Prometheus
  StatefulSet, a Deployment of Grafana, Jaeger or KafkaConnect): the same
  sizes, no command, resource.managed_by and requests_owner evidence, vs the
  same ownerReference with controller false (an ordinary finding).
Every planted value stays at least 10% (relative) away from every threshold
it is compared with; rightsizing cases are drawn by rejection sampling
against a Python model of the rule (judge(), with the OOM hold, the runtime
floor, a VPA's lowerBound floor and the resources a VPA owns) that checks
those margins; up to 10 cells, check_nodes() runs a Python model of the
node simulation and fails unless it removes exactly the planted nodes.

Deterministic for a given --seed/--scale/--now (random.Random(seed)).
Python 3 standard library only.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import uuid

UTC = dt.timezone.utc
MI = 2**20
GI = 2**30

# kopilot defaults (pipeline/config.c, docs/configuration.md)
CPU_MARGIN, MEM_MARGIN = 0.15, 0.20
CPU_FLOOR, MEM_FLOOR = 10, 32 * MI
MIN_REL, MIN_CPU, MIN_MEM = 0.20, 50, 64 * MI
MIN_SAVINGS = 1.0
CPU_PRICE, MEM_PRICE, HOURS = 0.031611, 0.004237, 730
MARGIN = 0.10
RT_RATIO, RT_MIN = 0.25, 128 * MI  # rightsizing.runtime_overhead_ratio, rightsizing.runtime_overhead_min
OOM_HISTORY_DAYS = 30  # rightsizing.oom_history_days
MAX_REQUESTED = 0.5  # nodes.max_requested_ratio
VPA_UPDATING = ["Auto", "Recreate", "Initial", "InPlaceOrRecreate"]  # VPA update modes that own what they control
# node and pod annotations of the cluster autoscaler and Karpenter (underutilized_node.c)
CA_SCALE_DOWN_DISABLED = "cluster-autoscaler.kubernetes.io/scale-down-disabled"
CA_SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict"
KARPENTER_DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
PROTECTED = ("kube-system", "kube-public", "kube-node-lease")
REGION = "eu-west-1"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

# node shapes: allocatable cpu m, allocatable memory bytes, capacity cpu, capacity memory Ki
SHAPES = {
	"m5.xlarge": (3920, 14880256 * 1024, "4", "15896064Ki"),
	"m5.2xlarge": (7910, 30932216 * 1024, "8", "31948024Ki"),
	"m5.4xlarge": (15890, 63010828 * 1024, "16", "64026636Ki"),
	"m5.8xlarge": (31850, 127217328 * 1024, "32", "130233136Ki"),
}


class Fail(Exception):
	pass


SAFE = "bcdfghjklmnpqrstvwxz2456789"


def ts(t):
	return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (t.year, t.month, t.day, t.hour, t.minute, t.second)


def fmt_cpu(m):
	return "%d" % (m // 1000) if m % 1000 == 0 else "%dm" % m


def fmt_mem(b):
	if b % GI == 0:
		return "%dGi" % (b // GI)
	if b % MI == 0:
		return "%dMi" % (b // MI)
	return str(b)


def roundup(v, step):
	return int(math.ceil(v / step)) * step


def far(value, threshold):
	"""value at least MARGIN (relative) away from threshold."""
	if threshold == 0:
		return abs(value) > 1e-9
	return abs(value - threshold) >= MARGIN * abs(threshold)


def runtime_floor(heap):
	"""The memory a language runtime allowed `heap` bytes of heap needs (rightsizing.runtime_overhead_ratio 0.25,
	rightsizing.runtime_overhead_min 128Mi): heap + max(heap * 0.25, 128Mi), rounded up to a whole Mi."""
	return roundup(heap + max(heap * RT_RATIO, RT_MIN), MI)


def judge(c, replicas, batch=False):
	"""Python model of rightsizing.c for one container (regular containers).
	Returns (category or None, savings, margins_ok)."""
	return judge_detail(c, replicas, batch)[:3]


def judge_detail(c, replicas, batch=False):
	"""judge() and how it got there: (category, savings, margins_ok, info), info = {cpu_usage_target, cpu_target
	(after a VPA's lowerBound), mem_usage_target (peak based), mem_target (after the runtime floor and a VPA's
	lowerBound), cpu_over, mem_over, cpu_over_by_usage, mem_over_by_usage (before the floors, the hold and a
	VPA's ownership), rec_cpu, rec_mem (the recommended requests of an over-provisioned finding)}.
	c["floor"]: a language runtime's memory floor (bytes; the target is raised to it); c["mem_hold"]: memory is
	never lowered (an OOM kill at the current limit in the pod's status, a heap percentage without a limit);
	c["vpa_floor"]: (cpu m, memory bytes) of an updateMode "Off" VPA's lowerBound, rounded up to 5m / 1Mi (None
	each: no bound), a floor under the targets; c["vpa_owned"]: the resources ("cpu", "memory") an updating VPA
	controls for this container: never changed."""
	ok = True
	ref, peak = c["use"]["p95"], c["use"]["mem_max"]
	oom = c["use"].get("oom", 0)
	rc, rm = c["cpu"], c["mem"]
	ct = roundup(max(ref * (1 + CPU_MARGIN), CPU_FLOOR), 5)
	ct_usage = ct
	mt = roundup(max(peak * (1 + MEM_MARGIN), MEM_FLOOR), MI)
	if oom:
		at = c["use"].get("lim_at_oom") or c.get("mem_lim") or peak
		mt = max(mt, roundup(max(at * 1.2, peak + 100 * MI), MI))
	mt_usage = mt
	floor = c.get("floor")
	if floor is not None:
		ok &= far(floor, mt_usage)  # which of the two wins is never in doubt
		mt = max(mt, floor)
	vcpu, vmem = c.get("vpa_floor") or (None, None)
	if vcpu is not None:
		ok &= far(vcpu, ct)
		ct = max(ct, vcpu)
	if vmem is not None:
		ok &= far(vmem, mt)
		mt = max(mt, vmem)
	owned = c.get("vpa_owned") or ()
	mem_under = oom > 0 or (rm is not None and peak > rm)
	if rm is not None and not oom:
		ok &= far(peak, rm)
	cpu_under = rc is not None and ref > rc and ct - rc >= MIN_CPU
	if rc is not None:
		ok &= far(ref, rc) and far(ct - rc, MIN_CPU)

	def sig(cur, tgt, mn):
		nonlocal ok
		if cur is None:
			return False
		diff = cur - tgt
		ok &= far(diff, mn) and far(diff / cur, MIN_REL)
		return tgt < cur and diff >= mn and diff / cur >= MIN_REL

	cpu_over_by_usage = sig(rc, ct_usage, MIN_CPU) and not cpu_under
	cpu_over = sig(rc, ct, MIN_CPU) and not cpu_under and "cpu" not in owned
	mem_over_by_usage = sig(rm, mt_usage, MIN_MEM) and not mem_under
	mem_over = sig(rm, mt, MIN_MEM) and not mem_under and not c.get("mem_hold") and "memory" not in owned
	info = {"cpu_usage_target": ct_usage, "cpu_target": ct, "mem_usage_target": mt_usage, "mem_target": mt,
	        "cpu_over": cpu_over, "mem_over": mem_over, "cpu_over_by_usage": cpu_over_by_usage,
	        "mem_over_by_usage": mem_over_by_usage, "rec_cpu": ct if cpu_over else rc, "rec_mem": mt if mem_over else rm}
	if mem_under or cpu_under:
		return "under-provisioned", 0.0, ok, info
	if not cpu_over and not mem_over:
		return None, 0.0, ok, info
	dc = (rc - ct) if cpu_over else 0
	dm = (rm - mt) if mem_over else 0
	sav = (dc / 1000 * CPU_PRICE + dm / GI * MEM_PRICE) * HOURS * replicas
	ok &= far(sav, MIN_SAVINGS)
	return ("over-provisioned" if sav >= MIN_SAVINGS else None), sav, ok, info


class Gen:
	def __init__(self, seed, scale, now):
		self.rng = random.Random(seed)
		self.seed, self.scale, self.now = seed, scale, now
		self.wstart = now - dt.timedelta(days=14)
		self.last_sample = now - dt.timedelta(seconds=60)
		self.obj = {r: [] for r in (
			"pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs",
			"persistentvolumeclaims", "persistentvolumes", "services", "endpointslices", "nodes",
			"horizontalpodautoscalers", "verticalpodautoscalers", "namespaces", "storageclasses")}
		self.usage = []
		self.expected, self.not_flagged, self.skipped = [], [], []
		self.memory_floors, self.memory_requests, self.cpu_requests = [], [], []
		self.requests_owners, self.node_risks = [], []
		self.held_nodes = []  # nodes that would be underutilized-node findings, but the autoscaler may not remove
		self.running = []  # (pod, cpu, mem) of every running pod, for the node simulation (check_nodes)
		self.nodes = {}  # name -> dict(alloc_cpu, alloc_mem, cpu, mem, pool, taint)
		self.node_seq = {}
		self.names = set()
		self.vpa_names = set()
		self.uidn = 0

	# ------------------------------------------------------------------ helpers
	def uid(self):
		return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

	def suffix(self, n=5):
		# k8s.io/apimachinery/pkg/util/rand alphabet (27 letters): one getrandbits call, base-27 digits
		v = self.rng.getrandbits(5 * n)
		out = []
		for _ in range(n):
			v, r = divmod(v, 27)
			out.append(SAFE[r])
		return "".join(out)

	def ago(self, days=0, hours=0, minutes=0):
		return self.now - dt.timedelta(days=days, hours=hours, minutes=minutes)

	def uniq(self, ns, base):
		name = base
		i = 2
		while (ns, name) in self.names:
			name = "%s-%d" % (base, i)
			i += 1
		self.names.add((ns, name))
		return name

	def meta(self, ns, name, created, labels=None, annotations=None, owner=None):
		"""owner: (apiVersion, kind, name, uid[, controller]): one ownerReference, the controller unless told."""
		m = {"name": name, "uid": self.uid(), "creationTimestamp": ts(created),
		     "resourceVersion": str(self.rng.randint(10**7, 10**8))}
		if ns is not None:
			m["namespace"] = ns
		if labels:
			m["labels"] = dict(labels)
		if annotations:
			m["annotations"] = dict(annotations)
		if owner:
			m["ownerReferences"] = [{"apiVersion": owner[0], "kind": owner[1], "name": owner[2], "uid": owner[3],
			                         "controller": owner[4] if len(owner) > 4 else True, "blockOwnerDeletion": True}]
		return m

	def expect(self, category, ns, kind, name, container=None):
		self.expected.append({"category": category, "namespace": ns, "kind": kind, "name": name,
		                      "container": container})

	def near(self, category, ns, kind, name, why, container=None):
		self.not_flagged.append({"category": category, "namespace": ns, "kind": kind, "name": name,
		                         "container": container, "why": why})

	def skip(self, ns, kind, name, why, reason=None):
		"""reason: what kopilot's skip must say (a string, or a list of strings it must all contain)."""
		e = {"namespace": ns, "kind": kind, "name": name, "why": why}
		if reason:
			e["reason"] = reason
		self.skipped.append(e)

	def memory_floor(self, ns, kind, name, container, min_request, why, finding):
		self.memory_floors.append({"namespace": ns, "kind": kind, "name": name, "container": container,
		                           "min_request_bytes": int(min_request), "why": why, "finding": finding})

	def memory_request(self, ns, kind, name, container, request, why, evidence=(), no_evidence=(), mentions=()):
		self.memory_requests.append({"namespace": ns, "kind": kind, "name": name, "container": container,
		                             "memory_request_bytes": int(request), "why": why, "evidence": list(evidence),
		                             "no_evidence": list(no_evidence), "mentions": list(mentions)})

	def cpu_request(self, ns, kind, name, container, request, why, evidence=(), no_evidence=()):
		self.cpu_requests.append({"namespace": ns, "kind": kind, "name": name, "container": container,
		                          "cpu_request_millicores": int(request), "why": why, "evidence": list(evidence),
		                          "no_evidence": list(no_evidence)})

	def sizes(self, ns, kind, name, c, why, evidence=(), no_evidence=()):
		"""The rightsizing finding of container c recommends exactly judge()'s CPU and memory requests and has the
		evidence (checked once, with the CPU request)."""
		j = c["judged"]
		self.cpu_request(ns, kind, name, c["name"], j["rec_cpu"], why, evidence, no_evidence)
		self.memory_request(ns, kind, name, c["name"], j["rec_mem"], why)

	def requests_owner(self, ns, kind, name, container, owner, why):
		"""owner (kind, name): the finding's resource.managed_by, no command, requests_owner evidence; None: none
		of those, and a command."""
		self.requests_owners.append({"namespace": ns, "kind": kind, "name": name, "container": container,
		                             "managed_by": {"kind": owner[0], "name": owner[1]} if owner else None,
		                             "why": why})

	def node_risk(self, name, risk, not_evictable, why):
		self.node_risks.append({"name": name, "risk": risk, "pods_not_evictable": not_evictable, "why": why})

	# ------------------------------------------------------------------ nodes
	def add_node(self, pool, shape, taints=None, labels=None, created=None, ann=None):
		# The second octet encodes the pool, so name order (first-fit order of
		# the node simulation) is: control plane < main < tainted < spare < trap.
		octet = {"cp": 0, "main": 1, "tainted": 3, "spare": 5, "trap": 7}[pool]
		n = self.node_seq.get(pool, 0)
		self.node_seq[pool] = n + 1
		ip = "10.%d.%d.%d" % (octet, 1 + n // 250, 1 + n % 250)
		name = "ip-%s.%s.compute.internal" % (ip.replace(".", "-"), REGION)
		zone = ZONES[n % 3]
		acpu, amem, ccpu, cmem = SHAPES[shape]
		lab = {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux", "kubernetes.io/hostname": name,
		       "node.kubernetes.io/instance-type": shape, "topology.kubernetes.io/region": REGION,
		       "topology.kubernetes.io/zone": zone, "eks.amazonaws.com/capacityType": "ON_DEMAND",
		       "eks.amazonaws.com/nodegroup": "ng-" + pool}
		lab.update(labels or {})
		created = created or self.ago(days=self.rng.randint(20, 90), hours=self.rng.randint(0, 23))
		spec = {"providerID": "aws:///%s/i-0%s" % (zone, "%016x" % self.rng.getrandbits(64))}
		if taints:
			spec["taints"] = [dict(t) for t in taints]
		node = {"apiVersion": "v1", "kind": "Node", "metadata": self.meta(None, name, created, labels=lab,
		                                                                   annotations=ann),
		        "spec": spec,
		        "status": {"allocatable": {"cpu": fmt_cpu(acpu), "memory": "%dKi" % (amem // 1024),
		                                   "pods": "110", "ephemeral-storage": "95491281146"},
		                   "capacity": {"cpu": ccpu, "memory": cmem, "pods": "110",
		                                "ephemeral-storage": "104845292Ki"},
		                   "conditions": [{"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
		                                   "lastHeartbeatTime": ts(self.ago(minutes=1)), "lastTransitionTime": ts(created)},
		                                  {"type": "Ready", "status": "True", "reason": "KubeletReady",
		                                   "lastHeartbeatTime": ts(self.ago(minutes=1)), "lastTransitionTime": ts(created)}],
		                   "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
		                   "nodeInfo": {"kubeletVersion": "v1.30.4-eks-a737599", "architecture": "amd64",
		                                "operatingSystem": "linux", "containerRuntimeVersion": "containerd://1.7.22"}}}
		self.obj["nodes"].append(node)
		self.nodes[name] = dict(alloc_cpu=acpu, alloc_mem=amem, cpu=0, mem=0, pool=pool, zone=zone, ip=ip, pods=0)
		return name

	def charge(self, node, cpu, mem):
		n = self.nodes[node]
		n["cpu"] += cpu
		n["mem"] += mem
		n["pods"] += 1

	def fits(self, node, cpu, mem, cap):
		n = self.nodes[node]
		return n["cpu"] + cpu <= cap * n["alloc_cpu"] and n["mem"] + mem <= cap * n["alloc_mem"]

	# ------------------------------------------------------------------ containers and usage
	def C(self, name, cpu, mem, use, cpu_lim=None, mem_lim=None, image=None):
		return dict(name=name, cpu=cpu, mem=mem, cpu_lim=cpu_lim, mem_lim=mem_lim, use=use,
		            image=image or "123456789012.dkr.ecr.%s.amazonaws.com/%s:%d.%d.%d" % (
			            REGION, name, self.rng.randint(1, 9), self.rng.randint(0, 30), self.rng.randint(0, 9)))

	def cspec(self, c):
		"""The container's spec, built once per container and shared by its pods (callers that modify it copy)."""
		if "_spec" in c:
			return c["_spec"]
		res = {}
		req = {}
		if c["cpu"] is not None:
			req["cpu"] = fmt_cpu(c["cpu"])
		if c["mem"] is not None:
			req["memory"] = fmt_mem(c["mem"])
		lim = {}
		if c["cpu_lim"] is not None:
			lim["cpu"] = fmt_cpu(c["cpu_lim"])
		if c["mem_lim"] is not None:
			lim["memory"] = fmt_mem(c["mem_lim"])
		if req:
			res["requests"] = req
		if lim:
			res["limits"] = lim
		spec = {"name": c["name"], "image": c["image"]}
		for k in ("command", "args"):
			if c.get(k):
				spec[k] = list(c[k])
		if c.get("env"):
			spec["env"] = [{"name": n, "value": v} for n, v in c["env"]]
		spec.update({"imagePullPolicy": "IfNotPresent", "resources": res,
		             "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"})
		c["_spec"] = spec
		return spec

	def usage_entry(self, ns, pod, c, owner, start, end, frac):
		"""frac scales the busiest pod's usage for the other pods (1.0 = busiest)."""
		u = c["use"]
		first = max(start, self.wstart).replace(second=0)
		last = min(end, self.last_sample).replace(second=0)
		samples = int((last - first).total_seconds() // 60) + 1
		if u.get("idle"):
			p95 = u["p95"] * frac
			mx = u["cpu_max"] if frac == 1 else max(u["cpu_max"] * 0.5, p95 * 1.5)
			p50, p99 = p95 * 0.5, min(p95 * 1.4, mx)
			mmax = u["mem_max"] - (0 if frac == 1 else int(MI * 1.5))
			m50 = u["mem_max"] - u["mem_spread"]
		else:
			p95 = u["p95"] * frac
			p50 = p95 * u.get("p50_ratio", 0.55)
			p99 = p95 * 1.15
			mx = u.get("cpu_max", p99 * 1.3) if frac == 1 else p99 * 1.3
			mmax = int(u["mem_max"] * frac)
			m50 = int(mmax * u.get("m50_ratio", 0.8))
		e = {"namespace": ns, "pod": pod, "container": c["name"], "first_seen": ts(first), "last_seen": ts(last),
		     "samples": samples,
		     "cpu_millicores": {"p50": round(p50, 2), "p95": round(p95, 2), "p99": round(p99, 2), "max": round(mx, 2)},
		     "memory_bytes": {"p50": m50, "max": mmax},
		     "oom_kills": u.get("oom", 0) if frac == 1 else 0, "restarts": u.get("restarts", 0) if frac == 1 else 0}
		if owner:
			e["owner"] = {"kind": owner[0], "name": owner[1]}
		if c["cpu_lim"] is not None:
			e["cpu_throttled_ratio"] = 0.01
		if u.get("oom") and frac == 1:
			e["memory_limit_at_oom_bytes"] = u.get("lim_at_oom") or c["mem_lim"]
		self.usage.append(e)

	# usage profiles: return the busiest pod's usage for a given request
	def u_well(self, cpu, mem):
		return {"p95": cpu * self.rng.uniform(0.78, 0.82), "mem_max": int(mem * self.rng.uniform(0.74, 0.78))}

	def container(self, kind, name=None, replicas=1, batch=False, mod=None, want="", check=None, **kw):
		"""Draw a container whose judge() result is `kind` (or `want`), with margins. mod(c) changes a drawn
		container before it is judged (False: draw again); check(c, info) must hold too."""
		name = name or self.rng.choice(["app", "server", "api", "worker", "main"])
		if want == "":
			want = {"over": "over-provisioned", "under": "under-provisioned"}.get(kind)
		for _ in range(2000):
			c = self._draw(kind, name, replicas, **kw)
			if mod is not None and mod(c) is False:
				continue
			cat, sav, ok, info = judge_detail(c, replicas, batch)
			if ok and cat == want and (check is None or check(c, info)):
				c["savings"] = sav
				c["judged"] = info
				return c
		raise Fail("cannot draw a %s container%s" % (kind, " (%s)" % mod.__name__ if mod else ""))

	def _draw(self, kind, name, replicas, mode=None, small=False):
		"""small: an over-provisioned container with smaller requests (the cases planted beside the main ones, so
		the cell needs fewer nodes)."""
		R = self.rng
		cpu = R.choice([100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000])
		mem = R.choice([256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096]) * MI
		lim = R.random() < 0.5
		c = self.C(name, cpu, mem, None, mem_lim=mem if lim else None)
		if kind == "well":
			c["use"] = self.u_well(cpu, mem)
		elif kind == "over":
			cpu = R.choice([250, 300, 400, 500, 750, 1000] + ([] if small else [1500, 2000, 3000]))
			mem = R.choice([512, 768, 1024, 1536, 2048] + ([] if small else [3072, 4096, 6144])) * MI
			c.update(cpu=cpu, mem=mem, mem_lim=mem if lim else None)
			mode = mode or R.choice(["both", "both", "cpu", "mem"])
			u = self.u_well(cpu, mem)
			if mode in ("both", "cpu"):
				u["p95"] = cpu * R.uniform(0.1, 0.45) / 1.15
			if mode in ("both", "mem"):
				u["mem_max"] = int(mem * R.uniform(0.15, 0.5) / 1.2)
			if mode == "spiky":  # CPU over; memory p50 low, peak high and kept
				u["p95"] = cpu * R.uniform(0.1, 0.4) / 1.15
				u["mem_max"] = int(mem * R.uniform(0.7, 0.78))
				u["m50_ratio"] = R.uniform(0.12, 0.25)
			c["use"] = u
		elif kind == "under":
			mode = mode or R.choice(["mem", "oom", "cpu"])
			u = self.u_well(cpu, mem)
			if mode == "mem":
				u["mem_max"] = int(mem * R.uniform(1.25, 1.8))
				c["mem_lim"] = None if R.random() < 0.5 else mem * 3
			elif mode == "oom":
				c["mem_lim"] = mem
				u.update(mem_max=int(mem * R.uniform(0.93, 0.98)), oom=R.randint(1, 6), lim_at_oom=mem)
				u["restarts"] = u["oom"]
			else:
				cpu = R.choice([200, 250, 300, 400, 500])
				c["cpu"] = cpu
				c["cpu_lim"] = cpu * 2 if R.random() < 0.5 else None
				u["p95"] = cpu * R.uniform(1.4, 1.9)
				if c["cpu_lim"]:
					u["p95"] = min(u["p95"], c["cpu_lim"] * 0.9)
			c["use"] = u
		elif kind == "borderline":  # both requests ~15% above target: under the 20% bar
			cpu = R.choice([500, 750, 1000, 1500, 2000])
			mem = R.choice([1024, 1536, 2048, 4096]) * MI
			c.update(cpu=cpu, mem=mem, mem_lim=mem if lim else None)
			c["use"] = {"p95": cpu * R.uniform(0.84, 0.86) / 1.15, "mem_max": int(mem * R.uniform(0.84, 0.86) / 1.2)}
		elif kind == "cheap":  # memory could shrink past both bars, but saves < $1
			mem = R.choice([384, 512]) * MI
			c.update(cpu=25, mem=mem, mem_lim=None)
			c["use"] = {"p95": R.uniform(5, 9), "mem_max": int((mem - R.uniform(100, 260) * MI) / 1.2)}
		elif kind == "spiky":  # p50 far below the peak; request just above the peak's target
			mem = R.choice([1024, 2048, 3072, 4096]) * MI
			c.update(mem=mem, mem_lim=mem if lim else None)
			c["use"] = {"p95": cpu * R.uniform(0.78, 0.82), "mem_max": int(mem * R.uniform(0.83, 0.86)),
			            "m50_ratio": R.uniform(0.1, 0.25)}
		elif kind == "tiny":  # tiny requests: never worth resizing
			c.update(cpu=10, mem=64 * MI, mem_lim=None)
			c["use"] = {"p95": R.uniform(2, 4), "mem_max": int(R.uniform(38, 44) * MI)}
		return c

	# ------------------------------------------------------------------ workloads
	def place(self, cpu, mem, pool, avoid=()):
		"""Least-loaded node of the pool under a 58% cap (fillers top main nodes up later)."""
		cands = [n for n, v in self.cell_nodes[pool] if True]
		best = None
		for n in cands:
			if n in avoid and len(cands) > len(avoid):
				continue
			if not self.fits(n, cpu, mem, 0.58 if pool == "main" else 0.45 if pool == "spare" else 1.0):
				continue
			v = self.nodes[n]
			score = max((v["cpu"] + cpu) / v["alloc_cpu"], (v["mem"] + mem) / v["alloc_mem"])
			if best is None or score < best[0]:
				best = (score, n)
		if best is None:
			if pool != "main":
				raise Fail("pool %s full" % pool)
			n = self.add_node("main", "m5.4xlarge")
			self.cell_nodes["main"].append((n, None))
			return self.place(cpu, mem, pool, avoid)
		return best[1]

	def make_pod(self, ns, name, labels, owner, containers, node, started, tolerations=None, volumes=None,
	             phase="Running", finished=None, node_selector=None, restart="Always", init=None, ann=None):
		spec = {"containers": [self.cspec(c) for c in containers], "nodeName": node, "restartPolicy": restart,
		        "schedulerName": "default-scheduler", "serviceAccountName": "default", "dnsPolicy": "ClusterFirst",
		        "terminationGracePeriodSeconds": 30,
		        "tolerations": tolerations or [
			        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
			         "tolerationSeconds": 300},
			        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
			         "tolerationSeconds": 300}]}
		if init:
			spec["initContainers"] = [self.cspec(c) for c in init]
		if volumes:
			spec["volumes"] = volumes
		if node_selector:
			spec["nodeSelector"] = dict(node_selector)
		running = phase == "Running"
		st = {"phase": phase, "startTime": ts(started), "hostIP": self.nodes[node]["ip"],
		      "podIP": "100.64.%d.%d" % (self.rng.randint(0, 255), self.rng.randint(1, 254)),
		      "qosClass": "Burstable",
		      "conditions": [{"type": "Ready", "status": "True" if running else "False",
		                      "lastTransitionTime": ts(started + dt.timedelta(seconds=20))},
		                     {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(started)}],
		      "containerStatuses": [{"name": c["name"], "ready": running, "started": running,
		                             "restartCount": c["use"].get("restarts", 0) if c["use"] else 0,
		                             "image": c["image"], "imageID": "",
		                             "state": {"running": {"startedAt": ts(started)}} if running else
		                             {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1,
		                                             "reason": "Completed" if phase == "Succeeded" else "Error",
		                                             "finishedAt": ts(finished or started)}}}
		                            for c in containers]}
		pod = {"apiVersion": "v1", "kind": "Pod", "metadata": self.meta(ns, name, started, labels=labels, owner=owner,
		                                                                 annotations=ann),
		       "spec": spec, "status": st}
		self.obj["pods"].append(pod)
		if running:
			cpu = sum(c["cpu"] or 0 for c in containers)
			mem = sum(c["mem"] or 0 for c in containers)
			self.charge(node, cpu, mem)
			assert not init  # the node simulation (check_nodes) counts regular containers only
			self.running.append((pod, cpu, mem))
			self.pods_by_ns.setdefault(ns, []).append((labels, pod))
		return pod

	def template(self, labels, containers, volumes=None, tolerations=None, node_selector=None, ann=None):
		spec = {"containers": [dict(self.cspec(c)) for c in containers], "restartPolicy": "Always",
		        "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30}
		if volumes:
			spec["volumes"] = volumes
		if tolerations:
			spec["tolerations"] = tolerations
		if node_selector:
			spec["nodeSelector"] = dict(node_selector)
		md = {"labels": dict(labels)}
		if ann:
			md["annotations"] = dict(ann)
		return {"metadata": md, "spec": spec}

	def deployment(self, ns, base, replicas, containers, created=None, started=None, pool="main", labels=None,
	               ann=None, volumes=None, tolerations=None, node_selector=None, usage=True, hpa=None, hook=None,
	               old=None, pod_ann=None, owner=None):
		"""hook(i, pod, in_old) is called with each pod made. old = (n, containers, started): a rollout paused
		after its first new pods (spec.paused): the last n of the replicas are still the previous ReplicaSet's,
		with those containers, started then (the busiest pod, the first, is always a new one). pod_ann: the pod
		template's annotations (and so its pods'); owner: the Deployment's own ownerReference (meta())."""
		R = self.rng
		name = self.uniq(ns, base)
		created = created or self.ago(days=R.randint(30, 700), hours=R.randint(0, 23))
		started = started or max(created, self.ago(days=R.randint(15, 60), hours=R.randint(0, 23)))
		applabels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns}
		mlabels = dict(applabels, **(labels or {}))
		tpl = self.template(applabels, containers, volumes, tolerations, node_selector, ann=pod_ann)
		d_uid_meta = self.meta(ns, name, created, labels=mlabels, annotations=dict(
			{"deployment.kubernetes.io/revision": str(R.randint(1, 40))}, **(ann or {})), owner=owner)
		dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": d_uid_meta,
		       "spec": {"replicas": replicas, "revisionHistoryLimit": 10, "selector": {"matchLabels": applabels},
		                "strategy": {"type": "RollingUpdate",
		                             "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
		                "template": tpl},
		       "status": {"observedGeneration": 3, "replicas": replicas, "readyReplicas": replicas,
		                  "availableReplicas": replicas, "updatedReplicas": replicas} if replicas else
		       {"observedGeneration": 3}}
		self.obj["deployments"].append(dep)
		h = self.suffix(10)
		rs_name = "%s-%s" % (name, h)
		rlabels = dict(applabels, **{"pod-template-hash": h})
		rs_meta = self.meta(ns, rs_name, started, labels=rlabels,
		                    owner=("apps/v1", "Deployment", name, d_uid_meta["uid"]))
		rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": rs_meta,
		      "spec": {"replicas": replicas, "selector": {"matchLabels": rlabels},
		               "template": self.template(rlabels, containers, volumes, tolerations, node_selector, ann=pod_ann)},
		      "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}}
		self.obj["replicasets"].append(rs)
		n_old = 0
		if old:
			n_old, old_cs, old_started = old
			assert 0 < n_old < replicas
			rev = int(d_uid_meta["annotations"]["deployment.kubernetes.io/revision"])
			d_uid_meta["annotations"]["deployment.kubernetes.io/revision"] = str(rev + 1)
			dep["spec"]["paused"] = True
			dep["status"].update(updatedReplicas=replicas - n_old, conditions=[
				{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
				 "lastUpdateTime": ts(started), "lastTransitionTime": ts(started)},
				{"type": "Progressing", "status": "Unknown", "reason": "DeploymentPaused",
				 "message": "Deployment is paused", "lastUpdateTime": ts(started), "lastTransitionTime": ts(started)}])
			rs["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": str(rev + 1)}
			rs["spec"]["replicas"] = replicas - n_old
			rs["status"] = {"replicas": replicas - n_old, "readyReplicas": replicas - n_old,
			                "availableReplicas": replicas - n_old}
			oh = self.suffix(10)
			old_name = "%s-%s" % (name, oh)
			old_labels = dict(applabels, **{"pod-template-hash": oh})
			old_meta = self.meta(ns, old_name, old_started, labels=old_labels, annotations={
				"deployment.kubernetes.io/revision": str(rev)}, owner=("apps/v1", "Deployment", name, d_uid_meta["uid"]))
			self.obj["replicasets"].append({
				"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": old_meta,
				"spec": {"replicas": n_old, "selector": {"matchLabels": old_labels},
				         "template": self.template(old_labels, old_cs, volumes, tolerations, node_selector)},
				"status": {"replicas": n_old, "readyReplicas": n_old, "availableReplicas": n_old}})
		cpu = sum(c["cpu"] or 0 for c in containers)
		mem = sum(c["mem"] or 0 for c in containers)
		used = set()
		for i in range(replicas):
			in_old = i >= replicas - n_old
			if in_old:
				prs, plabels, pcs, pstart = old_name, old_labels, old_cs, old_started
				powner = ("apps/v1", "ReplicaSet", old_name, old_meta["uid"])
			else:
				prs, plabels, pcs, pstart = rs_name, rlabels, containers, started
				powner = ("apps/v1", "ReplicaSet", rs_name, rs_meta["uid"])
			pname = "%s-%s" % (prs, self.suffix())
			node = pool if pool in self.nodes else self.place(cpu, mem, pool, used)
			used.add(node)
			st = pstart + dt.timedelta(seconds=R.randint(3, 90))
			pod = self.make_pod(ns, pname, plabels, powner, pcs, node, st, tolerations=tolerations, volumes=volumes,
			                    node_selector=node_selector, ann=pod_ann)
			if hook:
				hook(i, pod, in_old)
			if usage:
				for c in pcs:
					self.usage_entry(ns, pname, c, ("ReplicaSet", prs), st, self.now,
					                 1.0 if i == 0 else R.uniform(0.6, 0.95))
		if hpa:
			self.obj["horizontalpodautoscalers"].append({
				"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
				"metadata": self.meta(ns, name, created + dt.timedelta(days=1), labels=applabels),
				"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
				         "minReplicas": hpa[0], "maxReplicas": hpa[1],
				         "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
					         "type": "Utilization", "averageUtilization": 70}}}]},
				"status": {"currentReplicas": replicas, "desiredReplicas": replicas,
				           "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
					           "averageUtilization": 55}}}]}})
		return name, applabels

	def statefulset(self, ns, base, replicas, containers, claims=(), created=None, started=None, existing_pvcs=None,
	                ann=None, labels=None, owner=None):
		"""claims: [(template name, size)]. existing_pvcs: ordinals whose PVCs exist (default range(replicas)).
		owner: the StatefulSet's own ownerReference (meta()), e.g. an operator's custom resource."""
		R = self.rng
		name = self.uniq(ns, base)
		created = created or self.ago(days=R.randint(30, 700), hours=R.randint(0, 23))
		started = started or max(created, self.ago(days=R.randint(15, 60), hours=R.randint(0, 23)))
		applabels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns}
		m = self.meta(ns, name, created, labels=dict(applabels, **(labels or {})), annotations=ann, owner=owner)
		tpl = self.template(applabels, containers)
		for c in tpl["spec"]["containers"]:
			c["volumeMounts"] = [{"name": t, "mountPath": "/data/" + t} for t, _ in claims]
		sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": m,
		       "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": applabels},
		                "podManagementPolicy": "OrderedReady", "template": tpl,
		                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
		                "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
		                                          "metadata": {"name": t},
		                                          "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
		                                                   "resources": {"requests": {"storage": s}}}}
		                                         for t, s in claims]},
		       "status": {"replicas": replicas, "readyReplicas": replicas, "currentReplicas": replicas,
		                  "updatedReplicas": replicas, "availableReplicas": replicas}}
		self.obj["statefulsets"].append(sts)
		ordinals = range(replicas) if existing_pvcs is None else existing_pvcs
		for o in ordinals:
			for t, s in claims:
				self.pvc(ns, "%s-%s-%d" % (t, name, o), s, created + dt.timedelta(seconds=30 + o * 40),
				         labels=applabels)
		cpu = sum(c["cpu"] or 0 for c in containers)
		mem = sum(c["mem"] or 0 for c in containers)
		used = set()
		for i in range(replicas):
			pname = "%s-%d" % (name, i)
			self.names.add((ns, pname))
			node = self.place(cpu, mem, "main", used)
			used.add(node)
			st = started + dt.timedelta(seconds=R.randint(3, 90) + 60 * i)
			vols = [{"name": t, "persistentVolumeClaim": {"claimName": "%s-%s-%d" % (t, name, i)}} for t, _ in claims]
			self.make_pod(ns, pname, dict(applabels, **{"statefulset.kubernetes.io/pod-name": pname}),
			              ("apps/v1", "StatefulSet", name, m["uid"]), containers, node, st, volumes=vols or None)
			for c in containers:
				self.usage_entry(ns, pname, c, ("StatefulSet", name), st, self.now, 1.0 if i == 0 else R.uniform(0.6, 0.95))
		return name, applabels

	# ------------------------------------------------------------------ storage
	def pvc(self, ns, name, size, created, labels=None, phase="Bound", ann=None):
		self.names.add((ns, name))
		m = self.meta(ns, name, created, labels=labels, annotations=dict(
			{"volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}, **(ann or {})))
		m["finalizers"] = ["kubernetes.io/pvc-protection"]
		pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": m,
		       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
		                "storageClassName": "gp3", "volumeMode": "Filesystem"},
		       "status": {"phase": phase}}
		if phase == "Bound":
			pv_name = "pvc-" + m["uid"]
			pvc["spec"]["volumeName"] = pv_name
			pvc["status"].update({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}})
			self.pv(pv_name, size, created + dt.timedelta(seconds=5), "Bound", claim=(ns, name, m["uid"]))
		self.obj["persistentvolumeclaims"].append(pvc)
		return pvc

	def pv(self, name, size, created, phase, claim=None, reclaim="Delete", labels=None):
		spec = {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size},
		        "persistentVolumeReclaimPolicy": reclaim, "storageClassName": "gp3", "volumeMode": "Filesystem",
		        "csi": {"driver": "ebs.csi.aws.com", "fsType": "ext4",
		                "volumeHandle": "vol-0%016x" % self.rng.getrandbits(64)}}
		if claim:
			spec["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": claim[0],
			                    "name": claim[1], "uid": claim[2]}
		m = self.meta(None, name, created, labels=labels,
		              annotations={"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"})
		self.obj["persistentvolumes"].append({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": m,
		                                      "spec": spec, "status": {"phase": phase}})

	# ------------------------------------------------------------------ services
	def service(self, ns, base, selector, lb=False, created=None, labels=None, slice_mode="auto"):
		"""slice_mode: auto (endpoints of matching running pods), notready (the matching pods' endpoints,
		ready false), empty (a slice with no endpoints), none (no slice)."""
		R = self.rng
		name = self.uniq(ns, base)
		created = created or self.ago(days=R.randint(30, 400))
		spec = {"type": "LoadBalancer" if lb else "ClusterIP", "ports": [{"name": "http", "port": 80,
		                                                                  "protocol": "TCP", "targetPort": 8080}],
		        "clusterIP": "172.20.%d.%d" % (R.randint(0, 255), R.randint(1, 254)), "sessionAffinity": "None"}
		if selector is not None:
			spec["selector"] = dict(selector)
		status = {"loadBalancer": {}}
		if lb:
			spec["ports"][0]["nodePort"] = R.randint(30000, 32767)
			spec["externalTrafficPolicy"] = "Cluster"
			status = {"loadBalancer": {"ingress": [{"hostname": "k8s-%s-%s-%010x.elb.%s.amazonaws.com" % (
				ns[:8], name[:8], R.getrandbits(40), REGION)}]}}
		m = self.meta(ns, name, created, labels=labels, annotations={
			"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"} if lb else None)
		self.obj["services"].append({"apiVersion": "v1", "kind": "Service", "metadata": m, "spec": spec,
		                             "status": status})
		if slice_mode == "none":
			return name
		eps = []
		if selector is not None and slice_mode in ("auto", "notready"):
			for plabels, pod in self.pods_by_ns.get(ns, []):
				if all(plabels.get(k) == v for k, v in selector.items()):
					eps.append({"addresses": [pod["status"]["podIP"]],
					            "conditions": {"ready": slice_mode == "auto", "serving": slice_mode == "auto",
					                           "terminating": False},
					            "nodeName": pod["spec"]["nodeName"],
					            "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": ns,
					                          "uid": pod["metadata"]["uid"]}})
		es = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
		      "metadata": self.meta(ns, "%s-%s" % (name, self.suffix()), created + dt.timedelta(seconds=2), labels={
			      "kubernetes.io/service-name": name,
			      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
			      owner=("v1", "Service", name, m["uid"])),
		      "endpoints": eps or None, "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}
		self.obj["endpointslices"].append(es)
		return name

	# ------------------------------------------------------------------ jobs
	def job(self, ns, base, start, dur, failed=False, ttl=None, owner=None, name=None, c=None, labels=None,
	        volumes=None, usage=True, ann=None):
		R = self.rng
		name = name or self.uniq(ns, base)
		self.names.add((ns, name))
		c = c or self.C("job", 500, 512 * MI, self.u_well(500, 512 * MI))
		m = self.meta(ns, name, start, labels=dict({"job-name": name}, **(labels or {})), annotations=ann,
		              owner=owner)
		tpl = self.template({"job-name": name}, [c], volumes)
		tpl["spec"]["restartPolicy"] = "Never"
		spec = {"backoffLimit": 2, "completions": 1, "parallelism": 1, "suspend": False, "template": tpl}
		if ttl is not None:
			spec["ttlSecondsAfterFinished"] = ttl
		if dur is None:
			status = {"active": 1, "ready": 1, "startTime": ts(start)}
			phase, end = "Running", None
		else:
			end = start + dt.timedelta(seconds=dur)
			if failed:
				status = {"startTime": ts(start), "failed": 3, "conditions": [
					{"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded",
					 "lastTransitionTime": ts(end), "lastProbeTime": ts(end)},
					{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
					 "message": "Job has reached the specified backoff limit",
					 "lastTransitionTime": ts(end), "lastProbeTime": ts(end)}]}
				phase = "Failed"
			else:
				status = {"startTime": ts(start), "completionTime": ts(end), "succeeded": 1, "conditions": [
					{"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
					 "lastTransitionTime": ts(end), "lastProbeTime": ts(end)},
					{"type": "Complete", "status": "True", "reason": "CompletionsReached",
					 "lastTransitionTime": ts(end), "lastProbeTime": ts(end)}]}
				phase = "Succeeded"
		job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": m, "spec": spec, "status": status}
		self.obj["jobs"].append(job)
		pname = "%s-%s" % (name, self.suffix())
		node = self.place(c["cpu"], c["mem"], "main") if dur is None else R.choice(self.cell_nodes["main"])[0]
		self.make_pod(ns, pname, {"job-name": name}, ("batch/v1", "Job", name, m["uid"]), [c], node, start,
		              volumes=volumes, phase=phase, finished=end, restart="Never")
		if usage and (end is None or end > self.wstart):
			self.usage_entry(ns, pname, c, ("Job", name), start, end or self.now, 1.0)
		return name

	def cronjob(self, ns, base, c, every_h, run_min, history=3, volumes=None, created=None):
		"""Runs every `every_h` hours for `run_min` minutes over the whole window; the last `history` Jobs
		and their pods exist, earlier runs are usage entries only (owner: the Job, pruned since)."""
		R = self.rng
		name = self.uniq(ns, base)
		created = created or self.ago(days=R.randint(60, 400))
		m = self.meta(ns, name, created, labels={"app.kubernetes.io/name": name})
		tpl = self.template({"app.kubernetes.io/name": name}, [c], volumes)
		tpl["spec"]["restartPolicy"] = "OnFailure"
		runs = []
		t = self.wstart.replace(minute=0) + dt.timedelta(hours=1)
		while t + dt.timedelta(minutes=run_min) < self.now:
			runs.append(t)
			t += dt.timedelta(hours=every_h)
		self.obj["cronjobs"].append({
			"apiVersion": "batch/v1", "kind": "CronJob", "metadata": m,
			"spec": {"schedule": "0 */%d * * *" % every_h, "concurrencyPolicy": "Forbid", "suspend": False,
			         "successfulJobsHistoryLimit": history, "failedJobsHistoryLimit": 1,
			         "jobTemplate": {"spec": {"backoffLimit": 2, "template": tpl}}},
			"status": {"lastScheduleTime": ts(runs[-1])}})
		for i, r in enumerate(runs):
			jname = "%s-%d" % (name, int(r.timestamp()) // 60)
			end = r + dt.timedelta(minutes=run_min)
			if i >= len(runs) - history:
				self.job(ns, None, r, run_min * 60, owner=("batch/v1", "CronJob", name, m["uid"]), name=jname, c=c,
				         labels={"app.kubernetes.io/name": name}, volumes=volumes, usage=False)
			self.usage_entry(ns, "%s-%s" % (jname, self.suffix()), c, ("Job", jname), r, end,
			                 1.0 if i == 0 else R.uniform(0.7, 0.97))
		return name

	# ------------------------------------------------------------------ OOM kills in the pods' status
	def last_state(self, pod, cname, reason, exit_code, finished):
		"""The container restarted once, after ending at `finished` (status.containerStatuses[].lastState)."""
		for cs in pod["status"]["containerStatuses"]:
			if cs["name"] == cname:
				cs["restartCount"] = 1
				cs["lastState"] = {"terminated": {"exitCode": exit_code, "reason": reason,
				                                  "startedAt": pod["status"]["startTime"], "finishedAt": ts(finished),
				                                  "containerID": "containerd://%064x" % self.rng.getrandbits(256)}}
				cs["state"] = {"running": {"startedAt": ts(finished + dt.timedelta(seconds=self.rng.randint(2, 40)))}}
				return
		raise Fail("no status for container %s" % cname)

	def oom_cases(self, team_ns):
		"""rightsizing.oom_history_days: a container OOM-killed at its current memory limit (pod status, lastState,
		before the metrics window: the window's usage shows no kill) keeps its memory; look-alikes do not."""
		R = self.rng
		win_days = (self.now - self.wstart).days

		def limited(c):  # a memory limit (the OOM kill's), at or above the request
			c["mem_lim"] = int(c["mem"] * R.choice([1, 1, 1.5, 2]))

		def held(c):
			limited(c)
			c["mem_hold"] = True

		def before_window():  # after the window start, inside oom_history_days, 10% from both
			return self.ago(days=R.uniform(win_days * 1.1, OOM_HISTORY_DAYS * 0.9))

		def plant(base, c, reps, when, reason, exit_code, old=None, started=None):
			"""Some pods (the old ReplicaSet's, with old) ended with `reason` at when() each."""
			ns = R.choice(team_ns)
			hit = range(reps - old[0], reps) if old else R.sample(range(reps), R.randint(1, reps))
			ended = {i: when() for i in sorted(hit)}
			started = started or min(ended.values()) - dt.timedelta(days=R.uniform(2, 30))
			created = min(started, old[2] if old else started) - dt.timedelta(days=R.uniform(0, 200))

			def hook(i, pod, in_old):
				if i in ended:
					self.last_state(pod, c["name"], reason, exit_code, ended[i])
			name, _ = self.deployment(ns, base, reps, [c], created=created, started=started, hook=hook, old=old)
			return ns, name

		# (a) memory over-provisioned, CPU well-sized, OOM-killed at this limit: memory held, nothing else: skipped
		reps = R.randint(1, 2)
		c = self.container("over", replicas=reps, mode="mem", mod=held, want=None,
		                   check=lambda c, j: j["mem_over_by_usage"] and not j["cpu_over"])
		ns, name = plant(R.choice(["ledger-writer", "pdf-render", "thumbnailer"]), c, reps, before_window,
		                 "OOMKilled", 137)
		why = "memory over-provisioned by usage, but OOM-killed at its current limit %s (pod status): held" % (
			fmt_mem(c["mem_lim"]))
		self.near("over-provisioned", ns, "Deployment", name, why, c["name"])
		self.skip(ns, "Deployment", name, "memory held after an OOM kill at the current limit (pod status)",
		          reason="memory not lowered")
		# (b) the same with CPU over-provisioned too: a finding for CPU that keeps the memory request
		reps = R.randint(1, 2)
		c = self.container("over", replicas=reps, mode="both", mod=held,
		                   check=lambda c, j: j["mem_over_by_usage"] and j["cpu_over"])
		ns, name = plant(R.choice(["report-builder", "image-resizer", "search-indexer"]), c, reps, before_window,
		                 "OOMKilled", 137)
		self.expect("over-provisioned", ns, "Deployment", name, c["name"])
		self.memory_request(ns, "Deployment", name, c["name"], c["mem"],
		                    "OOM-killed at its current limit (pod status): CPU lowered, memory request kept",
		                    evidence=["oom_killed_at_limit"])

		# look-alikes: flagged as usual, memory lowered to the usage target
		def lookalike(base, why, when, reason, exit_code, old_lim=False):
			reps = R.randint(2, 3) if old_lim else R.randint(1, 2)
			mode = R.choice(["mem", "both"])

			def mod(c):
				limited(c)
				if old_lim:  # the limit it was killed at: lower, and still clearly above the peak
					c["old_lim"] = roundup(c["mem_lim"] * R.uniform(0.5, 0.8), 64 * MI)
					if c["old_lim"] > 0.9 * c["mem_lim"] or c["old_lim"] < 1.3 * c["use"]["mem_max"]:
						return False
			c = self.container("over", replicas=reps, mode=mode, mod=mod, check=lambda c, j: j["mem_over"])
			old = None
			started = None
			if old_lim:  # killed at the old limit; raised since by a rollout paused after its first new pods
				co = dict(c, mem_lim=c["old_lim"], mem=min(c["mem"], c["old_lim"]))
				co.pop("_spec", None)
				started = self.ago(days=R.uniform(8, 12))
				t = when()
				when = lambda: t  # noqa: E731
				old = (1, [co], t - dt.timedelta(days=R.uniform(2, 20)))
			ns, name = plant(base, c, reps, when, reason, exit_code, old=old, started=started)
			self.expect("over-provisioned", ns, "Deployment", name, c["name"])
			self.memory_request(ns, "Deployment", name, c["name"], c["judged"]["rec_mem"], why,
			                    no_evidence=["oom_killed_at_limit"])

		# (c) a crash at the current limit that is not an OOM kill
		lookalike(R.choice(["order-sync", "geo-lookup"]), "crashed (Error, exit 1) at its current limit: not an OOM kill",
		          before_window, "Error", 1)
		# (c') killed by a signal (exit 137, SIGKILL: a liveness probe, a preStop timeout) with reason Error at its
		# current limit: the exit code alone is not an OOM kill
		lookalike(R.choice(["cart-events", "price-watcher"]),
		          "killed with exit 137 but reason Error at its current limit: not an OOM kill", before_window, "Error", 137)
		# (d) OOM-killed at a lower limit than the current one (raised by a rollout since)
		lookalike(R.choice(["session-store", "quote-engine"]), "OOM-killed at an older, lower limit, raised since",
		          before_window, "OOMKilled", 137, old_lim=True)
		# (e) OOM-killed at the current limit, but long ago (60 days, oom_history_days is 30)
		lookalike(R.choice(["feed-builder", "audit-export"]), "OOM-killed at its current limit ~60 days ago (> 30)",
		          lambda: self.ago(days=R.uniform(55, 70)), "OOMKilled", 137)

	# ------------------------------------------------------------------ language runtimes' memory settings
	JVM_ENVS = ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS", "JAVA_OPTS", "JAVA_OPTIONS", "CATALINA_OPTS",
	            "JVM_OPTS", "ES_JAVA_OPTS"]
	IMAGES = {"jvm": "eclipse-temurin:21.0.5_11-jre-noble", "node": "node:20.18.1-bookworm-slim",
	          "dotnet": "mcr.microsoft.com/dotnet/aspnet:8.0.11-bookworm-slim"}

	def jvm_size(self, b):
		"""b bytes (whole Mi) as a -Xmx / -XX:MaxHeapSize value, in one of the JVM's spellings."""
		forms = [("%dm", MI), ("%dM", MI), ("%dm", MI), ("%dk", 1024), ("%dK", 1024), ("%d", 1)]
		if b % GI == 0:
			forms += [("%dg", GI), ("%dG", GI), ("%dg", GI)]
		f, unit = self.rng.choice(forms)
		return f % (b // unit)

	def go_size(self, b):
		forms = [("%dMiB", MI), ("%dKiB", 1024), ("%dB", 1), ("%d", 1)]
		if b % GI == 0:
			forms.append(("%dGiB", GI))
		f, unit = self.rng.choice(forms)
		return f % (b // unit)

	def runtime(self, c, rt, heap=None, pct=None, app_name="app"):
		"""Puts a language runtime's heap setting into container c: env, command, args and image, and the floor
		kopilot must keep (c["floor"], or c["mem_hold"] for a percentage without a memory limit). heap in bytes
		(whole Mi), pct for the percentage forms. Returns (description, names the evidence may use for it)."""
		R = self.rng
		app = R.choice(["/app/app.jar", "/opt/app/service.jar", "/deployments/quarkus-run.jar"])
		if rt in ("jvm-tool", "jvm-env"):
			var = "JAVA_TOOL_OPTIONS" if rt == "jvm-tool" else R.choice(self.JVM_ENVS[1:])
			flag = "-Xmx" if rt == "jvm-tool" or R.random() < 0.5 else "-XX:MaxHeapSize="
			opts = [flag + self.jvm_size(heap)]
			if R.random() < 0.7:
				opts.insert(R.randint(0, 1), R.choice(["-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Xss512k",
				                                       "-Dfile.encoding=UTF-8", "-Xms%dm" % (heap // MI // 2)]))
			c["env"] = [("TZ", "UTC"), (var, " ".join(opts))]
			c["command"], c["args"] = ["java"], ["-jar", app]
			desc, names = "%s=%s" % (var, " ".join(opts)), [flag.rstrip("="), var]
		elif rt == "jvm-sh":  # sh -c "exec java ... -jar app.jar": the one argument split on whitespace
			flag = R.choice(["-Xmx", "-XX:MaxHeapSize="])
			line = "exec java %s%s -XX:+ExitOnOutOfMemoryError -jar %s" % (flag, self.jvm_size(heap), app)
			c["command"], c["args"] = ["sh", "-c"], [line]
			desc, names = "sh -c \"%s\"" % line, [flag.rstrip("=")]
		elif rt == "jvm-args":
			setting = R.choice(["-Xmx", "-XX:MaxHeapSize="]) + self.jvm_size(heap)
			c["command"] = ["java"]
			c["args"] = ["-XX:+UseZGC", setting, "-jar", app]
			desc, names = "args " + setting, [setting.split("=")[0] if "=" in setting else "-Xmx"]
		elif rt == "jvm-multi":  # a small -Xmx in JAVA_TOOL_OPTIONS, the largest in the args: the largest counts
			small = R.choice([m for m in (256, 384, 512) if m * MI <= 0.6 * heap] or [max(32, heap // MI // 4)]) * MI
			big = self.jvm_size(heap)
			c["env"] = [("JAVA_TOOL_OPTIONS", "-Xmx%dm -XX:+UseG1GC" % (small // MI))]
			c["command"], c["args"] = ["java"], ["-Xmx" + big, "-jar", app]
			desc, names = "JAVA_TOOL_OPTIONS=-Xmx%dm and args -Xmx%s (the largest counts)" % (small // MI, big), ["-Xmx"]
		elif rt == "jvm-pct":
			spelled = R.choice(["%d", "%d.0"]) % pct
			c["env"] = [(R.choice(["JAVA_TOOL_OPTIONS", "JAVA_OPTS", "JDK_JAVA_OPTIONS"]),
			             "-XX:MaxRAMPercentage=%s -XX:+UseContainerSupport" % spelled)]
			c["command"], c["args"] = ["java"], ["-jar", app]
			if c["mem_lim"] is None:
				c["mem_hold"] = True
			else:
				heap = c["mem_lim"] * pct / 100.0
			desc, names = "-XX:MaxRAMPercentage=%s%s" % (spelled, "" if heap else " without a memory limit"), [
				"MaxRAMPercentage"]
		elif rt in ("node-env", "node-args"):
			flag = R.choice(["--max-old-space-size", "--max_old_space_size"]) if rt == "node-args" else \
				"--max-old-space-size"
			setting = "%s=%d" % (flag, heap // MI)
			if rt == "node-env":
				c["env"] = [("NODE_ENV", "production"), ("NODE_OPTIONS", R.choice(["", "--enable-source-maps "]) + setting)]
				c["command"], c["args"] = ["node"], ["dist/server.js"]
				desc = "NODE_OPTIONS=" + c["env"][1][1]
			else:
				c["env"] = [("NODE_ENV", "production")]
				c["command"], c["args"] = ["node", setting, "dist/server.js"], None
				desc = "command node " + setting
			names = [flag, "NODE_OPTIONS"]
		elif rt in ("go", "go-any", "go-off"):
			v = "off" if rt == "go-off" else "%dMiB" % (heap // MI) if rt == "go" else self.go_size(heap)
			c["env"] = [("GOMEMLIMIT", v), ("GOGC", R.choice(["100", "200", "off"]) if v != "off" else "100")]
			c["image"] = "123456789012.dkr.ecr.%s.amazonaws.com/%s:v1.%d.%d-distroless" % (
				REGION, app_name, R.randint(0, 30), R.randint(0, 9))  # built with golang, run on distroless
			c["command"], c["args"] = ["/usr/local/bin/%s" % app_name], None
			desc, names = "GOMEMLIMIT=" + v, ["GOMEMLIMIT"]
			if rt == "go-off":
				heap = None
		elif rt in ("dotnet", "dotnet-pct"):
			pre = R.choice(["DOTNET_", "COMPlus_"])
			if rt == "dotnet":
				var, v = pre + "GCHeapHardLimit", R.choice(["0x%X", "0x%x", "%X"]) % heap
			else:
				var, v = pre + "GCHeapHardLimitPercent", R.choice(["0x%X", "0x%x", "%X"]) % pct
				heap = c["mem_lim"] * pct / 100.0
			c["env"] = [("ASPNETCORE_URLS", "http://+:8080"), ("DOTNET_gcServer", "1"), (var, v)]
			c["command"], c["args"] = ["dotnet"], ["%s.dll" % ".".join(w.capitalize() for w in app_name.split("-"))]
			desc, names = "%s=%s" % (var, v), ["GCHeapHardLimit"]
		else:
			raise ValueError(rt)
		if not rt.startswith("go"):
			c["image"] = self.IMAGES[rt.split("-")[0]]
		if heap:
			c["floor"] = runtime_floor(heap)
		c["runtime"] = desc
		return desc, names

	def runtime_cases(self, team_ns):
		"""rightsizing.runtime_overhead_*: a runtime's heap setting puts a floor under the memory request."""
		R = self.rng
		base = {"jvm": ["orders-api", "pricing-service", "catalog-sync"], "node": ["storefront-ssr", "bff", "notifier"],
		        "go": ["ledger", "rate-limiter", "inventory"], "dotnet": ["invoicing", "loyalty-api"]}

		def heap_for(floor):  # the heap whose floor is about `floor`
			return floor / (1 + RT_RATIO) if floor / (1 + RT_RATIO) * RT_RATIO >= RT_MIN else floor - RT_MIN

		def plant(rt, kind, want, check, why, pick=None, pct=None, limit=None, mode=None):
			"""pick(c) -> heap (bytes) or None (draw again); limit: the memory limit as a multiple of the request
			(0: none; None: as drawn). pct and limit may be functions, called for each draw."""
			reps = R.randint(1, 2)
			app_name = R.choice(base[rt.split("-")[0]])
			meta = {}

			def mod(c):
				lim = limit() if callable(limit) else limit
				if lim is not None:
					c["mem_lim"] = int(c["mem"] * lim) if lim else None
				heap = pick(c) if pick else None
				if pick and not heap:
					return False
				meta["desc"], meta["names"] = self.runtime(c, rt, heap=heap, pct=pct() if callable(pct) else pct,
				                                           app_name=app_name)
			mod.__name__ = rt

			c = self.container(kind, name=R.choice(["app", "server", "api"]), replicas=reps, mode=mode, mod=mod,
			                   want=want, check=check)
			ns = R.choice(team_ns)
			name, _ = self.deployment(ns, app_name, reps, [c])
			return ns, name, c, meta["desc"], meta["names"]

		def usage_target(c):
			return roundup(max(c["use"]["mem_max"] * (1 + MEM_MARGIN), MEM_FLOOR), MI)

		def floor_between(step):  # a floor well above the usage target, well below the request
			def pick(c):
				lo, hi = 1.2 * usage_target(c), 0.75 * c["mem"]
				if lo >= hi:
					return None
				return max(roundup(heap_for(R.uniform(lo, hi)), step), 128 * MI)
			return pick

		def floor_wins(c, j):
			return j["mem_over"] and j["mem_over_by_usage"] and c.get("floor") and j["mem_target"] == c["floor"]

		# floor between the usage target and the request: memory lowered to the floor, not to the usage target
		for rt, step in (("jvm-tool", R.choice([MI, 64 * MI, 256 * MI])), ("node-env", R.choice([MI, 32 * MI])),
		                 ("go", R.choice([MI, 16 * MI])), ("dotnet", R.choice([MI, 64 * MI])),
		                 (R.choice(["jvm-multi", "jvm-sh", "jvm-args", "jvm-env"]), R.choice([MI, 128 * MI]))):
			ns, name, c, desc, names = plant(rt, "over", "over-provisioned", floor_wins,
			                                 None, pick=floor_between(step), mode=R.choice(["mem", "both"]))
			why = "%s: memory lowered only to the runtime floor" % desc
			self.expect("over-provisioned", ns, "Deployment", name, c["name"])
			self.memory_floor(ns, "Deployment", name, c["name"], c["floor"], why, True)
			self.memory_request(ns, "Deployment", name, c["name"], c["floor"], why, evidence=["runtime_memory"],
			                    mentions=names)

		# -XX:MaxRAMPercentage=75 of the limit: the floor (93.75% of the limit) leaves no significant reduction, or
		# without a limit memory is not lowered at all: CPU lowered, memory request kept
		for limit in ((lambda: R.choice([1, 1, 1.5, 2])), 0):
			ns, name, c, desc, names = plant(
				"jvm-pct", "over", "over-provisioned",
				lambda c, j: j["cpu_over"] and j["mem_over_by_usage"] and not j["mem_over"], None, pct=75,
				limit=limit, mode="both")
			why = "%s: memory kept, CPU lowered" % desc
			self.expect("over-provisioned", ns, "Deployment", name, c["name"])
			self.memory_floor(ns, "Deployment", name, c["name"], min(c.get("floor") or c["mem"], c["mem"]), why, True)
			self.memory_request(ns, "Deployment", name, c["name"], c["mem"], why, evidence=["runtime_memory"],
			                    mentions=names)

		# near miss: memory over-provisioned by usage alone, CPU well-sized, but the heap's floor leaves no
		# significant reduction (floor just under the request) or is above the request: no finding
		def near_request(c):
			f = c["mem"] * (R.uniform(0.84, 0.88) if R.random() < 0.6 else R.uniform(1.15, 1.5))
			return max(roundup(heap_for(f), MI), 128 * MI)
		rt = R.choice(["jvm-env", "jvm-sh", "node-args", "go-any", "dotnet"])
		ns, name, c, desc, names = plant(
			rt, "over", None, lambda c, j: j["mem_over_by_usage"] and not j["cpu_over"] and not j["mem_over"], None,
			pick=near_request, mode="mem")
		why = "%s: the runtime floor leaves no significant memory reduction" % desc
		self.near("over-provisioned", ns, "Deployment", name, why, c["name"])
		self.memory_floor(ns, "Deployment", name, c["name"], min(c["floor"], c["mem"]), why, False)

		# look-alikes: a small heap whose floor is well under the usage target: as without the setting
		def small_heap(c):
			hi = usage_target(c) / 1.2 - RT_MIN  # floor = heap + 128Mi below the target / 1.2
			if hi < 96 * MI:
				return None
			return roundup(R.uniform(min(64 * MI, hi / 2), min(hi, 512 * MI)), MI)

		for rt in (R.choice(["jvm-sh", "jvm-env", "jvm-args"]), "node-args", R.choice(["go-any", "go-off"]),
		           "dotnet-pct"):
			pct = (lambda: R.randint(5, 25)) if rt == "dotnet-pct" else None
			pick = small_heap if rt not in ("dotnet-pct", "go-off") else None
			check = (lambda c, j: j["mem_over"] and j["mem_target"] == j["mem_usage_target"])
			ns, name, c, desc, names = plant(rt, "over", "over-provisioned", check, None, pick=pick, pct=pct,
			                                 limit=(lambda: R.choice([1, 1.5])) if rt == "dotnet-pct" else None,
			                                 mode=R.choice(["mem", "both"]))
			why = "%s: a small heap, the usage target wins" % desc
			self.expect("over-provisioned", ns, "Deployment", name, c["name"])
			if c.get("floor"):
				self.memory_floor(ns, "Deployment", name, c["name"], c["floor"], why, True)
			self.memory_request(ns, "Deployment", name, c["name"], c["judged"]["rec_mem"], why)

	# ------------------------------------------------------------------ VerticalPodAutoscalers
	def vpa_cpu(self, m):
		"""m millicores as a VPA recommendation prints them: (string, the millicores kopilot reads, >= m)."""
		m = max(1, int(math.ceil(m)))
		if m % 1000 == 0 and self.rng.random() < 0.5:
			return "%d" % (m // 1000), m
		return "%dm" % m, m

	def vpa_mem(self, b):
		"""b bytes as a VPA recommendation prints them ("262144k", "300Mi", plain bytes): (string, the bytes
		kopilot reads, >= b)."""
		form = self.rng.choice(["k", "k", "Mi", "bytes"])
		if form == "k":
			v = int(math.ceil(b / 1000))
			return "%dk" % v, v * 1000
		if form == "Mi":
			v = int(math.ceil(b / MI))
			return "%dMi" % v, v * MI
		v = int(math.ceil(b))
		return "%d" % v, v

	def vpa_rec(self, c, lower=None):
		"""status.recommendation.containerRecommendations[] for container c: bounds around its usage; lower =
		((cpu string, m), (memory string, bytes)) as vpa_cpu/vpa_mem return them, the target above it."""
		R = self.rng
		u = c["use"]
		if lower is None:
			lower = (self.vpa_cpu(u["p95"] * R.uniform(0.4, 0.7)), self.vpa_mem(u["mem_max"] * R.uniform(0.5, 0.8)))
		tcpu = max(u["p95"] * R.uniform(1.05, 1.2), lower[0][1] * R.uniform(1.1, 1.3))
		tmem = max(u["mem_max"] * R.uniform(1.1, 1.3), lower[1][1] * R.uniform(1.1, 1.3))
		target = {"cpu": self.vpa_cpu(tcpu)[0], "memory": self.vpa_mem(tmem)[0]}
		return {"containerName": c["name"], "lowerBound": {"cpu": lower[0][0], "memory": lower[1][0]},
		        "target": target, "uncappedTarget": dict(target),
		        "upperBound": {"cpu": self.vpa_cpu(tcpu * R.uniform(2, 5))[0],
		                       "memory": self.vpa_mem(tmem * R.uniform(1.5, 3))[0]}}

	def vpa(self, ns, target, mode=None, policies=None, recs=None, name=None):
		"""A VerticalPodAutoscaler in ns for target (apiVersion, kind, name); mode: spec.updatePolicy.updateMode
		(None: no updatePolicy, the VPA's default Auto); policies: resourcePolicy.containerPolicies; recs: its
		status.recommendation.containerRecommendations (None: no recommendation yet). Returns its name."""
		R = self.rng
		name = name or R.choice([target[2], target[2] + "-vpa", target[2] + "-vpa"])
		while (ns, name) in self.vpa_names:
			name += "-2"
		self.vpa_names.add((ns, name))
		created = self.ago(days=R.randint(20, 300)) if recs is not None else self.ago(minutes=R.randint(20, 600))
		spec = {"targetRef": {"apiVersion": target[0], "kind": target[1], "name": target[2]}}
		if mode is not None:
			spec["updatePolicy"] = {"updateMode": mode}
			if mode != "Off" and R.random() < 0.3:
				spec["updatePolicy"]["minReplicas"] = 1
		if policies:
			spec["resourcePolicy"] = {"containerPolicies": policies}
		v = {"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
		     "metadata": self.meta(ns, name, created, labels={"app.kubernetes.io/part-of": ns}), "spec": spec}
		if recs is not None:
			v["status"] = {"conditions": [{"type": "RecommendationProvided", "status": "True",
			                               "lastTransitionTime": ts(created + dt.timedelta(minutes=2))}],
			               "recommendation": {"containerRecommendations": recs}}
		elif R.random() < 0.5:  # created, no recommendation yet (or no recommender running)
			v["status"] = {}
		self.obj["verticalpodautoscalers"].append(v)
		return name

	def vpa_cases(self, team_ns):
		"""VerticalPodAutoscalers: one in an updating mode owns the requests it controls (kopilot proposes no change
		to them: a skip naming it, or a finding on the rest with vpa_owner evidence); updateMode Off is input: its
		lowerBound (rounded up to 5m / 1Mi) is a floor under kopilot's targets (vpa_recommendation evidence)."""
		R = self.rng
		bases = ["checkout-api", "recommender", "sessions", "media-proxy", "search-suggest", "cart", "wishlist",
		         "notifications", "tax-engine", "shipping-quotes"]

		def deploy(c, reps, ns=None, base=None):
			ns = ns or R.choice(team_ns)
			name, _ = self.deployment(ns, base or R.choice(bases), reps, c if isinstance(c, list) else [c])
			return ns, name

		def own(*res):
			def mod(c):
				c["vpa_owned"] = res
			return mod

		def fully_owned(reps):  # no change left, though there would be a finding without the VPA
			def check(c, j):
				cat, _, ok, _ = judge_detail(dict(c, vpa_owned=()), reps)
				return ok and cat == "over-provisioned"
			return check

		def owned_skip(ns, kind, name, c, vname, mode, why):
			self.near("over-provisioned", ns, kind, name, why, c["name"])
			self.skip(ns, kind, name, why, reason=["set by VerticalPodAutoscaler %s" % vname, "updateMode %s" % mode])

		def controlled_values():
			return {"controlledValues": R.choice(["RequestsAndLimits", "RequestsOnly"])} if R.random() < 0.4 else {}

		def allowed(c):
			return {"minAllowed": {"cpu": "10m", "memory": "32Mi"},
			        "maxAllowed": {"cpu": fmt_cpu(c["cpu"] * 4), "memory": fmt_mem(c["mem"] * 4)}} \
				if R.random() < 0.5 else {}

		# (a) updateMode absent (Auto): the VPA sets both requests: no change proposed, a skip naming it
		reps = 1
		c = self.container("over", small=True, replicas=reps, mod=own("cpu", "memory"), want=None, check=fully_owned(reps))
		ns, name = deploy(c, reps)
		pol = R.choice([None, [dict({"containerName": "*"}, **allowed(c))]])
		v = self.vpa(ns, ("apps/v1", "Deployment", name), mode=None, policies=pol, recs=[self.vpa_rec(c)])
		owned_skip(ns, "Deployment", name, c, v, "Auto",
		           "VPA %s without an updatePolicy (Auto) sets its requests" % v)
		# (b) a StatefulSet under a VPA in another updating mode, its container named in the policy
		reps = 1
		mode = R.choice(VPA_UPDATING)
		c = self.container("over", small=True, replicas=reps, mod=own("cpu", "memory"), want=None, check=fully_owned(reps))
		ns = R.choice(team_ns)
		name, _ = self.statefulset(ns, R.choice(["ledger-db", "queue-broker", "cache-store"]), reps, [c])
		v = self.vpa(ns, ("apps/v1", "StatefulSet", name), mode=mode,
		             policies=[dict({"containerName": R.choice(["*", c["name"]]),
		                             "controlledResources": R.choice([["cpu", "memory"], ["memory", "cpu"]])},
		                            **controlled_values())], recs=[self.vpa_rec(c)])
		owned_skip(ns, "StatefulSet", name, c, v, mode, "VPA %s (updateMode %s) sets its requests" % (v, mode))
		# (c) an updating VPA with no recommendation yet still owns them
		reps = 1
		mode = R.choice(VPA_UPDATING)
		c = self.container("over", small=True, replicas=reps, mod=own("cpu", "memory"), want=None, check=fully_owned(reps))
		ns, name = deploy(c, reps)
		v = self.vpa(ns, ("apps/v1", "Deployment", name), mode=mode, recs=None)
		owned_skip(ns, "Deployment", name, c, v, mode,
		           "VPA %s (updateMode %s, no recommendation yet) sets its requests" % (v, mode))
		# (d) controlledResources [cpu] on a container over-provisioned on both: memory lowered, CPU kept
		# (e) controlledResources [memory]: CPU lowered, memory kept
		for res, other in (("cpu", "mem"), ("memory", "cpu")):
			reps = 1
			c = self.container("over", small=True, replicas=reps, mode="both", mod=own(res),
			                   check=lambda c, j: j[other + "_over"] and j[res[:3] + "_over_by_usage"])
			ns, name = deploy(c, reps)
			mode = R.choice(VPA_UPDATING + [None])
			v = self.vpa(ns, ("apps/v1", "Deployment", name), mode=mode,
			             policies=[dict({"containerName": R.choice(["*", c["name"]]), "controlledResources": [res]},
			                            **controlled_values())], recs=[self.vpa_rec(c)])
			why = "VPA %s (updateMode %s) controls only %s: the %s request is kept, the other lowered" % (
				v, mode or "Auto", res, res)
			self.expect("over-provisioned", ns, "Deployment", name, c["name"])
			self.sizes(ns, "Deployment", name, c, why, evidence=["vpa_owner"])
		# (f) the VPA targets the operator's custom resource that controls the StatefulSet
		api, crkind, crname, base, cname = R.choice(self.OPERATOR_STS)
		reps = 1
		c = self.container("over", small=True, name=cname, replicas=reps, mod=own("cpu", "memory"), want=None,
		                   check=fully_owned(reps))
		ns = R.choice(team_ns)
		name, _ = self.statefulset(ns, base, reps, [c], owner=(api, crkind, crname, self.uid()))
		mode = R.choice(VPA_UPDATING)
		v = self.vpa(ns, (api, crkind, crname), mode=mode, recs=[self.vpa_rec(c)])
		owned_skip(ns, "StatefulSet", name, c, v, mode,
		           "VPA %s (updateMode %s) targets %s %s, the StatefulSet's controller" % (v, mode, crkind, crname))
		# (g) look-alike: a VPA in another namespace names the same Deployment: nothing to do with it
		reps = 1
		c = self.container("over", small=True, replicas=reps)
		ns, name = deploy(c, reps)
		other = R.choice([n for n in team_ns if n != ns and (n, name) not in self.names])
		self.names.add((other, name))  # no workload of that name there, now or later: the VPA targets nothing
		v = self.vpa(other, ("apps/v1", "Deployment", name), mode=R.choice(VPA_UPDATING), recs=[self.vpa_rec(c)])
		why = "VPA %s/%s names a Deployment %s in another namespace: sized as usual" % (other, v, name)
		self.expect("over-provisioned", ns, "Deployment", name, c["name"])
		self.sizes(ns, "Deployment", name, c, why, no_evidence=["vpa_owner", "vpa_recommendation"])

		# updateMode Off: the lowerBound is a floor
		def cpu_usage_target(c):
			return roundup(max(c["use"]["p95"] * (1 + CPU_MARGIN), CPU_FLOOR), 5)

		def mem_usage_target(c):
			return roundup(max(c["use"]["mem_max"] * (1 + MEM_MARGIN), MEM_FLOOR), MI)

		def lower(cpu_m, mem_b):
			def mod(c):
				lc, lm = self.vpa_cpu(cpu_m(c)), self.vpa_mem(mem_b(c))
				c["vpa_lower"] = (lc, lm)
				c["vpa_floor"] = (roundup(lc[1], 5), roundup(lm[1], MI))
			return mod

		def off(ns, name, c):
			return self.vpa(ns, ("apps/v1", "Deployment", name), mode="Off", recs=[self.vpa_rec(c, c["vpa_lower"])])

		# (h) both lowerBounds between kopilot's targets and the requests: the requests lowered to them
		reps = 1

		def between(target, cur):
			return lambda c: R.uniform(1.2 * target(c), max(1.2 * target(c), 0.7 * c[cur]))
		c = self.container("over", small=True, replicas=reps, mode="both",
		                   mod=lower(between(cpu_usage_target, "cpu"), between(mem_usage_target, "mem")),
		                   check=lambda c, j: j["cpu_over"] and j["mem_over"] and
		                   (j["cpu_target"], j["mem_target"]) == c["vpa_floor"])
		ns, name = deploy(c, reps)
		v = off(ns, name, c)
		why = "VPA %s (updateMode Off) lowerBound %s CPU / %s memory above kopilot's targets: the floor" % (
			v, c["vpa_lower"][0][0], c["vpa_lower"][1][0])
		self.expect("over-provisioned", ns, "Deployment", name, c["name"])
		self.sizes(ns, "Deployment", name, c, why, evidence=["vpa_recommendation"], no_evidence=["vpa_owner"])
		# (i) near miss: the only over-provisioned resource's lowerBound leaves no significant reduction
		reps = 1
		res = R.choice(["cpu", "mem"])

		def near_request(cur):
			return lambda c: c[cur] * (R.uniform(0.84, 0.88) if R.random() < 0.6 else R.uniform(1.1, 1.4))

		def low(target):
			return lambda c: target(c) * R.uniform(0.3, 0.7)
		mod = lower(near_request("cpu"), low(mem_usage_target)) if res == "cpu" else \
			lower(low(cpu_usage_target), near_request("mem"))
		c = self.container("over", small=True, replicas=reps, mode=res, mod=mod, want=None,
		                   check=lambda c, j: not j["cpu_over"] and not j["mem_over"] and j[res + "_over_by_usage"])
		ns, name = deploy(c, reps)
		v = off(ns, name, c)
		self.near("over-provisioned", ns, "Deployment", name,
		          "VPA %s (updateMode Off) lowerBound %s leaves no significant %s reduction" % (
			          v, c["vpa_lower"][0 if res == "cpu" else 1][0], "CPU" if res == "cpu" else "memory"), c["name"])
		# (j) look-alike: lowerBounds well under kopilot's targets: sized as usual
		reps = 1
		c = self.container("over", small=True, replicas=reps, mod=lower(low(cpu_usage_target), low(mem_usage_target)),
		                   check=lambda c, j: j["cpu_target"] == j["cpu_usage_target"] and
		                   j["mem_target"] == j["mem_usage_target"])
		ns, name = deploy(c, reps)
		v = off(ns, name, c)
		why = "VPA %s (updateMode Off) lowerBound under kopilot's targets: sized as usual" % v
		self.expect("over-provisioned", ns, "Deployment", name, c["name"])
		self.sizes(ns, "Deployment", name, c, why, evidence=["vpa_recommendation"], no_evidence=["vpa_owner"])

		# (k) container policies: "*" owns the sidecar, the app's own entry (mode Off) wins over "*": the app is
		# sized as usual, the sidecar not at all
		reps = 1
		app = self.container("over", small=True, name="app", replicas=reps)
		side = self.container("over", small=True, name="envoy", replicas=reps, mode="both", mod=own("cpu", "memory"), want=None,
		                      check=fully_owned(reps))
		ns, name = deploy([app, side], reps, base=R.choice(["edge-gateway", "partner-api"]))
		pol = [dict({"containerName": "*"}, **allowed(side)), {"containerName": "app", "mode": "Off"}]
		R.shuffle(pol)
		mode = R.choice(VPA_UPDATING)
		v = self.vpa(ns, ("apps/v1", "Deployment", name), mode=mode, policies=pol, recs=[self.vpa_rec(side)])
		self.expect("over-provisioned", ns, "Deployment", name, "app")
		self.sizes(ns, "Deployment", name, app, "VPA %s: the app's own policy (mode Off) wins over \"*\"" % v,
		           no_evidence=["vpa_owner"])
		self.near("over-provisioned", ns, "Deployment", name, "VPA %s (updateMode %s) \"*\" sets its requests" % (
			v, mode), "envoy")
		# (l) "*" mode Off, the container's own entry controls it: owned
		reps = 1
		c = self.container("over", small=True, replicas=reps, mod=own("cpu", "memory"), want=None, check=fully_owned(reps))
		ns, name = deploy(c, reps)
		pol = [{"containerName": "*", "mode": "Off"},
		       dict({"containerName": c["name"]}, **R.choice([{}, {"mode": "Auto"}]), **controlled_values())]
		R.shuffle(pol)
		mode = R.choice(VPA_UPDATING)
		v = self.vpa(ns, ("apps/v1", "Deployment", name), mode=mode, policies=pol, recs=[self.vpa_rec(c)])
		owned_skip(ns, "Deployment", name, c, v, mode,
		           "VPA %s (updateMode %s): the container's own policy wins over \"*\" mode Off" % (v, mode))

	# ------------------------------------------------------------------ operators that own the requests
	# (apiVersion, kind, name of the custom resource, the workload it controls, its container)
	OPERATOR_STS = [("monitoring.coreos.com/v1", "Alertmanager", "main", "alertmanager-main", "alertmanager"),
	                ("elasticsearch.k8s.elastic.co/v1", "Elasticsearch", "logging", "logging-es-default",
	                 "elasticsearch"),
	                ("rabbitmq.com/v1beta1", "RabbitmqCluster", "events", "events-server", "rabbitmq")]
	OPERATOR_DEPLOY = [("grafana.integreatly.org/v1beta1", "Grafana", "grafana", "grafana-deployment", "grafana"),
	                   ("jaegertracing.io/v1", "Jaeger", "tracing", "tracing", "jaeger"),
	                   ("kafka.strimzi.io/v1beta2", "KafkaConnect", "connect", "connect-connect", "connect")]

	def operator_cases(self, team_ns):
		"""A workload whose controller is an operator's custom resource: the operator rewrites its requests, so the
		finding (same sizes) has no command, resource.managed_by and requests_owner evidence; the same reference
		with controller false changes nothing."""
		R = self.rng
		# (a) the Prometheus operator's StatefulSet
		reps = R.randint(1, 2)
		c = self.container("over", small=True, name="prometheus", replicas=reps)
		ns = R.choice(team_ns)
		prom = ("monitoring.coreos.com/v1", "Prometheus", "k8s", self.uid())
		name, _ = self.statefulset(ns, "prometheus-k8s", reps, [c], owner=prom,
		                           claims=[("prometheus-k8s-db", "%dGi" % R.choice([50, 100]))])
		why = "StatefulSet controlled by Prometheus k8s: the operator sets its requests"
		self.expect("over-provisioned", ns, "StatefulSet", name, c["name"])
		self.sizes(ns, "StatefulSet", name, c, why, evidence=["requests_owner"])
		self.requests_owner(ns, "StatefulSet", name, c["name"], ("Prometheus", "k8s"), why)
		# (b) look-alike: a Deployment beside it with the same ownerReference, controller false (garbage
		# collection only): an ordinary finding with a command
		reps = 1
		c = self.container("over", small=True, name="adapter", replicas=reps)
		name, _ = self.deployment(ns, "prometheus-adapter", reps, [c], owner=prom + (False,))
		why = "ownerReference Prometheus k8s with controller false: not its owner"
		self.expect("over-provisioned", ns, "Deployment", name, c["name"])
		self.sizes(ns, "Deployment", name, c, why, no_evidence=["requests_owner"])
		self.requests_owner(ns, "Deployment", name, c["name"], None, why)
		# (c) a Deployment controlled by another operator's resource
		api, crkind, crname, base, cname = R.choice(self.OPERATOR_DEPLOY)
		reps = 1
		c = self.container("over", small=True, name=cname, replicas=reps)
		ns = R.choice(team_ns)
		name, _ = self.deployment(ns, base, reps, [c], owner=(api, crkind, crname, self.uid()))
		why = "Deployment controlled by %s %s: the operator sets its requests" % (crkind, crname)
		self.expect("over-provisioned", ns, "Deployment", name, c["name"])
		self.sizes(ns, "Deployment", name, c, why, evidence=["requests_owner"])
		self.requests_owner(ns, "Deployment", name, c["name"], (crkind, crname), why)

	# ------------------------------------------------------------------ the cell
	def namespace(self, name, labels=None, created=None):
		lab = {"kubernetes.io/metadata.name": name}
		lab.update(labels or {})
		self.obj["namespaces"].append({"apiVersion": "v1", "kind": "Namespace",
		                               "metadata": self.meta(None, name, created or self.ago(days=self.rng.randint(200, 900)),
		                                                     labels=lab),
		                               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

	def cell(self, k):
		R = self.rng
		sfx = "" if k == 0 else "-%d" % k
		teams = R.sample(["payments", "search", "analytics", "checkout", "web", "data", "ml", "identity",
		                  "catalog", "billing", "growth", "platform"], 6)
		team_ns = [t + sfx for t in teams]
		for ns in team_ns:
			self.namespace(ns, {"team": ns.split("-")[0]})
		sandbox = "sandbox" + sfx
		self.namespace(sandbox, {"kopilot.io/ignore": "true"})
		KS = "kube-system"
		self.pods_by_ns = {}

		def ks_name(base):
			return base + sfx

		# nodes of this cell
		self.cell_nodes = {"main": [], "tainted": [], "spare": [], "trap": []}
		for _ in range(3):
			self.cell_nodes["main"].append((self.add_node("main", "m5.4xlarge"), None))
		taint = {"key": "dedicated", "value": "ml-training", "effect": "NoSchedule"}
		for _ in range(2):
			self.cell_nodes["tainted"].append((self.add_node("tainted", "m5.8xlarge", taints=[taint],
			                                                 labels={"pool": "ml-training"}), None))
		# spare nodes (underutilized-node findings) and what the autoscalers are told about them and their pods:
		# a node annotated "false" (look-alike), pods that may not be evicted (risk critical), and two nodes
		# that would be findings but whose scale-down is disabled (skipped, still targets of moved pods)
		roles = ["node-false", "evict-false", "karpenter-pod"] + ["plain"] * (R.randint(3, 4) - 3) + [
			"held-ca", "held-karpenter"]
		R.shuffle(roles)
		node_ann = {"node-false": {CA_SCALE_DOWN_DISABLED: "false"},
		            "karpenter-pod": {KARPENTER_DO_NOT_DISRUPT: "false"},
		            "held-ca": {CA_SCALE_DOWN_DISABLED: "true"}, "held-karpenter": {KARPENTER_DO_NOT_DISRUPT: "true"}}
		for role in roles:
			self.cell_nodes["spare"].append((self.add_node("spare", "m5.2xlarge", ann=node_ann.get(role)), role))
		# The trap node carries a taint only its own pod tolerates, so at --scale > 1 another cell's trap pod
		# cannot land on it either.
		trap_taint = {"key": "dedicated", "value": "inference" + sfx, "effect": "NoSchedule"}
		trap = self.add_node("trap", "m5.8xlarge", taints=[trap_taint], labels={"pool": "inference" + sfx})
		self.cell_nodes["trap"].append((trap, None))
		if k == 0:
			cp = self.add_node("cp", "m5.xlarge", taints=[{"key": "node-role.kubernetes.io/control-plane",
			                                               "effect": "NoSchedule"}],
			                   labels={"node-role.kubernetes.io/control-plane": ""})
			self.near("underutilized-node", None, "Node", cp, "control-plane node with almost nothing requested")

		# ---- over-provisioned
		kinds = ["Deployment"] * R.randint(3, 4) + ["StatefulSet"]
		for i, kind in enumerate(kinds):
			ns = KS if i == 0 else R.choice(team_ns)
			reps = R.randint(1, 4)
			mode = "spiky" if i == 1 else None
			c = self.container("over", replicas=reps, mode=mode)
			base = ks_name("metrics-adapter") if ns == KS else R.choice(["api", "frontend", "gateway", "indexer",
			                                                             "renderer", "consumer", "scheduler"])
			if kind == "Deployment":
				name, _ = self.deployment(ns, base, reps, [c])
			else:
				name, _ = self.statefulset(ns, base + "-db", reps, [c], claims=[("data", "%dGi" % R.choice([10, 20, 50]))])
			self.expect("over-provisioned", ns, kind, name, c["name"])
		# HPA target, over-provisioned: savings use the HPA's current replicas
		reps = R.randint(3, 6)
		c = self.container("over", replicas=reps, mode="cpu")
		ns = R.choice(team_ns)
		name, _ = self.deployment(ns, "web-hpa", reps, [c], hpa=(2, 12))
		self.expect("over-provisioned", ns, "Deployment", name, c["name"])
		# two containers: one over (sidecar-like), one well-sized
		reps = R.randint(2, 3)
		c1 = self.container("well", name="app", replicas=reps)
		c2 = self.container("over", name="envoy", replicas=reps, mode="both")
		ns = R.choice(team_ns)
		name, _ = self.deployment(ns, "edge-proxy", reps, [c1, c2])
		self.expect("over-provisioned", ns, "Deployment", name, "envoy")
		self.near("over-provisioned", ns, "Deployment", name, "well-sized container beside an over-provisioned one",
		          "app")
		# CronJob over all its runs: 2h every 3h -> ~2/3 of a pod on average
		c = self.C("etl", 2000, 4 * GI, {"p95": R.uniform(200, 400), "mem_max": int(R.uniform(600, 900) * MI)})
		assert judge(c, 0.66)[0] == "over-provisioned" and judge(c, 0.66)[2]
		ns = R.choice(team_ns)
		name = self.cronjob(ns, "etl-hourly", c, 3, 120)
		self.expect("over-provisioned", ns, "CronJob", name, "etl")

		# ---- under-provisioned
		for i, mode in enumerate(["mem", "oom", "cpu", R.choice(["mem", "oom", "cpu"])]):
			ns = KS if i == 0 else R.choice(team_ns)
			reps = R.randint(1, 3)
			c = self.container("under", replicas=reps, mode=mode)
			base = ks_name("coredns-autoscaler") if ns == KS else R.choice(["search-api", "aggregator", "cache",
			                                                                "ledger", "events"])
			name, _ = self.deployment(ns, base, reps, [c])
			self.expect("under-provisioned", ns, "Deployment", name, c["name"])

		# ---- well-sized and near misses of rightsizing
		for _ in range(R.randint(4, 6)):
			ns = R.choice(team_ns)
			reps = R.randint(1, 3)
			c = self.container("well", replicas=reps)
			name, _ = self.deployment(ns, R.choice(["svc", "worker", "web", "backend"]), reps, [c])
			self.near("over-provisioned", ns, "Deployment", name, "well-sized (target within 10% of request)", c["name"])
		for _ in range(2):
			ns = R.choice(team_ns)
			reps = R.randint(2, 4)
			c = self.container("borderline", replicas=reps)
			name, _ = self.deployment(ns, "borderline", reps, [c])
			self.near("over-provisioned", ns, "Deployment", name, "reduction ~15%, under the 20% bar", c["name"])
		for _ in range(2):
			ns = R.choice(team_ns)
			c = self.container("cheap", replicas=1)
			name, _ = self.deployment(ns, "admin-ui", 1, [c])
			self.near("over-provisioned", ns, "Deployment", name, "memory reduction saves under $1/month", c["name"])
		for _ in range(2):
			ns = R.choice(team_ns)
			reps = R.randint(1, 3)
			c = self.container("spiky", replicas=reps)
			name, _ = self.deployment(ns, "reconciler", reps, [c])
			self.near("over-provisioned", ns, "Deployment", name, "spiky memory: p50 low, peak near the request",
			          c["name"])
		# well-sized HPA target
		reps = R.randint(2, 5)
		c = self.container("well", replicas=reps)
		ns = R.choice(team_ns)
		name, _ = self.deployment(ns, "api-hpa", reps, [c], hpa=(2, 10))
		self.near("over-provisioned", ns, "Deployment", name, "well-sized HPA target", c["name"])
		# short history: over-provisioned usage, but < 24h of it
		for i in range(2):
			ns = KS if i == 0 else R.choice(team_ns)
			c = self.container("over", replicas=2)
			created = self.ago(hours=R.uniform(8, 20))
			name, _ = self.deployment(ns, ks_name("new-addon") if ns == KS else "new-service", 2, [c],
			                          created=created, started=created + dt.timedelta(minutes=2))
			self.near("over-provisioned", ns, "Deployment", name, "short history (< 24h)", c["name"])
			self.skip(ns, "Deployment", name, "short history")
		# ignored workload and a workload in an ignored namespace
		for ns, lab in ((R.choice(team_ns), {"kopilot.io/ignore": "true"}), (sandbox, None)):
			c = self.container("over", replicas=2)
			name, _ = self.deployment(ns, "experiment", 2, [c], labels=lab)
			self.near("over-provisioned", ns, "Deployment", name, "kopilot.io/ignore", c["name"])
			self.skip(ns, "Deployment", name, "ignored")

		self.oom_cases(team_ns)
		self.runtime_cases(team_ns)
		self.vpa_cases(team_ns)
		self.operator_cases(team_ns)

		# ---- idle workloads
		def idle_use(burst=False, restarts=0):
			base = int(R.uniform(40, 300) * MI)
			u = {"idle": True, "p95": R.uniform(0.5, 3.5), "cpu_max": R.uniform(6, 18), "mem_max": base,
			     "mem_spread": int(R.uniform(2, 8) * MI), "restarts": restarts}
			if burst:
				u["cpu_max"] = R.uniform(35, 80)
			return u

		for i in range(R.randint(3, 4)):
			ns = KS if i == 0 else R.choice(team_ns)
			cpu = R.choice([100, 200, 250, 500, 1000])
			mem = R.choice([256, 512, 1024, 2048]) * MI
			c = self.C("app", cpu, mem, idle_use())
			c["use"]["mem_max"] = min(c["use"]["mem_max"], int(mem * 0.7))
			reps = R.randint(1, 3)
			if i == 2:
				name, _ = self.statefulset(ns, "legacy-queue", reps, [c], claims=[("data", "5Gi")])
				kind = "StatefulSet"
			else:
				name, _ = self.deployment(ns, ks_name("cluster-proportional-autoscaler") if ns == KS else
				                          R.choice(["legacy-api", "old-dashboard", "poc-service"]), reps, [c])
				kind = "Deployment"
			self.expect("idle-workload", ns, kind, name, None)
			self.near("over-provisioned", ns, kind, name, "idle: reported as idle, not also rightsized", "app")
		for why, use, created in (("CPU burst above the idle max", idle_use(burst=True), None),
		                          ("restarts in the window", idle_use(restarts=2), None),
		                          ("young (3 days)", idle_use(), self.ago(days=3, hours=R.randint(0, 20)))):
			ns = R.choice(team_ns)
			c = self.C("app", 10, 64 * MI, use)
			c["use"]["mem_max"] = int(R.uniform(38, 44) * MI)
			c["use"]["mem_spread"] = int(R.uniform(2, 6) * MI)
			assert judge(dict(c, use={"p95": use["p95"], "mem_max": use["mem_max"]}), 1)[0] is None
			name, _ = self.deployment(ns, "quiet-svc", 1, [c], created=created,
			                          started=created + dt.timedelta(minutes=3) if created else None)
			self.near("idle-workload", ns, "Deployment", name, why)

		# ---- zero-replica workloads
		for i in range(R.randint(3, 4)):
			ns = KS if i == 0 else R.choice(team_ns)
			c = self.container("well")
			n_pvc = R.randint(1, 3)
			name, _ = self.statefulset(ns, ks_name("etcd-backup") if ns == KS else
			                           R.choice(["elasticsearch", "kafka", "mongodb", "rabbitmq"]), 0, [c],
			                           claims=[("data", "%dGi" % R.choice([20, 50, 100]))], existing_pvcs=range(n_pvc))
			self.expect("zero-replica-workload", ns, "StatefulSet", name)
			for o in range(n_pvc):
				self.near("orphaned-pvc", ns, "PersistentVolumeClaim", "data-%s-%d" % (name, o),
				          "claim of a StatefulSet at 0 replicas")
		# Deployment at 0 naming a claim in its template
		ns = R.choice(team_ns)
		claim = self.uniq(ns, "reports-archive")
		self.pvc(ns, claim, "30Gi", self.ago(days=R.randint(60, 300)))
		c = self.container("well")
		name, _ = self.deployment(ns, "report-archiver", 0, [c], volumes=[
			{"name": "archive", "persistentVolumeClaim": {"claimName": claim}}])
		self.expect("zero-replica-workload", ns, "Deployment", name)
		self.near("orphaned-pvc", ns, "PersistentVolumeClaim", claim, "named by a Deployment template at 0 replicas")
		# Deployment at 0 behind a LoadBalancer: zero-replica; the LB (no endpoints) is priced in that finding
		# and not reported again as an idle load balancer (zero_replica.c marks it held_by_zero_replica)
		ns = R.choice(team_ns)
		c = self.container("well")
		name, labels = self.deployment(ns, "promo-site", 0, [c])
		self.expect("zero-replica-workload", ns, "Deployment", name)
		lb = self.service(ns, name + "-public", labels, lb=True, slice_mode="empty")
		self.near("idle-loadbalancer", ns, "Service", lb, "held by a zero-replica Deployment: reported there, once")
		# near misses
		ns = R.choice(team_ns)
		name, _ = self.deployment(ns, "parked-worker", 0, [self.container("well")])
		self.near("zero-replica-workload", ns, "Deployment", name, "at 0 replicas, holds nothing")
		ns = R.choice(team_ns)
		created = self.ago(days=3, hours=R.randint(1, 20))
		name, _ = self.statefulset(ns, "migration-target", 0, [self.container("well")], claims=[("data", "10Gi")],
		                           existing_pvcs=range(2), created=created)
		self.near("zero-replica-workload", ns, "StatefulSet", name, "young (3 days)")
		ns = R.choice(team_ns)
		name, _ = self.statefulset(ns, "archive-db", 0, [self.container("well")], claims=[("data", "10Gi")],
		                           existing_pvcs=range(1), labels={"kopilot.io/ignore": "true"})
		self.near("zero-replica-workload", ns, "StatefulSet", name, "kopilot.io/ignore")
		self.near("orphaned-pvc", ns, "PersistentVolumeClaim", "data-%s-0" % name, "claim of an ignored StatefulSet")

		# ---- StatefulSet scaled down 3 -> 1: ordinals 1 and 2 keep their claims (not orphans)
		ns = R.choice(team_ns)
		c = self.container("well")
		name, _ = self.statefulset(ns, "clickhouse", 1, [c], claims=[("data", "100Gi")], existing_pvcs=range(3))
		self.near("over-provisioned", ns, "StatefulSet", name, "well-sized", c["name"])
		for o in (0, 1, 2):
			self.near("orphaned-pvc", ns, "PersistentVolumeClaim", "data-%s-%d" % (name, o),
			          "StatefulSet claim (mounted or scaled-down ordinal)")

		# ---- orphaned PVCs
		for i in range(R.randint(3, 5)):
			ns = KS if i == 0 else R.choice(team_ns)
			name = self.uniq(ns, R.choice(["data-old-migration", "export", "scratch", "pg-dump", "tmp-restore"]))
			self.pvc(ns, name, "%dGi" % R.choice([5, 20, 50, 100, 200]), self.ago(days=R.randint(15, 400)))
			self.expect("orphaned-pvc", ns, "PersistentVolumeClaim", name)
		# near misses: mounted by a running Deployment pod
		ns = R.choice(team_ns)
		claim = self.uniq(ns, "uploads")
		self.pvc(ns, claim, "50Gi", self.ago(days=R.randint(60, 300)))
		c = self.container("well")
		self.deployment(ns, "uploader", 1, [c], volumes=[{"name": "up", "persistentVolumeClaim": {"claimName": claim}}])
		self.near("orphaned-pvc", ns, "PersistentVolumeClaim", claim, "mounted by a running pod")
		# CronJob PVC (mounted only while a run is active)
		ns = R.choice(team_ns)
		claim = self.uniq(ns, "backup-staging")
		self.pvc(ns, claim, "100Gi", self.ago(days=R.randint(60, 300)))
		cj_c = self.C("backup", 200, 256 * MI, self.u_well(200, 256 * MI))
		self.cronjob(ns, "nightly-backup", cj_c, 24, 30,
		             volumes=[{"name": "staging", "persistentVolumeClaim": {"claimName": claim}}])
		self.near("orphaned-pvc", ns, "PersistentVolumeClaim", claim, "named by a CronJob's job template")
		# fresh, Pending, ignored, ignored namespace
		ns = R.choice(team_ns)
		name = self.uniq(ns, "fresh-claim")
		self.pvc(ns, name, "10Gi", self.ago(days=R.uniform(1, 5)))
		self.near("orphaned-pvc", ns, "PersistentVolumeClaim", name, "inside the 7-day grace period")
		ns = R.choice(team_ns)
		name = self.uniq(ns, "pending-claim")
		self.pvc(ns, name, "10Gi", self.ago(days=R.randint(20, 90)), phase="Pending")
		self.near("orphaned-pvc", ns, "PersistentVolumeClaim", name, "Pending: no disk behind it")
		ns = R.choice(team_ns)
		name = self.uniq(ns, "keep-forever")
		self.pvc(ns, name, "10Gi", self.ago(days=R.randint(20, 90)), labels={"kopilot.io/ignore": "true"})
		self.near("orphaned-pvc", ns, "PersistentVolumeClaim", name, "kopilot.io/ignore")
		self.skip(ns, "PersistentVolumeClaim", name, "ignored")
		name = self.uniq(sandbox, "scratch")
		self.pvc(sandbox, name, "10Gi", self.ago(days=R.randint(20, 90)))
		self.near("orphaned-pvc", sandbox, "PersistentVolumeClaim", name, "in an ignored namespace")
		self.skip(sandbox, "PersistentVolumeClaim", name, "ignored namespace")

		# ---- unbound PVs
		for i, phase in enumerate(["Released", "Available", "Failed"] + (["Released"] if R.random() < 0.5 else [])):
			name = "pvc-" + self.uid()
			claim = (R.choice(team_ns + [KS]), "data-deleted-%s" % self.suffix(4), self.uid()) if phase != "Available" else None
			self.pv(name, "%dGi" % R.choice([10, 50, 100, 500]), self.ago(days=R.randint(15, 300)), phase, claim=claim,
			        reclaim="Retain" if phase == "Released" else "Delete")
			self.expect("unbound-pv", None, "PersistentVolume", name)
		name = "pvc-" + self.uid()
		self.pv(name, "20Gi", self.ago(days=R.uniform(0.5, 5)), "Released", claim=(R.choice(team_ns), "gone", self.uid()),
		        reclaim="Retain")
		self.near("unbound-pv", None, "PersistentVolume", name, "Released inside the 7-day grace period")
		name = "pvc-" + self.uid()
		self.pv(name, "20Gi", self.ago(days=R.randint(20, 90)), "Released", claim=(R.choice(team_ns), "gone2", self.uid()),
		        reclaim="Retain", labels={"kopilot.io/ignore": "true"})
		self.near("unbound-pv", None, "PersistentVolume", name, "kopilot.io/ignore")
		self.skip(None, "PersistentVolume", name, "ignored")

		# ---- idle load balancers (plus the zero-replica one above)
		for i in range(R.randint(3, 4)):
			ns = KS if i == 0 else R.choice(team_ns)
			if i == 1:  # pods exist but none is ready
				c = self.container("well")
				_, labels = self.deployment(ns, "broken-frontend", 1, [c])
				# make its pods not ready
				for _, pod in self.pods_by_ns[ns]:
					if pod["metadata"]["labels"].get("app.kubernetes.io/name") == labels["app.kubernetes.io/name"]:
						pod["status"]["conditions"][0]["status"] = "False"
						pod["status"]["containerStatuses"][0]["ready"] = False
				mode = "notready"
			else:
				labels = {"app.kubernetes.io/name": self.uniq(ns, "decommissioned")}
				mode = R.choice(["empty", "none"])
			lb = self.service(ns, ks_name("ingress-nginx-legacy") if ns == KS else "public-lb", labels, lb=True,
			                  slice_mode=mode, created=self.ago(days=R.randint(3, 200)))
			self.expect("idle-loadbalancer", ns, "Service", lb)
		# near misses
		ns = R.choice(team_ns)
		c = self.container("well")
		name, labels = self.deployment(ns, "storefront", 2, [c])
		lb = self.service(ns, "storefront-public", labels, lb=True)
		self.near("idle-loadbalancer", ns, "Service", lb, "has ready endpoints")
		self.service(ns, "storefront", labels)
		ns = R.choice(team_ns)
		lb = self.service(ns, "launch-lb", {"app.kubernetes.io/name": "not-yet"}, lb=True, slice_mode="empty",
		                  created=self.ago(hours=R.uniform(2, 20)))
		self.near("idle-loadbalancer", ns, "Service", lb, "created < 24h ago")
		ns = R.choice(team_ns)
		lb = self.service(ns, "external-db-lb", None, lb=True, slice_mode="none")
		self.near("idle-loadbalancer", ns, "Service", lb, "no selector and no slice: endpoints managed elsewhere")
		self.skip(ns, "Service", lb, "no selector, no slices")
		ns = R.choice(team_ns)
		lb = self.service(ns, "dr-standby-lb", {"app.kubernetes.io/name": "dr"}, lb=True, slice_mode="empty",
		                  labels={"kopilot.io/ignore": "true"})
		self.near("idle-loadbalancer", ns, "Service", lb, "kopilot.io/ignore")
		self.skip(ns, "Service", lb, "ignored")

		# ---- finished jobs
		for i in range(R.randint(3, 5)):
			ns = KS if i == 0 else R.choice(team_ns)
			start = self.ago(days=R.randint(16, 120), hours=R.randint(0, 23))
			name = self.job(ns, ks_name("aws-node-migrate") if ns == KS else
			                R.choice(["db-migrate", "backfill", "reindex", "one-off-export"]),
			                start, R.randint(60, 7200), failed=(i == 2))
			self.expect("finished-job", ns, "Job", name)
		# near misses: fresh, TTL, running, ignored (CronJob-owned ones come with the CronJobs)
		ns = R.choice(team_ns)
		name = self.job(ns, "db-migrate", self.ago(days=R.uniform(1, 5)), 600)
		self.near("finished-job", ns, "Job", name, "finished inside the 7-day grace period")
		ns = R.choice(team_ns)
		name = self.job(ns, "report-once", self.ago(days=R.randint(20, 60)), 900, ttl=90 * 86400)
		self.near("finished-job", ns, "Job", name, "has ttlSecondsAfterFinished")
		ns = R.choice(team_ns)
		name = self.job(ns, "long-backfill", self.ago(days=2), None)
		self.near("finished-job", ns, "Job", name, "still running")
		ns = R.choice(team_ns)
		name = self.job(ns, "keep-job", self.ago(days=R.randint(20, 60)), 900, labels={"kopilot.io/ignore": "true"})
		self.near("finished-job", ns, "Job", name, "kopilot.io/ignore")
		self.skip(ns, "Job", name, "ignored")
		# a CronJob whose finished Jobs are weeks old (history limit keeps them)
		ns = R.choice(team_ns)
		cjc = self.C("report", 100, 128 * MI, self.u_well(100, 128 * MI))
		cj_name = self.uniq(ns, "monthly-report")
		cj_meta = self.meta(ns, cj_name, self.ago(days=200))
		tpl = self.template({"app.kubernetes.io/name": cj_name}, [cjc])
		tpl["spec"]["restartPolicy"] = "OnFailure"
		self.obj["cronjobs"].append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": cj_meta,
		                             "spec": {"schedule": "0 3 1 * *", "successfulJobsHistoryLimit": 3,
		                                      "failedJobsHistoryLimit": 1, "suspend": False,
		                                      "jobTemplate": {"spec": {"template": tpl}}}})
		for d in (25, 55, 86):
			start = self.ago(days=d)
			self.job(ns, None, start, 1200, owner=("batch/v1", "CronJob", cj_name, cj_meta["uid"]),
			         name="%s-%d" % (cj_name, int(start.timestamp()) // 60), c=cjc)
			self.near("finished-job", ns, "Job", "%s-%d" % (cj_name, int(start.timestamp()) // 60), "owned by a CronJob")

		# ---- nodes: the trap node's one big pod, tainted-pool fillers, spare nodes, fillers
		big = self.C("inference", 8000, 16 * GI, {"p95": 8000 * 0.8, "mem_max": int(16 * GI * 0.76)})
		ns = R.choice(team_ns)
		self.deployment(ns, "batch-inference", 1, [big], pool=trap, tolerations=[
			{"key": "dedicated", "operator": "Equal", "value": "inference" + sfx, "effect": "NoSchedule"}])
		self.near("underutilized-node", None, "Node", trap,
		          "near-empty, but its 8-core pod fits only on tainted nodes")
		tol = [{"key": "dedicated", "operator": "Equal", "value": "ml-training", "effect": "NoSchedule"}]
		for tn, _ in self.cell_nodes["tainted"]:
			fc = self.C("trainer", 4000, 16 * GI, self.u_well(4000, 16 * GI))
			while self.nodes[tn]["cpu"] < 0.6 * self.nodes[tn]["alloc_cpu"]:
				self.deployment(ns, "trainer", 1, [fc], pool=tn, tolerations=tol, node_selector={"pool": "ml-training"})
			self.near("underutilized-node", None, "Node", tn, "~60% requested, tainted pool")
		for sn, role in self.cell_nodes["spare"]:
			held = role.startswith("held")
			target = R.uniform(0.08, 0.16) if held else R.uniform(0.12, 0.35)
			# annotations of the pods made on it, in order (the rest have none)
			plan = {"node-false": [{CA_SAFE_TO_EVICT: "true"}],
			        "evict-false": [{CA_SAFE_TO_EVICT: "false"}] * R.randint(1, 2),
			        "karpenter-pod": [{KARPENTER_DO_NOT_DISRUPT: "true"}, {CA_SAFE_TO_EVICT: "true"}]}.get(role, [])
			pinned = made = 0
			while True:
				cw = self.container("well")
				v = self.nodes[sn]
				if (v["cpu"] + cw["cpu"]) > target * v["alloc_cpu"] or \
						(v["mem"] + cw["mem"]) > (0.3 if held else 0.4) * v["alloc_mem"]:
					if v["pods"] - self.ds_per_node >= 1:
						break
					continue
				ns = R.choice(team_ns)
				ann = plan[made] if made < len(plan) else None
				name, _ = self.deployment(ns, "batch-api", 1, [cw], pool=sn, pod_ann=ann)
				made += 1
				if ann and (ann.get(CA_SAFE_TO_EVICT) == "false" or ann.get(KARPENTER_DO_NOT_DISRUPT) == "true"):
					pinned += 1
				self.near("over-provisioned", ns, "Deployment", name, "well-sized", cw["name"])
			if held:
				key = CA_SCALE_DOWN_DISABLED if role == "held-ca" else KARPENTER_DO_NOT_DISRUPT
				why = "would be removable, but annotated %s=true" % key
				self.near("underutilized-node", None, "Node", sn, why)
				self.skip(None, "Node", sn, why, reason=key.split("/")[1])
				self.held_nodes.append(sn)
				continue
			self.expect("underutilized-node", None, "Node", sn)
			said = ", ".join("%s=%s" % kv for a in plan[:made] for kv in a.items())
			why = "%s%s" % ("pods to move annotated " + said if said else "no pod annotated",
			                "; node " + ", ".join("%s=%s" % kv for kv in node_ann[role].items()) if role in node_ann else "")
			self.node_risk(sn, "CRITICAL" if pinned else "HIGH", pinned, why)
		# fill main nodes to 60-68% requested with well-sized services
		filler_ns = team_ns[0]
		for mn, _ in list(self.cell_nodes["main"]):
			v = self.nodes[mn]
			goal = R.uniform(0.6, 0.64)
			while v["cpu"] < goal * v["alloc_cpu"] or v["mem"] < goal * v["alloc_mem"]:
				need_cpu = v["cpu"] < goal * v["alloc_cpu"]
				need_mem = v["mem"] < goal * v["alloc_mem"]
				# big fillers (fewer pods per cell), never overshooting the goal by more than one step
				cpu = min(R.choice([1000, 1500, 2000]), roundup(goal * v["alloc_cpu"] - v["cpu"], 250)) \
					if need_cpu else 50
				mem = min(R.choice([2, 4, 6]) * GI, roundup(goal * v["alloc_mem"] - v["mem"], 512 * MI)) \
					if need_mem else 256 * MI
				cf = self.C("app", cpu, mem, self.u_well(cpu, mem))
				ns = R.choice(team_ns)
				name, _ = self.deployment(ns, "svc", 1, [cf], pool=mn)
			assert v["cpu"] < 0.75 * v["alloc_cpu"] and v["mem"] < 0.75 * v["alloc_mem"], v
			self.near("underutilized-node", None, "Node", mn, "~60% requested")
			# the trap's pod must not fit here
			assert v["alloc_cpu"] - v["cpu"] < 8000 * 0.9, v

	# ------------------------------------------------------------------ DaemonSets (cluster-wide)
	def daemonsets(self):
		R = self.rng
		nodes = [n["metadata"]["name"] for n in self.obj["nodes"]]
		self.ds_plan = []
		# kube-proxy's pods say safe-to-evict "false": a DaemonSet pod stays with its node, so that makes no node
		# finding critical
		specs = [("kube-system", "aws-node", self.C("aws-node", 25, 64 * MI, self.u_well(25, 64 * MI)), "well", None),
		         ("kube-system", "kube-proxy", self.C("kube-proxy", 100, 128 * MI, self.u_well(100, 128 * MI)), "well",
		          {CA_SAFE_TO_EVICT: "false"})]
		c = self.C("node-exporter", 200, 256 * MI, {"p95": R.uniform(8, 20), "mem_max": int(R.uniform(25, 40) * MI)})
		assert judge(c, len(nodes))[0] == "over-provisioned"
		specs.append(("monitoring", "node-exporter", c, "over", None))
		self.namespace("monitoring", {"team": "platform"})
		for ns, name, c, exp, pod_ann in specs:
			self.names.add((ns, name))
			labels = {"app.kubernetes.io/name": name}
			m = self.meta(ns, name, self.ago(days=R.randint(100, 900)), labels=labels)
			tol = [{"operator": "Exists"}]
			tpl = self.template(labels, [c], tolerations=tol, ann=pod_ann)
			self.obj["daemonsets"].append({
				"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": m,
				"spec": {"selector": {"matchLabels": labels}, "template": tpl,
				         "updateStrategy": {"type": "RollingUpdate"}},
				"status": {"desiredNumberScheduled": len(nodes), "currentNumberScheduled": len(nodes),
				           "numberReady": len(nodes), "numberAvailable": len(nodes), "updatedNumberScheduled": len(nodes)}})
			if exp == "over":
				self.expect("over-provisioned", ns, "DaemonSet", name, c["name"])
			else:
				self.near("over-provisioned", ns, "DaemonSet", name, "well-sized DaemonSet", c["name"])
			self.ds_plan.append((ns, name, c, labels, m["uid"], pod_ann))

	def ds_pods(self):
		R = self.rng
		for ns, name, c, labels, duid, pod_ann in self.ds_plan:
			for i, nd in enumerate(self.obj["nodes"]):
				node = nd["metadata"]["name"]
				pname = "%s-%s" % (name, self.suffix())
				st = self.ago(days=R.randint(15, 40))
				self.make_pod(ns, pname, labels, ("apps/v1", "DaemonSet", name, duid), [c], node, st,
				              tolerations=[{"operator": "Exists"}], ann=pod_ann)
				self.usage_entry(ns, pname, c, ("DaemonSet", name), st, self.now, 1.0 if i == 0 else R.uniform(0.6, 0.95))

	def run(self):
		self.namespace("kube-system", created=self.ago(days=900))
		self.namespace("kube-public", created=self.ago(days=900))
		self.namespace("kube-node-lease", created=self.ago(days=900))
		self.namespace("default", created=self.ago(days=900))
		self.obj["storageclasses"].append({
			"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
			"metadata": self.meta(None, "gp3", self.ago(days=900), annotations={
				"storageclass.kubernetes.io/is-default-class": "true"}),
			"provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer",
			"allowVolumeExpansion": True, "parameters": {"type": "gp3"}})
		# DaemonSet requests are charged to every node before the cell places anything.
		self.ds_per_node = 3
		ds_cpu, ds_mem = 25 + 100 + 200, (64 + 128 + 256) * MI
		orig_add = self.add_node

		def add_node(*a, **kw):
			n = orig_add(*a, **kw)
			self.nodes[n]["cpu"] += ds_cpu
			self.nodes[n]["mem"] += ds_mem
			self.nodes[n]["pods"] += self.ds_per_node
			return n
		self.add_node = add_node
		# A cell holds ~290 pods (DaemonSet pods included): 0.51 cells per unit of scale keeps --scale K at
		# about 150*K pods, so --scale 1000 is the ~150,000-pod benchmark cluster.
		self.cells = max(1, round(self.scale * 0.51)) if self.scale > 1 else 1
		for k in range(self.cells):
			self.cell(k)
		self.add_node = orig_add
		# DaemonSet pods: undo the pre-charge (make_pod charges them again)
		for v in self.nodes.values():
			v["cpu"] -= ds_cpu
			v["mem"] -= ds_mem
			v["pods"] -= self.ds_per_node
		self.daemonsets()
		self.ds_pods()
		if self.cells <= 10:
			self.check_nodes()

	def check_nodes(self):
		"""Python model of underutilized_node.c's simulation (requests, first-fit decreasing, name order, taints and
		node selectors, DaemonSet pods stay): the nodes it removes must be exactly the planted underutilized-node
		findings, whether a node whose scale-down is disabled (self.held_nodes) is left out of the candidates or
		simulated like the others (its pods placed, the node kept as a target); every held node must be
		removable in the second case (it would be a finding without its annotation)."""
		names = sorted(self.nodes)
		nodes = {n["metadata"]["name"]: n for n in self.obj["nodes"]}
		pods_on = {n: [] for n in names}
		for pod, cpu, mem in self.running:
			pods_on[pod["spec"]["nodeName"]].append((pod, cpu, mem))
		alloc = {n: (self.nodes[n]["alloc_cpu"], self.nodes[n]["alloc_mem"]) for n in names}
		req = {n: (sum(p[1] for p in pods_on[n]), sum(p[2] for p in pods_on[n])) for n in names}
		avg_cpu = sum(a[0] for a in alloc.values()) / len(names)
		avg_mem = sum(a[1] for a in alloc.values()) / len(names)

		def tolerates(t, taint):
			if t.get("effect") and t["effect"] != taint["effect"]:
				return False
			if t.get("key") and t["key"] != taint.get("key"):
				return False
			if t.get("operator") == "Exists":
				return True
			return t.get("operator", "Equal") == "Equal" and t.get("value", "") == taint.get("value", "")

		def fits(pod, node):
			labels = node["metadata"].get("labels") or {}
			if any(labels.get(k) != v for k, v in (pod["spec"].get("nodeSelector") or {}).items()):
				return False
			return all(any(tolerates(t, taint) for t in pod["spec"].get("tolerations") or [])
			           for taint in node["spec"].get("taints") or [] if taint["effect"] in ("NoSchedule", "NoExecute"))

		def control_plane(n):
			return "node-role.kubernetes.io/control-plane" in (nodes[n]["metadata"].get("labels") or {})

		def simulate(held_too):
			free = {n: [alloc[n][0] - req[n][0], alloc[n][1] - req[n][1]] for n in names}
			ratio = {n: (req[n][0] / alloc[n][0], req[n][1] / alloc[n][1]) for n in names}
			cands = sorted((n for n in names if not control_plane(n) and max(ratio[n]) < MAX_REQUESTED and
			                (held_too or n not in self.held_nodes)), key=lambda n: (max(ratio[n]), n))
			removed, received = set(), set()
			for n in cands:
				if n in received:
					continue
				if len(names) - len(removed) <= 1:
					break
				moving = [p for p in pods_on[n] if p[0]["metadata"]["ownerReferences"][0]["kind"] not in (
					"DaemonSet", "Node")]
				moving.sort(key=lambda p: (-(p[1] / avg_cpu + p[2] / avg_mem), p[0]["metadata"]["namespace"],
				                           p[0]["metadata"]["name"]))
				placed = []
				for pod, cpu, mem in moving:
					for t in names:
						if t == n or t in removed or (cpu > 0 and cpu > free[t][0]) or (mem > 0 and mem > free[t][1]):
							continue
						if fits(pod, nodes[t]):
							break
					else:
						break
					free[t][0] -= cpu
					free[t][1] -= mem
					placed.append((t, cpu, mem))
				if len(placed) < len(moving):
					for t, cpu, mem in placed:
						free[t][0] += cpu
						free[t][1] += mem
					continue
				if n in self.held_nodes:  # skipped: not removed, still a target
					continue
				removed.add(n)
				received.update(t for t, _, _ in placed)
			return removed

		want = {e["name"] for e in self.expected if e["category"] == "underutilized-node"}
		for held_too in (False, True):
			got = simulate(held_too)
			if got != want:
				raise Fail("node simulation (held nodes %s): removes %s, planted %s" % (
					"simulated" if held_too else "left out", sorted(got - want), sorted(want - got)))
		for h in self.held_nodes:  # removable without its annotation, the other held nodes left out
			held, self.held_nodes = self.held_nodes, [x for x in self.held_nodes if x != h]
			try:
				if h not in simulate(False):
					raise Fail("held node %s would not be an underutilized-node finding without its annotation" % h)
			finally:
				self.held_nodes = held

	def write(self, out):
		os.makedirs(os.path.join(out, "objects"), exist_ok=True)
		dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
		for res, items in self.obj.items():
			items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
			path = os.path.join(out, "objects", res + ".json")
			# a custom resource's list the way its own List kind spells it, the rest as kubectl prints them
			api, kind = ("autoscaling.k8s.io/v1", "VerticalPodAutoscalerList") if res == "verticalpodautoscalers" \
				else ("v1", "List")
			with open(path + ".tmp", "w", encoding="utf-8") as f:
				f.write(dumps({"apiVersion": api, "kind": kind, "metadata": {"resourceVersion": ""}, "items": items}))
				f.write("\n")
			os.replace(path + ".tmp", path)
		self.usage.sort(key=lambda e: (e["namespace"], e["pod"], e["container"]))
		doc = {"schema": "kopilot.usage/v1", "window": {"start": ts(self.wstart), "end": ts(self.now),
		                                                "step_seconds": 60, "source": "prometheus"},
		       "containers": self.usage}
		with open(os.path.join(out, "usage.json"), "w", encoding="utf-8") as f:
			f.write(dumps(doc))
			f.write("\n")
		exp = {"seed": self.seed, "scale": self.scale, "cells": self.cells, "now": ts(self.now), "findings": self.expected,
		       "not_flagged": self.not_flagged, "skipped": self.skipped, "memory_floors": self.memory_floors,
		       "memory_requests": self.memory_requests, "cpu_requests": self.cpu_requests,
		       "requests_owners": self.requests_owners, "node_risks": self.node_risks}
		with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
			json.dump(exp, f, indent=1 if self.scale <= 10 else None, sort_keys=True)
			f.write("\n")


def main():
	ap = argparse.ArgumentParser(description="seeded cluster snapshot with planted findings")
	ap.add_argument("--seed", type=int, required=True)
	ap.add_argument("--out", required=True)
	ap.add_argument("--scale", type=int, default=1, help="size: about 150*K pods (K > 1: round(0.51*K) cells)")
	ap.add_argument("--now", default="2026-11-25T06:00:00Z", help="the analysis time (pass the same to kopilot --now)")
	a = ap.parse_args()
	if a.scale < 1:
		ap.error("--scale must be >= 1")
	now = dt.datetime.strptime(a.now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
	g = Gen(a.seed, a.scale, now)
	try:
		g.run()
	except Fail as e:
		print("gencluster.py: %s" % e, file=sys.stderr)
		return 1
	g.write(a.out)
	print(json.dumps({"pods": len(g.obj["pods"]), "nodes": len(g.obj["nodes"]), "usage": len(g.usage),
	                  "expected_findings": len(g.expected), "not_flagged": len(g.not_flagged),
	                  "skipped": len(g.skipped)}))
	return 0


if __name__ == "__main__":
	sys.exit(main())
