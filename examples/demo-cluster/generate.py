#!/usr/bin/python3
"""
generate.py - writes the demo snapshot that `make demo` runs kopilot on.

    /usr/bin/python3 examples/demo-cluster/generate.py

Writes, next to this file:
  objects/<resource>.json   what `kubectl get <resource> -A -o json` prints (a List)
  usage.json                kopilot.usage/v1 summaries over 2026-11-11T06:00Z .. 2026-11-25T06:00Z
  expected-findings.json    what all nine rule categories must produce (findings, skipped, not_flagged)
  README.md                 the story of the cluster and a table of every planted case

Deterministic: every "random" value (uids, name suffixes, IPs, jitter) is a
SHA-256 of a fixed seed and a key naming what it is for, so re-running
rewrites byte-identical files on any Python 3 without touching `random`.

Layout of this file:
  1. helpers (hashing, time, quantities)
  2. the cluster as data: nodes, namespaces, the workload table with the
     story of every planted case
  3. builders that turn the table into API objects and usage entries
  4. an independent implementation of the rules, run on the files as written
     (re-read from disk), and assertions that every planted case lands where
     its story says and that no value sits within 20% of a threshold
  5. expected-findings.json and README.md
Python 3 standard library only (plus jsonschema, Debian's, for the final check).
"""

import datetime as dt
import hashlib
import json
import math
import os
import re
import sys
import uuid
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
OBJDIR = os.path.join(HERE, "objects")
SCHEMA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "contracts", "usage.schema.json"))
# the project's contract first: it extends the shared original additively
# (usage.json "missing" entries may be objects naming where the gap is)
SCHEMA_DOCS = os.path.normpath(os.path.join(HERE, "..", "..", "docs", "contracts", "usage.schema.json"))
SCHEMA_CANDIDATES = [SCHEMA_DOCS, SCHEMA, "/work/shared/contracts/usage.schema.json"]

SEED = "kopilot-demo-cluster/v1"
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 25, 6, 0, 0, tzinfo=UTC)
WSTART = NOW - dt.timedelta(days=14)
STEP = 60
LAST_SAMPLE = NOW - dt.timedelta(seconds=STEP)  # samples at start, start+60s, ..., end-60s: 20160
REGION = "eu-west-1"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
EKS_ECR = "602401143452.dkr.ecr.eu-west-1.amazonaws.com"
K8S_VERSION = "v1.30.4-eks-a737599"

# Rule parameters (kopilot defaults, see pipeline/config.h and the brief).
CPU_MARGIN, MEM_MARGIN = 0.15, 0.20
CPU_FLOOR_M, MEM_FLOOR_B = 10, 32 * 2**20
MIN_REL, MIN_CPU_M, MIN_MEM_B = 0.20, 50, 64 * 2**20
MIN_SAVINGS = 1.0
MIN_HISTORY_H = 24.0
PVC_GRACE_DAYS = 7.0
MIN_BATCH_RUNS = 3
IDLE_CPU_M, IDLE_CPU_MAX_M, IDLE_MEM_VAR_B, IDLE_MIN_DAYS = 5.0, 25.0, 16 * 2**20, 7.0
ZERO_GRACE_DAYS, FINISHED_JOB_GRACE_DAYS, UNBOUND_PV_GRACE_DAYS, LB_GRACE_HOURS = 7.0, 7.0, 7.0, 24.0
NODE_MAX_RATIO, NODE_MIN_NODES = 0.5, 1
CPU_CORE_HOUR, MEM_GIB_HOUR, HOURS = 0.031611, 0.004237, 730
PROTECTED = {"kube-system", "kube-public", "kube-node-lease"}
MARGIN = 0.20  # planted values stay at least this far (relative) from every threshold

# ---------------------------------------------------------------------------
# 1. helpers


def H(*parts):
	return hashlib.sha256((SEED + "\x00" + "\x00".join(str(p) for p in parts)).encode()).digest()


def hnum(*parts):
	return int.from_bytes(H(*parts)[:8], "big")


def hfrac(*parts):
	return hnum(*parts) / 2.0**64


def hrange(lo, hi, *parts):
	return lo + (hi - lo) * hfrac(*parts)


def hint(lo, hi, *parts):
	return lo + hnum(*parts) % (hi - lo + 1)


SAFE = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand alphabet


def safe(n, *parts):
	b = H("safe", *parts)
	return "".join(SAFE[b[i] % len(SAFE)] for i in range(n))


def mkuid(*parts):
	return str(uuid.UUID(bytes=H("uid", *parts)[:16], version=4))


def hexs(n, *parts):
	out, i = "", 0
	while len(out) < n:
		out += H("hex", i, *parts).hex()
		i += 1
	return out[:n]


def rv(*parts):
	return str(hint(40_000_000, 98_000_000, "rv", *parts))


def ts(t):
	return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(s):
	return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def ago(days=0, hours=0, minutes=0, seconds=0):
	return NOW - dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def Mi(x):
	return int(round(x * 2**20))


def Gi(x):
	return int(round(x * 2**30))


_SUFFIX = {
	"Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
	"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
	"k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
}


def qty(s):
	"""resource.Quantity -> exact Fraction of the base unit."""
	m = re.fullmatch(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([A-Za-z]*)", s)
	if not m or m.group(2) not in _SUFFIX:
		raise ValueError("bad quantity %r" % s)
	return Fraction(m.group(1)) * _SUFFIX[m.group(2)]


def cpu_m(s):
	return None if s is None else math.ceil(qty(s) * 1000)


def mem_b(s):
	return None if s is None else math.ceil(qty(s))


def fmt_cpu(m):
	return "%.2g cores" % (m / 1000) if m >= 1000 else "%dm" % m


def fmt_mem(b):
	if b >= 2**30:
		return "%.2fGi" % (b / 2**30)
	return "%dMi" % round(b / 2**20)


# ---------------------------------------------------------------------------
# 2. the cluster as data

NODES = [
	# name, zone, instance type, instance id
	("ip-10-0-36-117", "eu-west-1a", "m5.2xlarge"),
	("ip-10-0-41-9", "eu-west-1a", "m5.2xlarge"),
	("ip-10-0-70-203", "eu-west-1b", "m5.2xlarge"),
	("ip-10-0-88-54", "eu-west-1b", "m5.xlarge"),
	("ip-10-0-101-76", "eu-west-1c", "m5.2xlarge"),
	("ip-10-0-119-240", "eu-west-1c", "m5.2xlarge"),
	("ip-10-0-77-31", "eu-west-1b", "m5.xlarge"),
]
INCIDENT_NODE = "ip-10-0-77-31"
INCIDENT_TAINT = {"effect": "NoSchedule", "key": "dedicated", "value": "incident"}
INCIDENT_TOLERATION = {"effect": "NoSchedule", "key": "dedicated", "operator": "Equal", "value": "incident"}
# The incident node: added by hand on 2026-11-16 during the checkout incident, in its own node group (min size 1,
# so the cluster autoscaler never removes it) and tainted dedicated=incident:NoSchedule, so only pods that tolerate
# the taint (and DaemonSets) run there.
NODE_EXTRA = {INCIDENT_NODE: dict(nodegroup="incident-20261116", taints=[INCIDENT_TAINT])}
# ip-10-0-88-54 was added by the autoscaler for the September scale-up; the scheduler has filled it to about 60%,
# above the underutilized-node threshold (50%): the near miss of that rule.
PLACE_CAP = {"ip-10-0-88-54": 0.64}
NODE_SHAPE = {
	# capacity cpu, memory Ki, allocatable cpu m, memory Ki
	"m5.xlarge": ("4", 15896064, 3920, 14880256),
	"m5.2xlarge": ("8", 31948024, 7910, 30932216),
}
NODE_CREATED = {n[0]: ago(days=hint(16, 40, "nodeage", n[0]), hours=hint(0, 23, "nodeh", n[0])) for n in NODES}
NODE_CREATED[INCIDENT_NODE] = ago(days=9, hours=3, minutes=41, seconds=17)
ZONE_NET = {"eu-west-1a": 32, "eu-west-1b": 64, "eu-west-1c": 96}


def node_fqdn(short):
	return short + "." + REGION + ".compute.internal"


def node_ip(short):
	return short[3:].replace("-", ".")


NAMESPACES = [
	# name, age days, labels
	("analytics", 612, {"team": "analytics"}),
	("checkout", 731, {"team": "checkout", "istio-injection": "disabled"}),
	("data-platform", 455, {"team": "data"}),
	("default", 1102, {}),
	("kube-node-lease", 1102, {}),
	("kube-public", 1102, {}),
	("kube-system", 1102, {}),
	("ml", 301, {"team": "ml"}),
	("monitoring", 1050, {"team": "platform"}),
	("payments", 730, {"team": "payments", "compliance": "pci"}),
	("search", 540, {"team": "search"}),
	("staging", 688, {"team": "platform", "environment": "staging"}),
	("web", 700, {"team": "web"}),
]


def C(name, image, cpu=None, mem=None, cpu_lim=None, mem_lim=None, port=None, use=None, mem_abs=None,
      throttle=None, oom=0, restarts=0, mounts=(), args=None, env=None, probe=True, cpu_max=None):
	"""A container of a pod template. `use` = (cpu p95 millicores, memory max bytes) of the busiest pod;
	None means "well-sized": p95 at 80% and peak at 77% of the requests, so the target lands within
	10% under the request (mem_abs gives the peak when no memory request is set)."""
	return dict(name=name, image=image, cpu=cpu, mem=mem, cpu_lim=cpu_lim, mem_lim=mem_lim, port=port, use=use,
	            mem_abs=mem_abs, throttle=throttle, oom=oom, restarts=restarts, mounts=list(mounts), args=args,
	            env=env, probe=probe, cpu_max=cpu_max)


def W(ns, kind, name, replicas, containers, expect="well", story="", init=(), over=(), under=(), created=None,
      rolled=None, svc=None, volumes=(), claim_templates=(), old_rs=0, gone=(), rhl=None, hpa=None, labels=None,
      sa=None, extra=None, tolerations=(), node_selector=None, jitter=True):
	"""A workload. expect: over|under|well|borderline|tiny|norequests|peak|short|nousage|zero.
	rolled: when the current pods started (Deployment rollout / StatefulSet update); before the window
	unless a story says otherwise. gone: pods seen in the window that no longer exist."""
	# Real timestamps are not on the hour: move creation (and rollouts nothing else is timed against) back by a
	# deterministic amount. Rollouts that gone pods or the short-history story are timed against stay exact.
	if created is not None and expect != "short" and jitter:
		created -= dt.timedelta(seconds=hint(0, 86399, "created-jitter", ns, kind, name))
	if rolled is not None and not gone and expect != "short" and jitter:
		rolled -= dt.timedelta(seconds=hint(0, 7199, "rolled-jitter", ns, kind, name))
	return dict(ns=ns, kind=kind, name=name, replicas=replicas, containers=containers, expect=expect, story=story,
	            init=list(init), over=set(over), under=set(under), created=created, rolled=rolled, svc=svc,
	            volumes=list(volumes), claim_templates=list(claim_templates), old_rs=old_rs, gone=list(gone),
	            rhl=rhl, hpa=hpa, labels=labels or {}, sa=sa, extra=extra or {}, tolerations=list(tolerations),
	            node_selector=node_selector)


def ecr(team, app, tag):
	return "%s/%s/%s:%s" % (ECR, team, app, tag)


CFG = lambda n: {"name": "config", "configMap": {"name": n, "defaultMode": 420}}  # noqa: E731
TMP = {"name": "tmp", "emptyDir": {}}

WORKLOADS = [
	# ---------------------------------------------------------------- checkout
	W("checkout", "Deployment", "cart-api", 2,
	  [C("cart-api", ecr("checkout", "cart-api", "2026.11.19-8c1d2e7"), "2", "4Gi", "2", "4Gi", 8080,
	     use=(118, Mi(540)), mounts=[("config", "/etc/cart-api")])],
	  expect="over", over={"cart-api"}, created=ago(days=690), rolled=ago(days=5, hours=15, minutes=52),
	  old_rs=2, gone=[dict(rs="old", count=2, end=ago(days=5, hours=15, minutes=49), use={"cart-api": (150, Mi(600))})],
	  svc=(80, 8080), volumes=[CFG("cart-api")],
	  story="Requests copied from the 2025 Black Friday load test (2 cores / 4Gi) and never revisited. "
	        "Busiest pod: p95 150m, peak 600Mi, and that pod is one replaced by last week's rollout (old "
	        "ReplicaSet still listed with replicas 0): its usage counts for the Deployment."),
	W("checkout", "Deployment", "checkout-api", 3,
	  [C("checkout-api", ecr("checkout", "checkout-api", "2026.11.02-41be0a9"), "250m", "1Gi", None, "1Gi", 8080)],
	  created=ago(days=720), rolled=ago(days=23), old_rs=3, svc=(80, 8080),
	  story="Well-sized: requests within 10% of what the usage needs."),
	W("checkout", "Deployment", "checkout-worker", 2,
	  [C("worker", ecr("checkout", "checkout-worker", "2026.11.02-41be0a9"), "250m", "512Mi", None, "768Mi",
	     probe=False)],
	  created=ago(days=700), rolled=ago(days=23), old_rs=1, story="Well-sized queue consumer."),
	W("checkout", "Deployment", "promo-service", 2,
	  [C("promo-service", ecr("checkout", "promo-service", "1.14.3"), "200m", "384Mi", None, "512Mi", 8080)],
	  created=ago(days=410), rolled=ago(days=41), svc=(80, 8080), story="Well-sized."),
	W("checkout", "Deployment", "shipping-quotes", 2,
	  [C("shipping-quotes", ecr("checkout", "shipping-quotes", "3.2.0"), "300m", "512Mi", None, "512Mi", 8080)],
	  init=[C("wait-for-redis", "busybox:1.36.1", "10m", "32Mi", "50m", "32Mi", use=(2, Mi(1.2)), probe=False,
	          args=["sh", "-c", "until nc -z redis.checkout.svc 6379; do sleep 2; done"])],
	  created=ago(days=380), rolled=ago(days=9, hours=4), svc=(80, 8080),
	  story="Well-sized; its init container ran inside the window (usage entries of 3 samples), also not flagged."),
	W("checkout", "StatefulSet", "redis", 1,
	  [C("redis", "redis:7.2.5", "200m", "2Gi", None, "2Gi", 6379, mounts=[("data", "/data")], probe=False),
	   C("redis-exporter", "oliver006/redis_exporter:v1.62.0", "20m", "64Mi", None, "64Mi", 9121, probe=False)],
	  created=ago(days=650), rolled=ago(days=96), claim_templates=[("data", "10Gi", "gp3")], svc=(6379, 6379),
	  story="Well-sized cache; its PVC data-redis-0 is mounted."),

	# ---------------------------------------------------------------- payments
	W("payments", "Deployment", "payment-gateway", 3,
	  [C("gateway", ecr("payments", "payment-gateway", "5.8.1"), "250m", "768Mi", "1", "1536Mi", 8443,
	     mounts=[("config", "/etc/gateway")]),
	   C("envoy", "envoyproxy/envoy:v1.31.2", "300m", "256Mi", "1", "512Mi", 9901, use=(20, Mi(45)),
	     mounts=[("envoy-config", "/etc/envoy")], probe=False)],
	  init=[C("wait-for-db", "postgres:16.4", "10m", "32Mi", "100m", "64Mi", use=(3, Mi(9)), probe=False,
	          args=["sh", "-c", "until pg_isready -h payments-db -p 5432; do sleep 2; done"])],
	  expect="over", over={"envoy"}, created=ago(days=700), rolled=ago(days=12, hours=3), old_rs=4,
	  svc=(443, 8443), volumes=[CFG("payment-gateway"), {"name": "envoy-config", "configMap": {
	      "name": "payment-gateway-envoy", "defaultMode": 420}}],
	  story="Sidecar: the envoy container was given the gateway's old resources block (300m / 256Mi) and uses "
	        "20m / 45Mi. The gateway container itself is well-sized."),
	W("payments", "Deployment", "fraud-scorer", 3,
	  [C("fraud-scorer", ecr("payments", "fraud-scorer", "2026.10.30-a17c3f0"), "250m", "1Gi", "500m", "1Gi", 8080,
	     use=(430, None), throttle=0.4)],
	  expect="under", under={"fraud-scorer"}, created=ago(days=520), rolled=ago(days=26), old_rs=2, svc=(80, 8080),
	  story="CPU-starved: a new gradient-boosted model doubled the per-request CPU; p95 430m against a 250m "
	        "request, throttled in 40% of CFS periods."),
	W("payments", "Deployment", "ledger-api", 2,
	  [C("ledger-api", ecr("payments", "ledger-api", "2.31.0"), "500m", "2Gi", None, "2Gi", 8080,
	     use=(None, Mi(700)))],
	  expect="peak", created=ago(days=690), rolled=ago(days=6, hours=19, minutes=55), rhl=0,
	  gone=[dict(rs="gone", count=2, end=ago(days=6, hours=19, minutes=52), use={"ledger-api": (None, Gi(1.6))})],
	  svc=(80, 8080),
	  story="Not waste: the month-end reconciliation on 2026-11-15 peaked at 1.6Gi in pods of a ReplicaSet that "
	        "no longer exists (revisionHistoryLimit: 0 pruned it at last week's rollout). Counting only the live "
	        "pods (peak 700Mi) would wrongly flag 2Gi as over-provisioned."),
	W("payments", "Deployment", "payouts-worker", 1,
	  [C("payouts-worker", ecr("payments", "payouts-worker", "2.31.0"), "200m", "512Mi", None, "512Mi", probe=False)],
	  created=ago(days=610), rolled=ago(days=30), story="Well-sized."),
	W("payments", "StatefulSet", "payments-db", 2,
	  [C("postgres", "postgres:16.4", "500m", "4Gi", None, "4Gi", 5432, mounts=[("pgdata", "/var/lib/postgresql/data")],
	     probe=False),
	   C("postgres-exporter", "quay.io/prometheuscommunity/postgres-exporter:v0.15.0", "50m", "64Mi", None, "128Mi",
	     9187, probe=False)],
	  created=ago(days=690), rolled=ago(days=58), claim_templates=[("pgdata", "100Gi", "gp3")], svc=(5432, 5432),
	  story="Well-sized primary/replica PostgreSQL."),

	# ---------------------------------------------------------------- search
	W("search", "Deployment", "query-api", 4,
	  [C("query-api", ecr("search", "query-api", "2026.11.04-c3d9e21"), "250m", "1Gi", "1", "3Gi", 8080,
	     use=(None, Gi(1.75)))],
	  expect="under", under={"query-api"}, created=ago(days=500), rolled=ago(days=21), old_rs=2, svc=(80, 8080),
	  story="Memory above its request (no OOM): the new facet cache grows to 1.75Gi against a 1Gi request "
	        "(limit 3Gi), so the scheduler packs it onto nodes that cannot back it."),
	W("search", "Deployment", "search-indexer", 2,
	  [C("indexer", ecr("search", "search-indexer", "4.2.2"), "750m", "2Gi", None, "2Gi", use=(160, Mi(700)),
	     probe=False)],
	  expect="over", over={"indexer"}, created=ago(days=480), rolled=ago(days=33), old_rs=1,
	  story="Sized for the full re-index of last spring; steady-state incremental indexing uses 160m / 700Mi."),
	W("search", "Deployment", "autocomplete", 2,
	  [C("autocomplete", ecr("search", "autocomplete", "1.9.0"), "250m", "512Mi", None, "512Mi", 8080)],
	  created=ago(days=400), rolled=ago(days=50), svc=(80, 8080), story="Well-sized."),
	W("search", "Deployment", "synonyms-admin", 1,
	  [C("synonyms-admin", ecr("search", "synonyms-admin", "0.7.1"), "25m", "160Mi", None, "256Mi", 8080,
	     use=(12, Mi(30)))],
	  expect="tiny", created=ago(days=350), rolled=ago(days=90), svc=(80, 8080),
	  story="Internal admin UI: memory could shrink by ~124Mi, but that saves about $0.61 a month (< $1)."),
	W("search", "StatefulSet", "opensearch-data", 3,
	  [C("opensearch", "opensearchproject/opensearch:2.15.0", "500m", "4Gi", None, "4Gi", 9200,
	     use=(180, Gi(3.15)), mounts=[("data", "/usr/share/opensearch/data")], probe=False,
	     env={"OPENSEARCH_JAVA_OPTS": "-Xms2g -Xmx2g"})],
	  init=[C("sysctl", "busybox:1.36.1", use=(1, Mi(0.5)), probe=False,
	          args=["sysctl", "-w", "vm.max_map_count=262144"])],
	  expect="over", over={"opensearch"}, created=ago(days=88), rolled=ago(days=4, hours=2),
	  claim_templates=[("data", "200Gi", "gp3")], svc=(9200, 9200),
	  story="StatefulSet: CPU request of 500m per data node for a search load that peaks at p95 180m; memory "
	        "(JVM heap + page cache, peak 3.15Gi of 4Gi) is right and stays."),

	# ---------------------------------------------------------------- analytics
	W("analytics", "Deployment", "report-builder", 1,
	  [C("report-builder", ecr("analytics", "report-builder", "2026.09.12-77aa012"), "2", "4Gi", None, "4Gi", 8080,
	     use=(300, Gi(1.2)))],
	  expect="over", over={"report-builder"}, created=ago(days=380), rolled=ago(days=74), svc=(80, 8080),
	  story="2 cores / 4Gi for a report renderer that uses 300m / 1.2Gi since reports moved to the nightly CronJob."),
	W("analytics", "Deployment", "event-aggregator", 2,
	  [C("event-aggregator", ecr("analytics", "event-aggregator", "3.4.0"), "300m", "512Mi", None, "512Mi", 8080,
	     use=(None, 535_822_336), oom=3, restarts=3)],
	  expect="under", under={"event-aggregator"}, created=ago(days=300), rolled=ago(days=19), svc=(80, 8080),
	  story="OOM-killed 3 times this window at its 512Mi limit during hourly roll-ups."),
	W("analytics", "Deployment", "legacy-geoip", 1,
	  [C("geoip", ecr("analytics", "legacy-geoip", "0.3.0"), "100m", "256Mi", None, "256Mi", 8080)],
	  expect="nousage", created=ago(days=600), rolled=ago(days=211), svc=(80, 8080),
	  story="Not measured: a metric_relabel_configs rule drops this pod's cAdvisor series (legacy high-cardinality "
	        "label), so usage.json has no entry for it. Must be skipped, never called idle."),
	W("analytics", "Deployment", "dashboards-api", 2,
	  [C("dashboards-api", ecr("analytics", "dashboards-api", "1.22.4"), "200m", "512Mi", None, "512Mi", 8080)],
	  created=ago(days=500), rolled=ago(days=37), old_rs=2, svc=(80, 8080), story="Well-sized."),
	W("analytics", "StatefulSet", "clickhouse", 1,
	  [C("clickhouse", "clickhouse/clickhouse-server:24.3.6", "750m", "4Gi", None, "4Gi", 8123,
	     mounts=[("data", "/var/lib/clickhouse")], probe=False)],
	  created=ago(days=420), rolled=ago(days=35), claim_templates=[("data", "500Gi", "gp3")], svc=(8123, 8123),
	  story="Scaled from 3 to 1 replica after a cost review (2026-10-20); well-sized. Its PVCs for ordinals 1 and 2 "
	        "remain and are NOT orphans: scaling back up reattaches them."),

	# ---------------------------------------------------------------- staging
	W("staging", "Deployment", "storefront", 2,
	  [C("storefront", ecr("web", "storefront", "2026.11.20-0d4e5b2"), "500m", "1Gi", None, "1Gi", 3000,
	     use=(20, Mi(150)))],
	  expect="over", over={"storefront"}, created=ago(days=600), rolled=ago(days=4, hours=20), old_rs=3,
	  svc=(80, 3000), story="Staging copy deployed with production requests; nobody browses staging at night."),
	W("staging", "Deployment", "cart-api", 1,
	  [C("cart-api", ecr("checkout", "cart-api", "2026.11.19-8c1d2e7"), "100m", "256Mi", None, "256Mi", 8080)],
	  created=ago(days=600), rolled=ago(days=5, hours=1), svc=(80, 8080), story="Well-sized staging copy."),
	W("staging", "Deployment", "mailhog", 1,
	  [C("mailhog", "mailhog/mailhog:v1.0.1", port=8025, use=(4, Mi(24)))],
	  expect="norequests", created=ago(days=560), rolled=ago(days=140), svc=(8025, 8025),
	  story="No requests set (BestEffort): nothing to shrink, and no request to exceed."),
	W("staging", "Deployment", "feature-flags", 1,
	  [C("feature-flags", "flagsmith/flagsmith:2.140.0", "100m", "128Mi", None, "256Mi", 8000)],
	  created=ago(days=470), rolled=ago(days=63), svc=(80, 8000), story="Well-sized."),
	W("staging", "StatefulSet", "elasticsearch", 0,
	  [C("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:7.17.24", "1", "4Gi", None, "4Gi", 9200,
	     mounts=[("data", "/usr/share/elasticsearch/data")], probe=False)],
	  expect="zero", created=ago(days=640), rolled=ago(days=160), claim_templates=[("data", "50Gi", "gp3")],
	  svc=(9200, 9200),
	  story="Scaled to 0 when staging search moved to OpenSearch; PVCs data-elasticsearch-0/1/2 remain. Not "
	        "orphans (they match the claim template); the zero-replica-workload rule is the one that reports "
	        "the storage."),

	# ---------------------------------------------------------------- web
	W("web", "Deployment", "storefront", 3,
	  [C("storefront", ecr("web", "storefront", "2026.11.20-0d4e5b2"), "500m", "1Gi", None, "1Gi", 3000,
	     use=(90, Mi(310)))],
	  expect="over", over={"storefront"}, created=ago(days=700), rolled=ago(days=4, hours=21), old_rs=5,
	  hpa=dict(min=3, max=12, cpu=70, current=3),
	  gone=[dict(rs="current", count=3, start=ago(days=4, hours=11), end=ago(days=4, hours=7, minutes=10),
	             use={"storefront": (85, Mi(300))})],
	  svc=(80, 3000),
	  story="HPA-managed (3..12 replicas on 70% CPU): the 500m request makes the HPA sit at its minimum while "
	        "pods use 90m. The HPA raises the risk of a resize; the finding still appears. Three pods from a "
	        "flash-sale scale-out (gone) are part of the usage."),
	W("web", "Deployment", "cms-api", 2,
	  [C("cms-api", ecr("web", "cms-api", "6.0.3"), "250m", "2Gi", None, "2Gi", 8080, use=(None, Mi(420)))],
	  expect="over", over={"cms-api"}, created=ago(days=650), rolled=ago(days=44), old_rs=2, svc=(80, 8080),
	  story="Memory only: 2Gi requested after a one-off import in 2024, peak 420Mi since; CPU is right."),
	W("web", "Deployment", "redirect-service", 1,
	  [C("redirect", ecr("web", "redirect-service", "1.0.8"), "50m", "192Mi", None, "192Mi", 8080, use=(38, Mi(40)))],
	  expect="tiny", created=ago(days=600), rolled=ago(days=120), svc=(80, 8080),
	  story="Memory 192Mi for a 40Mi process, but the saving is about $0.55 a month (< $1)."),
	W("web", "Deployment", "image-resizer", 3,
	  [C("image-resizer", ecr("web", "image-resizer", "2.4.1"), "200m", "1Gi", None, "1Gi", 8080),
	   C("cache-warmer", ecr("web", "cache-warmer", "0.9.2"), "20m", "64Mi", None, "64Mi", probe=False)],
	  created=ago(days=620), rolled=ago(days=15), old_rs=1, svc=(80, 8080), story="Well-sized, two containers."),
	W("web", "Deployment", "graphql-gateway", 3,
	  [C("graphql-gateway", ecr("web", "graphql-gateway", "2026.11.06-9bb3f51"), "200m", "512Mi", None, "512Mi",
	     4000)],
	  created=ago(days=450), rolled=ago(days=19), old_rs=3, svc=(80, 4000), story="Well-sized."),
	W("web", "Deployment", "legacy-cms", 0,
	  [C("wordpress", "wordpress:6.4.3-php8.2-apache", "250m", "512Mi", None, "512Mi", 80,
	     mounts=[("uploads", "/var/www/html/wp-content/uploads")])],
	  expect="zero", created=ago(days=900), rolled=ago(days=200),
	  volumes=[{"name": "uploads", "persistentVolumeClaim": {"claimName": "legacy-cms-uploads"}}], svc=(80, 80),
	  story="Scaled to 0 after the move to cms-api but kept for the archive; its PVC legacy-cms-uploads is "
	        "referenced by the Deployment template and is NOT an orphan."),

	# ---------------------------------------------------------------- data-platform
	W("data-platform", "Deployment", "airflow-webserver", 1,
	  [C("webserver", "apache/airflow:2.10.2", "1", "2Gi", None, "2Gi", 8080, use=(60, Mi(800)),
	     mounts=[("config", "/opt/airflow/airflow.cfg")])],
	  expect="over", over={"webserver"}, created=ago(days=440), rolled=ago(days=31), old_rs=2, svc=(8080, 8080),
	  volumes=[CFG("airflow-config")],
	  story="Helm chart defaults for a webserver that a handful of engineers open: 1 core / 2Gi, using 60m / 800Mi."),
	W("data-platform", "Deployment", "airflow-scheduler", 1,
	  [C("scheduler", "apache/airflow:2.10.2", "500m", "1Gi", None, "1Gi", mounts=[("config", "/opt/airflow/airflow.cfg")],
	     probe=False)],
	  init=[C("wait-for-airflow-migrations", "apache/airflow:2.10.2", "10m", "64Mi", None, "128Mi", use=(40, Mi(41)),
	          probe=False, args=["airflow", "db", "check-migrations", "--migration-wait-timeout=60"])],
	  created=ago(days=440), rolled=ago(days=8, hours=6), old_rs=2, volumes=[CFG("airflow-config")],
	  story="Well-sized; init container ran in the window."),
	W("data-platform", "Deployment", "schema-registry", 2,
	  [C("schema-registry", "confluentinc/cp-schema-registry:7.7.1", "500m", "1Gi", None, "1Gi", 8081,
	     use=(380, Mi(740)))],
	  expect="borderline", created=ago(days=430), rolled=ago(days=55), svc=(8081, 8081),
	  story="Borderline: targets 440m / 888Mi against 500m / 1Gi, a 12-13% reduction (< 20%): not worth a change."),
	W("data-platform", "Deployment", "kafka-connect", 2,
	  [C("kafka-connect", "confluentinc/cp-kafka-connect:7.7.1", "300m", "1Gi", None, "1Gi", 8083)],
	  created=ago(days=420), rolled=ago(days=27), svc=(8083, 8083), story="Well-sized."),
	W("data-platform", "StatefulSet", "kafka", 3,
	  [C("kafka", "bitnami/kafka:3.7.1", "250m", "3Gi", None, "3Gi", 9092, mounts=[("data", "/bitnami/kafka")],
	     probe=False)],
	  created=ago(days=450), rolled=ago(days=47), claim_templates=[("data", "200Gi", "gp3")], svc=(9092, 9092),
	  story="Well-sized."),

	# ---------------------------------------------------------------- ml
	W("ml", "Deployment", "model-server", 2,
	  [C("model-server", ecr("ml", "model-server", "2026.10.28-5e0c9d4"), "1", "4Gi", None, "4Gi", 8501,
	     use=(200, Gi(1.4)), mounts=[("model-cache", "/models")])],
	  expect="over", over={"model-server"}, created=ago(days=280), rolled=ago(days=28), old_rs=2, svc=(80, 8501),
	  volumes=[{"name": "model-cache", "emptyDir": {"sizeLimit": "10Gi"}}],
	  story="Sized for a GPU-less experiment with a 7B model; the production model is a 300MB ranker: 200m / 1.4Gi."),
	W("ml", "Deployment", "feature-store-api", 2,
	  [C("feature-store-api", ecr("ml", "feature-store-api", "1.3.2"), "500m", "2Gi", None, "2Gi", 6566,
	     use=(380, Gi(1.45)))],
	  expect="borderline", created=ago(days=270), rolled=ago(days=34), svc=(80, 6566),
	  story="Borderline: about 12-13% above target on both CPU and memory (< 20%): not flagged."),
	W("ml", "Deployment", "llm-eval-runner", 1,
	  [C("eval-runner", ecr("ml", "llm-eval-runner", "0.1.0"), "500m", "4Gi", None, "4Gi", use=(40, Mi(300)),
	     probe=False)],
	  expect="short", created=ago(hours=10), rolled=ago(hours=10),
	  story="Created 10 hours ago: only 10 h of usage (< 24 h). Skipped, even though it looks over-sized."),
	W("ml", "Deployment", "embedding-service", 2,
	  [C("embedding-service", ecr("ml", "embedding-service", "0.8.4"), "300m", "2Gi", None, "2Gi", 8080)],
	  created=ago(days=200), rolled=ago(days=22), svc=(80, 8080), story="Well-sized."),

	# ---------------------------------------------------------------- monitoring
	W("monitoring", "Deployment", "grafana", 1,
	  [C("grafana", "grafana/grafana:11.2.0", "500m", "1Gi", None, "1Gi", 3000, use=(25, Mi(180)),
	     mounts=[("storage", "/var/lib/grafana")])],
	  expect="over", over={"grafana"}, created=ago(days=1000), rolled=ago(days=39), old_rs=2, svc=(80, 3000),
	  volumes=[{"name": "storage", "persistentVolumeClaim": {"claimName": "grafana"}}],
	  story="500m / 1Gi for dashboards viewed a few times a day: 25m / 180Mi. Its PVC `grafana` is mounted."),
	W("monitoring", "Deployment", "kube-state-metrics", 1,
	  [C("kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0", "100m", "256Mi",
	     None, "256Mi", 8080)],
	  created=ago(days=1000), rolled=ago(days=62), svc=(8080, 8080), story="Well-sized."),
	W("monitoring", "Deployment", "blackbox-exporter", 1,
	  [C("blackbox-exporter", "prom/blackbox-exporter:v0.25.0", "50m", "200Mi", None, "200Mi", 9115, use=(40, Mi(45)))],
	  expect="tiny", created=ago(days=900), rolled=ago(days=62), svc=(9115, 9115),
	  story="Memory 200Mi for a 45Mi exporter: the saving is about $0.44 a month (< $1)."),
	W("monitoring", "Deployment", "prometheus-operator", 1,
	  [C("prometheus-operator", "quay.io/prometheus-operator/prometheus-operator:v0.76.0", "100m", "128Mi", None,
	     "200Mi", 8080)],
	  created=ago(days=1000), rolled=ago(days=62), svc=(8080, 8080), story="Well-sized."),
	W("monitoring", "StatefulSet", "prometheus-k8s", 2,
	  [C("prometheus", "quay.io/prometheus/prometheus:v2.54.1", "400m", "3Gi", None, "3Gi", 9090,
	     mounts=[("prometheus-k8s-db", "/prometheus")], probe=False),
	   C("config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.76.0", "10m", "50Mi", "10m",
	     "50Mi", 8080, probe=False)],
	  created=ago(days=1000), rolled=ago(days=62), claim_templates=[("prometheus-k8s-db", "100Gi", "gp3")],
	  svc=(9090, 9090), story="Well-sized."),
	W("monitoring", "StatefulSet", "alertmanager-main", 2,
	  [C("alertmanager", "quay.io/prometheus/alertmanager:v0.27.0", "100m", "256Mi", None, "256Mi", 9093,
	     mounts=[("alertmanager-main-db", "/alertmanager")], probe=False),
	   C("config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.76.0", "10m", "50Mi", "10m",
	     "50Mi", 8080, probe=False)],
	  created=ago(days=1000), rolled=ago(days=62), claim_templates=[("alertmanager-main-db", "5Gi", "gp3")],
	  svc=(9093, 9093), story="Well-sized."),
	W("monitoring", "DaemonSet", "node-exporter", 6,
	  [C("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2", "50m", "180Mi", None, "180Mi", 9100, probe=False),
	   C("kube-rbac-proxy", "quay.io/brancz/kube-rbac-proxy:v0.18.1", "10m", "20Mi", "20m", "40Mi", 9101, probe=False)],
	  created=ago(days=1000), rolled=ago(days=62), story="Well-sized."),
	W("monitoring", "DaemonSet", "fluent-bit", 6,
	  [C("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.1.7", "150m", "512Mi", None, "512Mi", 2020,
	     use=(25, Mi(70)), mounts=[("varlog", "/var/log")], probe=False)],
	  expect="over", over={"fluent-bit"}, created=ago(days=800), rolled=ago(days=55),
	  volumes=[{"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}}],
	  story="DaemonSet: 150m / 512Mi on every one of the %d nodes for a log shipper using 25m / 70Mi: the saving "
	        "is multiplied by %d." % (len(NODES), len(NODES))),

	# ---------------------------------------------------------------- kube-system
	W("kube-system", "Deployment", "coredns", 2,
	  [C("coredns", EKS_ECR + "/eks/coredns:v1.11.3-eksbuild.1", "500m", "1Gi", None, "1Gi", 53, use=(15, Mi(45)),
	     mounts=[("config-volume", "/etc/coredns")], probe=False)],
	  expect="over", over={"coredns"}, created=ago(days=1102), rolled=ago(days=44), old_rs=3, svc=(53, 53),
	  volumes=[{"name": "config-volume", "configMap": {"name": "coredns", "defaultMode": 420,
	                                                   "items": [{"key": "Corefile", "path": "Corefile"}]}}],
	  labels={"k8s-app": "kube-dns"}, sa="coredns",
	  story="kube-system: raised from 100m / 70Mi to 500m / 1Gi during the March DNS-timeout incident (the cause "
	        "was conntrack); uses 15m / 45Mi. A resize is not destructive, so it is not blocked."),
	W("kube-system", "Deployment", "metrics-server", 1,
	  [C("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.2", "100m", "200Mi", None, "200Mi",
	     10250)],
	  created=ago(days=1100), rolled=ago(days=44), svc=(443, 10250), story="Well-sized."),
	W("kube-system", "Deployment", "cluster-autoscaler", 1,
	  [C("cluster-autoscaler", "registry.k8s.io/autoscaling/cluster-autoscaler:v1.30.2", "100m", "600Mi", None,
	     "600Mi", 8085)],
	  created=ago(days=1100), rolled=ago(days=44), sa="cluster-autoscaler", story="Well-sized."),
	W("kube-system", "Deployment", "ebs-csi-controller", 2,
	  [C(c, "public.ecr.aws/eks-distro/kubernetes-csi/%s" % img, "10m", "40Mi", None, "256Mi", probe=False)
	   for c, img in [("ebs-plugin", "../../ebs-csi-driver/aws-ebs-csi-driver:v1.34.0"),
	                  ("csi-provisioner", "external-provisioner:v5.1.0-eks-1-30-12"),
	                  ("csi-attacher", "external-attacher:v4.6.1-eks-1-30-12"),
	                  ("csi-resizer", "external-resizer:v1.11.2-eks-1-30-12"),
	                  ("liveness-probe", "livenessprobe:v2.13.1-eks-1-30-12")]],
	  created=ago(days=800), rolled=ago(days=44), sa="ebs-csi-controller-sa", story="Well-sized, five small containers."),
	W("kube-system", "DaemonSet", "kube-proxy", 6,
	  [C("kube-proxy", EKS_ECR + "/eks/kube-proxy:v1.30.3-minimal-eksbuild.5", "100m", mem_abs=Mi(38), probe=False)],
	  created=ago(days=1102), rolled=ago(days=44), labels={"k8s-app": "kube-proxy"}, sa="kube-proxy",
	  story="Well-sized (EKS default: CPU request only)."),
	W("kube-system", "DaemonSet", "aws-node", 6,
	  [C("aws-node", EKS_ECR + "/amazon-k8s-cni:v1.18.3-eksbuild.2", "25m", mem_abs=Mi(52), port=61678, probe=False),
	   C("aws-eks-nodeagent", EKS_ECR + "/amazon/aws-network-policy-agent:v1.1.2-eksbuild.2", "25m", mem_abs=Mi(30),
	     probe=False)],
	  init=[C("aws-vpc-cni-init", EKS_ECR + "/amazon-k8s-cni-init:v1.18.3-eksbuild.2", "25m", probe=False)],
	  created=ago(days=1102), rolled=ago(days=44), labels={"k8s-app": "aws-node"}, sa="aws-node",
	  story="Well-sized (EKS default: CPU requests only)."),
	W("kube-system", "DaemonSet", "ebs-csi-node", 6,
	  [C(c, "public.ecr.aws/eks-distro/kubernetes-csi/%s" % img, "10m", "40Mi", None, "256Mi", probe=False)
	   for c, img in [("ebs-plugin", "../../ebs-csi-driver/aws-ebs-csi-driver:v1.34.0"),
	                  ("node-driver-registrar", "node-driver-registrar:v2.11.1-eks-1-30-12"),
	                  ("liveness-probe", "livenessprobe:v2.13.1-eks-1-30-12")]],
	  created=ago(days=800), rolled=ago(days=44), sa="ebs-csi-node-sa", story="Well-sized."),

	# ---------------------------------------------------------------- idle workloads and their near misses
	W("staging", "Deployment", "launchdarkly-relay", 1,
	  [C("relay", "launchdarkly/ld-relay:8.9.1", "100m", "256Mi", None, "256Mi", 8030, use=(1.6, Mi(41)))],
	  expect="idle", created=ago(days=530), rolled=ago(days=96), svc=(8030, 8030),
	  story="Forgotten: the LaunchDarkly Relay Proxy staging used before feature flags moved to flagsmith "
	        "(staging/feature-flags). Nothing connects to it any more; 14 days at CPU p95 2m and a flat 41Mi, "
	        "while it reserves 100m / 256Mi (about $3/month)."),
	W("checkout", "Deployment", "coupon-service", 2,
	  [C("coupon-service", ecr("checkout", "coupon-service", "1.8.2"), "250m", "512Mi", None, "512Mi", 8080,
	     use=(2.2, Mi(80)))],
	  expect="idle", created=ago(days=640), rolled=ago(days=118), old_rs=1, svc=(80, 8080),
	  story="Replaced by promo-service in the spring: the checkout flow no longer calls it, yet 2 replicas of "
	        "250m / 512Mi still run, at CPU p95 2m and a flat 80Mi for 14 days. Its Service still has ready "
	        "endpoints: idle is about usage, not about endpoints."),
	W("staging", "Deployment", "storefront-pr-4182", 1,
	  [C("storefront", ecr("web", "storefront", "pr-4182-3b7e0c1"), "40m", "64Mi", None, "128Mi", 3000,
	     use=(1.2, Mi(30)))],
	  expect="idle-young", created=ago(days=3, hours=4), rolled=ago(days=3, hours=4), svc=(80, 3000),
	  story="Preview environment of storefront pull request 4182, deployed 3 days ago and not opened since: it "
	        "looks idle, but 3 days of history are under the 7-day minimum, so it is skipped with that reason, "
	        "not reported. Its requests are too small for rightsizing to propose anything."),
	W("analytics", "Deployment", "partner-webhook", 1,
	  [C("partner-webhook", ecr("analytics", "partner-webhook", "0.4.0"), "30m", "96Mi", None, "128Mi", 8080,
	     use=(2.5, Mi(60)), cpu_max=140)],
	  expect="spiky", created=ago(days=210), rolled=ago(days=45), svc=(80, 8080),
	  story="Receives a partner's hourly data push: quiet in between (CPU p95 3m) but it bursts to 140m for each "
	        "push, so it is not idle (idle needs max <= 25m); its small requests fit that."),

	# ---------------------------------------------------------------- zero replicas that are NOT reported
	W("checkout", "Deployment", "bf-queue-drainer", 0,
	  [C("drainer", ecr("checkout", "queue-drainer", "2025.11.20-77c01de"), "500m", "1Gi", None, "1Gi",
	     probe=False)],
	  expect="zero-empty", created=ago(days=372), rolled=ago(days=360),
	  story="Drained the order backlog during Black Friday 2025 and was scaled to 0 afterwards, kept for this "
	        "year. It holds no volume and no load balancer: parked at no cost, not reported."),
	W("data-platform", "Deployment", "superset", 0,
	  [C("superset", "apache/superset:4.0.2", "500m", "1Gi", None, "2Gi", 8088,
	     mounts=[("home", "/app/superset_home")])],
	  expect="zero-young", created=ago(days=3, hours=2), rolled=ago(days=3, hours=2),
	  volumes=[{"name": "home", "persistentVolumeClaim": {"claimName": "superset-home"}}], svc=(8088, 8088),
	  story="Metabase's successor, created 3 days ago at 0 replicas while its metadata database is migrated. "
	        "It already holds its PVC superset-home, but it is inside the zero-replica rule's 7-day grace period."),

	# ---------------------------------------------------------------- the two pods on the incident node
	W("checkout", "Deployment", "inventory-sync", 1,
	  [C("inventory-sync", ecr("checkout", "inventory-sync", "2026.11.16-hotfix2"), "150m", "256Mi", None, "256Mi",
	     8080)],
	  created=NODE_CREATED[INCIDENT_NODE] + dt.timedelta(minutes=38, seconds=12),
	  rolled=NODE_CREATED[INCIDENT_NODE] + dt.timedelta(minutes=38, seconds=12), jitter=False,
	  tolerations=[INCIDENT_TOLERATION], node_selector={"kubernetes.io/os": "linux"}, svc=(80, 8080),
	  story="Well-sized. Deployed during the 2026-11-16 checkout incident with a toleration for the incident "
	        "node's taint, so it landed there; it has no affinity and only a kubernetes.io/os nodeSelector, so "
	        "it fits on any other node."),
	W("checkout", "Deployment", "tax-rates-cache", 1,
	  [C("tax-rates-cache", ecr("checkout", "tax-rates-cache", "1.2.0"), "100m", "192Mi", None, "192Mi", 8080)],
	  created=NODE_CREATED[INCIDENT_NODE] + dt.timedelta(hours=2, minutes=5, seconds=40),
	  rolled=NODE_CREATED[INCIDENT_NODE] + dt.timedelta(hours=2, minutes=5, seconds=40), jitter=False,
	  tolerations=[INCIDENT_TOLERATION], svc=(80, 8080),
	  story="Well-sized. The incident's second hotfix, also tolerating the incident taint; it runs there alone "
	        "with inventory-sync and the DaemonSets."),
]

for _w in WORKLOADS:
	for _c in _w["containers"] + _w["init"]:
		_c["image"] = _c["image"].replace("kubernetes-csi/../../", "")

# CronJobs: name, schedule, container, jobs kept (scheduled times), ttl, volumes, story
CRONJOBS = [
	dict(ns="analytics", name="nightly-report", schedule="30 1 * * *",
	     c=C("report", ecr("analytics", "report-builder", "2026.09.12-77aa012"), "500m", "1Gi", None, "2Gi",
	         mounts=[("scratch", "/scratch")], probe=False, args=["report-builder", "render-all", "--out=/scratch"]),
	     runs=[], ttl=3600, hist=3, last=ago(hours=4, minutes=30), dur=22 * 60,
	     volumes=[{"name": "scratch", "persistentVolumeClaim": {"claimName": "report-scratch"}}], created=ago(days=400)),
	dict(ns="payments", name="pg-backup", schedule="0 2 * * *",
	     c=C("pg-backup", "postgres:16.4", "250m", "512Mi", None, "1Gi", probe=False,
	         args=["sh", "-c", "pg_dumpall -h payments-db | gzip | aws s3 cp - s3://acme-pg-backups/payments/$(date +%F).sql.gz"]),
	     runs=[ago(days=2, hours=4), ago(days=1, hours=4), ago(hours=4)], ttl=None, hist=3, dur=11 * 60,
	     volumes=[], created=ago(days=690)),
	dict(ns="data-platform", name="iceberg-compaction", schedule="0 */6 * * *",
	     c=C("compaction", ecr("data", "iceberg-maintenance", "1.6.0"), "500m", "2Gi", None, "2Gi", probe=False,
	         args=["compact", "--catalog=glue", "--older-than=6h"]),
	     runs=[ago(hours=18), ago(hours=12), ago(hours=6)], ttl=None, hist=3, dur=35 * 60, volumes=[],
	     created=ago(days=330)),
	dict(ns="staging", name="db-refresh", schedule="0 4 * * 1",
	     c=C("db-refresh", ecr("platform", "db-refresh", "0.4.2"), "100m", "256Mi", None, "512Mi", probe=False,
	         args=["refresh", "--from=payments-db-snapshot", "--anonymize"]),
	     runs=[ago(days=16, hours=2), ago(days=9, hours=2), ago(days=2, hours=2)], ttl=None, hist=3, dur=48 * 60,
	     volumes=[], created=ago(days=560)),
]

# One-off Jobs (not owned by a CronJob)
JOBS = [
	dict(ns="data-platform", name="schema-migrate-v118", start=ago(days=1, hours=9, minutes=12), dur=3 * 60,
	     ttl=604800, c=C("migrate", ecr("data", "schema-migrations", "v118"), "100m", "256Mi", None, "256Mi",
	                    probe=False, args=["migrate", "up"])),
	dict(ns="ml", name="train-recsys-20261124", start=ago(hours=7, minutes=40), dur=None, ttl=86400,
	     c=C("trainer", ecr("ml", "recsys-trainer", "2026.11.24-1f2e3d4"), "500m", "3Gi", None, "6Gi",
	         probe=False, args=["python", "-m", "recsys.train", "--epochs=40"])),
	dict(ns="payments", name="ledger-backfill-20261026", start=ago(days=30, hours=3, minutes=12), dur=47 * 60,
	     ttl=None, expect="finished",
	     c=C("backfill", ecr("payments", "ledger-api", "2.29.0"), "500m", "1Gi", None, "1Gi", probe=False,
	         args=["ledger-api", "backfill", "--from=2026-01-01", "--to=2026-10-25"]),
	     story="One-off migration: backfilled the ledger's new settlement column 30 days ago. It has no "
	           "ttlSecondsAfterFinished and no CronJob owns it, so it and its Succeeded pod stay forever."),
	dict(ns="data-platform", name="reindex-customers-20261002", start=ago(days=53, hours=9, minutes=4), dur=12 * 60,
	     ttl=None, failed=True, backoff=0, expect="finished",
	     c=C("reindex", ecr("data", "customer-indexer", "0.9.1"), "1", "2Gi", None, "2Gi", probe=False,
	         args=["reindex", "--index=customers", "--batch=5000"]),
	     story="Failed 53 days ago (BackoffLimitExceeded, backoffLimit 0: the reindex is not idempotent); the "
	           "rerun went through a CronJob-free script, and the failed Job was never cleaned up."),
	dict(ns="ml", name="train-recsys-20261112", start=ago(days=12, hours=20, minutes=5), dur=5 * 3600 + 17 * 60,
	     ttl=2592000, expect="ttl",
	     c=C("trainer", ecr("ml", "recsys-trainer", "2026.11.12-a0b9c8d"), "500m", "3Gi", None, "6Gi",
	         probe=False, args=["python", "-m", "recsys.train", "--epochs=40"]),
	     story="Finished 12 days ago, but has ttlSecondsAfterFinished of 30 days: the TTL controller will delete "
	           "it. Not reported."),
	dict(ns="search", name="reindex-products-20261123", start=ago(days=2, hours=1, minutes=30), dur=40 * 60,
	     ttl=None, expect="fresh",
	     c=C("reindex", ecr("search", "search-indexer", "4.2.2"), "1", "2Gi", None, "2Gi", probe=False,
	         args=["indexer", "full-reindex", "--index=products"]),
	     story="A manual full re-index 2 days ago, no TTL: inside the 7-day grace period (the team still reads "
	           "its logs). Not reported."),
]

# Standalone PVCs (StatefulSet claim PVCs are derived from the workloads).
# name -> (ns, size, class, created, bound pod or None, reclaim, story, expect)
PVCS = [
	dict(ns="search", name="data-opensearch-master-0", size="50Gi", sc="gp3", created=ago(days=88, hours=3),
	     reclaim="Retain", expect="orphan",
	     story="Left behind when the dedicated opensearch-master StatefulSet was deleted (88 days ago, masters "
	           "merged into the data nodes): StatefulSet PVCs outlive their StatefulSet. Its PV has reclaim "
	           "policy Retain, so deleting the PVC alone frees nothing: the PV must go too."),
	dict(ns="data-platform", name="metabase-data", size="20Gi", sc="standard", created=ago(days=62, hours=7),
	     reclaim="Delete", expect="orphan",
	     story="Left behind by the metabase Deployment, deleted when the team moved to Superset."),
	dict(ns="ml", name="scratch-jdoe", size="100Gi", sc="gp3", created=ago(days=34, hours=2), reclaim="Delete",
	     expect="orphan", labels={"owner": "jdoe", "purpose": "scratch"},
	     story="A data scientist's scratch claim for a one-off notebook pod that is long gone."),
	dict(ns="kube-system", name="debug-pcap-captures", size="20Gi", sc="gp3", created=ago(days=27, hours=5),
	     reclaim="Delete", expect="orphan-blocked",
	     story="tcpdump captures from the March DNS incident follow-up; orphaned, but in kube-system: the delete "
	           "is blocked (protected namespace)."),
	dict(ns="analytics", name="report-scratch", size="50Gi", sc="gp3", created=ago(days=380), reclaim="Delete",
	     expect="cronjob",
	     story="Used only by the nightly-report CronJob's job template; no job is running now (jobs are removed an "
	           "hour after they finish)."),
	dict(ns="web", name="legacy-cms-uploads", size="20Gi", sc="standard", created=ago(days=880), reclaim="Delete",
	     expect="zero-deploy", story="Referenced by the legacy-cms Deployment, scaled to 0."),
	dict(ns="ml", name="notebook-home-dana", size="20Gi", sc="gp3", created=ago(days=45), reclaim="Delete",
	     expect="mounted", story="Mounted by a running standalone Pod (debug-notebook-dana) that no workload owns."),
	dict(ns="monitoring", name="grafana", size="10Gi", sc="gp3", created=ago(days=1000), reclaim="Delete",
	     expect="mounted", story="Mounted by the grafana Deployment's running pod."),
	dict(ns="data-platform", name="superset-home", size="10Gi", sc="gp3", created=ago(days=3, hours=1),
	     reclaim="Delete", expect="zero-deploy",
	     story="Named by the superset Deployment's template (0 replicas, created 3 days ago): not an orphan."),
	dict(ns="staging", name="load-test-results", size="50Gi", sc="gp3", created=ago(days=2, hours=3),
	     reclaim="Delete", expect="fresh",
	     story="Created 2 days ago for this week's load test, not mounted yet: inside the 7-day grace period."),
]

# ---------------------------------------------------------------------------
# 3. builders

objects = {r: [] for r in [
	"pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "persistentvolumeclaims",
	"persistentvolumes", "services", "endpointslices", "nodes", "horizontalpodautoscalers", "namespaces",
	"storageclasses"]}
usage = []
node_load = {n[0]: [0, 0, 0] for n in NODES}  # cpu m, mem bytes, pods
pods_by_label = []  # (ns, labels, pod) for endpoint slices


def meta(kind, ns, name, created, labels=None, annotations=None, owner=None, generate_name=None, generation=None,
         finalizers=None, extra_key=""):
	m = {"creationTimestamp": ts(created), "name": name, "resourceVersion": rv(kind, ns, name, extra_key),
	     "uid": mkuid(kind, ns, name, extra_key)}
	if ns is not None:
		m["namespace"] = ns
	if labels:
		m["labels"] = dict(labels)
	if annotations:
		m["annotations"] = dict(annotations)
	if owner:
		m["ownerReferences"] = [{"apiVersion": owner[0], "blockOwnerDeletion": True, "controller": True,
		                         "kind": owner[1], "name": owner[2], "uid": owner[3]}]
	if generate_name:
		m["generateName"] = generate_name
	if generation is not None:
		m["generation"] = generation
	if finalizers:
		m["finalizers"] = list(finalizers)
	return m


def resources(c):
	r = {}
	req = {k: v for k, v in (("cpu", c["cpu"]), ("memory", c["mem"])) if v}
	lim = {k: v for k, v in (("cpu", c["cpu_lim"]), ("memory", c["mem_lim"])) if v}
	if lim:
		r["limits"] = lim
	if req:
		r["requests"] = req
	return r


def container_spec(c, init=False):
	s = {"image": c["image"], "imagePullPolicy": "IfNotPresent", "name": c["name"], "resources": resources(c),
	     "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
	if c["args"]:
		s["command" if init else "args"] = c["args"]
	if c["env"]:
		s["env"] = [{"name": k, "value": v} for k, v in sorted(c["env"].items())]
	if c["port"]:
		proto = "UDP" if c["port"] == 53 else "TCP"
		s["ports"] = [{"containerPort": c["port"], "name": port_name(c), "protocol": proto}]
		if c["port"] == 53:
			s["ports"].append({"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"})
	if c["probe"] and c["port"] and not init and port_name(c) == "http":
		s["readinessProbe"] = {"failureThreshold": 3, "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
		                       "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1}
	if c["mounts"]:
		s["volumeMounts"] = [{"mountPath": p, "name": n} for n, p in c["mounts"]]
	return s


def port_name(c):
	if c["port"] == 53:
		return "dns"
	for key, pn in (("envoy", "admin"), ("exporter", "metrics"), ("reloader", "reloader-web"),
	                ("rbac-proxy", "https"), ("postgres", "postgres"), ("redis", "redis"), ("kafka", "kafka"),
	                ("aws-node", "metrics"), ("node-exporter", "metrics"), ("fluent-bit", "metrics")):
		if key in c["name"]:
			return pn
	return "http"


def pod_annotations(w, when, force=False):
	"""Template annotations: `kubectl rollout restart` leaves restartedAt; some teams use scrape annotations."""
	ann = {}
	if force or hfrac("ra", w["ns"], w["name"]) < 0.3:
		ann["kubectl.kubernetes.io/restartedAt"] = ts(when)
	if w["ns"] in ("monitoring", "web", "search", "checkout") and w["containers"][0]["port"]:
		ann["prometheus.io/scrape"] = "true"
		ann["prometheus.io/port"] = str(w["containers"][0]["port"])
	return ann or None


def app_labels(w):
	if w["labels"]:
		return dict(w["labels"])
	return {"app.kubernetes.io/name": w["name"], "app.kubernetes.io/part-of": w["ns"]}


def pod_template(w, pod_labels, annotations=None):
	spec = {"containers": [container_spec(c) for c in w["containers"]], "dnsPolicy": "ClusterFirst",
	        "restartPolicy": "Always", "schedulerName": "default-scheduler", "securityContext": {},
	        "terminationGracePeriodSeconds": 30}
	if w["init"]:
		spec["initContainers"] = [container_spec(c, init=True) for c in w["init"]]
	if w["name"] == "opensearch-data":
		spec["initContainers"][0]["securityContext"] = {"privileged": True, "runAsUser": 0}
	if w["sa"]:
		spec["serviceAccountName"] = w["sa"]
		spec["serviceAccount"] = w["sa"]
	if w["ns"] == "kube-system":
		spec["priorityClassName"] = "system-node-critical" if w["kind"] == "DaemonSet" else "system-cluster-critical"
	if w["kind"] == "DaemonSet":
		spec["tolerations"] = [{"operator": "Exists"}]
		if w["ns"] == "kube-system" or w["name"] == "node-exporter":
			spec["hostNetwork"] = True
			spec["dnsPolicy"] = "ClusterFirstWithHostNet"
	if w["volumes"]:
		spec["volumes"] = [dict(v) for v in w["volumes"]]
	if w.get("tolerations"):
		spec["tolerations"] = [dict(t) for t in w["tolerations"]]
	if w.get("node_selector"):
		spec["nodeSelector"] = dict(w["node_selector"])
	md = {"creationTimestamp": None, "labels": dict(pod_labels)}
	if annotations:
		md["annotations"] = dict(annotations)
	return {"metadata": md, "spec": spec}


def qos(containers):
	reqs = [(c["cpu"], c["mem"], c["cpu_lim"], c["mem_lim"]) for c in containers]
	if all(not any(r) for r in reqs):
		return "BestEffort"
	if all(r[2] and r[3] and (r[0] in (None, r[2])) and (r[1] in (None, r[3])) for r in reqs):
		return "Guaranteed"
	return "Burstable"


def place(key, cpu, mem, siblings, tolerations=()):
	"""Deterministic scheduling: least-requested node (by CPU fraction) that fits, avoiding siblings. A node's
	taints keep out pods that do not tolerate them; PLACE_CAP holds a node below a requested fraction."""
	best = None
	for n in NODES:
		name = n[0]
		_, _, acpu, amem = NODE_SHAPE[n[2]]
		cl, ml, pc = node_load[name]
		if cl + cpu > acpu or ml + mem > amem * 1024 or pc >= 58:
			continue
		if any(not any(t.get("key") == tn["key"] and t.get("effect") == tn["effect"] for t in tolerations)
		       for tn in NODE_EXTRA.get(name, {}).get("taints", [])):
			continue
		cap = PLACE_CAP.get(name)
		if cap and ((cl + cpu) / acpu > cap or (ml + mem) / (amem * 1024) > cap):
			continue
		score = (name in siblings, (cl + cpu) / acpu, hfrac("place", key, name))
		if best is None or score < best[0]:
			best = (score, name)
	if best is None:
		raise SystemExit("generate.py: cannot schedule %s (cpu %dm mem %d): add a node; load %s" % (key, cpu, mem, node_load))
	node_load[best[1]][0] += cpu
	node_load[best[1]][1] += mem
	node_load[best[1]][2] += 1
	return best[1]


def pod_requests(containers, init):
	cpu = sum(cpu_m(c["cpu"]) or 0 for c in containers)
	mem = sum(mem_b(c["mem"]) or 0 for c in containers)
	for c in init:
		cpu = max(cpu, cpu_m(c["cpu"]) or 0)
		mem = max(mem, mem_b(c["mem"]) or 0)
	return cpu, mem


def pod_ip(node, key, host_network):
	if host_network:
		return node_ip(node)
	zone = [n[1] for n in NODES if n[0] == node][0]
	base = ZONE_NET[zone]
	return "10.0.%d.%d" % (base + hint(0, 31, "ip3", key), hint(2, 254, "ip4", key))


def image_id(image):
	repo = image.rsplit(":", 1)[0]
	if "/" not in repo:
		repo = "docker.io/library/" + repo
	elif "." not in repo.split("/")[0]:
		repo = "docker.io/" + repo
	return "%s@sha256:%s" % (repo, hexs(64, "img", image))


def full_image(image):
	repo = image
	if "/" not in repo.split(":")[0]:
		return "docker.io/library/" + image
	if "." not in repo.split("/")[0]:
		return "docker.io/" + image
	return image


def make_pod(w, name, labels, owner, node, started, spec_extra=None, phase="Running", finished=None, annotations=None,
             containers=None, init=None, volumes=None, restart_policy=None):
	ns = w["ns"] if isinstance(w, dict) and "ns" in w else w
	containers = containers if containers is not None else w["containers"]
	init = init if init is not None else w.get("init", [])
	vols = volumes if volumes is not None else w.get("volumes", [])
	host_net = isinstance(w, dict) and w.get("kind") == "DaemonSet" and (w["ns"] == "kube-system"
	                                                                       or w["name"] == "node-exporter")
	sa = (w.get("sa") if isinstance(w, dict) else None) or "default"
	api_vol = "kube-api-access-" + safe(5, "apivol", ns, name)
	cspecs = []
	for c in containers:
		s = container_spec(c)
		s.setdefault("volumeMounts", []).append({"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
		                                         "name": api_vol, "readOnly": True})
		cspecs.append(s)
	spec = {"containers": cspecs, "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "nodeName": fqdn(node),
	        "preemptionPolicy": "PreemptLowerPriority", "priority": 0, "restartPolicy": restart_policy or "Always",
	        "schedulerName": "default-scheduler", "securityContext": {}, "serviceAccount": sa,
	        "serviceAccountName": sa, "terminationGracePeriodSeconds": 30,
	        "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
	                         "tolerationSeconds": 300},
	                        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
	                         "tolerationSeconds": 300}]}
	if init:
		spec["initContainers"] = []
		for c in init:
			s = container_spec(c, init=True)
			s["volumeMounts"] = [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": api_vol,
			                      "readOnly": True}]
			spec["initContainers"].append(s)
	if isinstance(w, dict) and w.get("ns") == "kube-system":
		crit = "system-node-critical" if w.get("kind") == "DaemonSet" else "system-cluster-critical"
		spec["priorityClassName"] = crit
		spec["priority"] = 2000001000 if crit == "system-node-critical" else 2000000000
	if isinstance(w, dict) and w.get("kind") == "DaemonSet":
		spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
			{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [fqdn(node)]}]}]}}}
		spec["tolerations"] = [{"operator": "Exists"}] + [
			{"effect": e, "key": "node.kubernetes.io/" + k, "operator": "Exists"}
			for k, e in [("not-ready", "NoExecute"), ("unreachable", "NoExecute"), ("disk-pressure", "NoSchedule"),
			             ("memory-pressure", "NoSchedule"), ("pid-pressure", "NoSchedule"),
			             ("unschedulable", "NoSchedule")]]
		if host_net:
			spec["hostNetwork"] = True
			spec["dnsPolicy"] = "ClusterFirstWithHostNet"
	if isinstance(w, dict) and w.get("tolerations") and w.get("kind") != "DaemonSet":
		spec["tolerations"] = [dict(t) for t in w["tolerations"]] + spec["tolerations"]
	if isinstance(w, dict) and w.get("node_selector"):
		spec["nodeSelector"] = dict(w["node_selector"])
	if isinstance(w, dict) and w.get("kind") == "StatefulSet":
		spec["hostname"] = name
		spec["subdomain"] = w["name"]
	if isinstance(w, dict) and w.get("name") == "opensearch-data":
		spec["initContainers"][0]["securityContext"] = {"privileged": True, "runAsUser": 0}
	spec["volumes"] = [dict(v) for v in vols] + [{"name": api_vol, "projected": {"defaultMode": 420, "sources": [
		{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
		{"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
		{"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
		                            "path": "namespace"}]}}]}}]
	if spec_extra:
		spec.update(spec_extra)

	sched = started
	init_end = started + dt.timedelta(seconds=4)
	run_start = init_end + dt.timedelta(seconds=2 + (6 if init else 0))
	ready = run_start + dt.timedelta(seconds=hint(5, 40, "ready", ns, name))
	ip = pod_ip(node, (ns, name), host_net)
	cstat = []
	for c in containers:
		st = {"containerID": "containerd://" + hexs(64, "cid", ns, name, c["name"]), "image": full_image(c["image"]),
		      "imageID": image_id(c["image"]), "lastState": {}, "name": c["name"], "ready": phase == "Running",
		      "restartCount": c["restarts"], "started": phase == "Running"}
		if phase == "Running":
			last_start = run_start
			if c["restarts"]:
				last_start = NOW - dt.timedelta(hours=hint(5, 60, "oomlast", ns, name))
				st["lastState"] = {"terminated": {
					"containerID": "containerd://" + hexs(64, "cidold", ns, name, c["name"]),
					"exitCode": 137 if c["oom"] else 1, "finishedAt": ts(last_start - dt.timedelta(seconds=1)),
					"reason": "OOMKilled" if c["oom"] else "Error",
					"startedAt": ts(last_start - dt.timedelta(hours=hint(1, 9, "oomrun", ns, name)))}}
			st["state"] = {"running": {"startedAt": ts(last_start)}}
		else:
			st["state"] = {"terminated": {"containerID": st["containerID"], "exitCode": 0, "finishedAt": ts(finished),
			                              "reason": "Completed", "startedAt": ts(run_start)}}
		cstat.append(st)
	done = phase != "Running"
	conds = [
		{"lastProbeTime": None, "lastTransitionTime": ts(finished if done else run_start), "status": "False" if done else "True",
		 "type": "PodReadyToStartContainers"},
		{"lastProbeTime": None, "lastTransitionTime": ts(init_end if init else sched), "status": "True",
		 "type": "Initialized"},
		{"lastProbeTime": None, "lastTransitionTime": ts(finished if done else ready),
		 "status": "False" if done else "True", "type": "Ready"},
		{"lastProbeTime": None, "lastTransitionTime": ts(finished if done else ready),
		 "status": "False" if done else "True", "type": "ContainersReady"},
		{"lastProbeTime": None, "lastTransitionTime": ts(sched), "status": "True", "type": "PodScheduled"}]
	if done:
		for cnd in conds[2:4]:
			cnd["reason"] = "PodCompleted"
		conds[1]["reason"] = "PodCompleted"
	status = {"conditions": conds, "containerStatuses": cstat, "hostIP": node_ip(node),
	          "hostIPs": [{"ip": node_ip(node)}], "phase": phase, "podIP": ip, "podIPs": [{"ip": ip}],
	          "qosClass": qos(list(containers) + list(init)), "startTime": ts(sched)}
	if init:
		status["initContainerStatuses"] = [{
			"containerID": "containerd://" + hexs(64, "cid", ns, name, c["name"]), "image": full_image(c["image"]),
			"imageID": image_id(c["image"]), "lastState": {}, "name": c["name"], "ready": True, "restartCount": 0,
			"started": False, "state": {"terminated": {
				"containerID": "containerd://" + hexs(64, "cid", ns, name, c["name"]), "exitCode": 0,
				"finishedAt": ts(init_end), "reason": "Completed", "startedAt": ts(started + dt.timedelta(seconds=1))}}}
			for c in init]
	pod = {"apiVersion": "v1", "kind": "Pod",
	       "metadata": meta("Pod", ns, name, started, labels=labels, annotations=annotations, owner=owner,
	                        generate_name=None),
	       "spec": spec, "status": status}
	if owner and owner[1] in ("ReplicaSet", "DaemonSet", "Job"):
		pod["metadata"]["generateName"] = name[:-5]
	elif owner and owner[1] == "StatefulSet":
		pod["metadata"]["generateName"] = owner[2] + "-"
	objects["pods"].append(pod)
	pods_by_label.append((ns, labels, pod))
	return pod


def fqdn(short):
	return node_fqdn(short)


# --- usage -------------------------------------------------------------------


def ratio_jitter(key, lo, hi):
	return hrange(lo, hi, "jit", *key)


def usage_entry(ns, pod, c, owner, start, end, cpu_p95, mem_max, oom=0, restarts=0, throttle=None, lim_at_oom=None,
                m50=(0.72, 0.92), cpu_max=None):
	first = max(start, WSTART)
	last = min(end, LAST_SAMPLE)
	first = first.replace(second=0)
	last = last.replace(second=0)
	samples = int((last - first).total_seconds() // STEP) + 1
	key = (ns, pod, c["name"])
	p50 = cpu_p95 * ratio_jitter(key + ("p50",), 0.45, 0.65)
	p99 = cpu_p95 * ratio_jitter(key + ("p99",), 1.08, 1.3)
	mx = p99 * ratio_jitter(key + ("max",), 1.05, 1.5)
	if cpu_max is not None:  # a burst well above the percentiles
		mx = max(cpu_max, p99)
	if c["cpu_lim"]:
		lim = cpu_m(c["cpu_lim"])
		p99 = min(p99, lim * 0.995)
		mx = min(max(mx, p99), lim * 1.0)
	e = {"namespace": ns, "pod": pod, "container": c["name"], "first_seen": ts(first), "last_seen": ts(last),
	     "samples": samples,
	     "cpu_millicores": {"p50": round(p50, 1), "p95": round(cpu_p95, 1), "p99": round(p99, 1), "max": round(mx, 1)},
	     "memory_bytes": {"p50": int(mem_max * ratio_jitter(key + ("m50",), *m50)), "max": int(mem_max)},
	     "oom_kills": oom, "restarts": restarts}
	if owner:
		e["owner"] = {"kind": owner[0], "name": owner[1]}
	if c["cpu_lim"]:
		e["cpu_throttled_ratio"] = throttle if throttle is not None else round(ratio_jitter(key + ("thr",), 0.0, 0.03), 4)
	if oom:
		e["memory_limit_at_oom_bytes"] = lim_at_oom
	cm = e["cpu_millicores"]
	assert cm["p50"] <= cm["p95"] <= cm["p99"] <= cm["max"], e
	usage.append(e)
	return e


def ref_use(w, c):
	"""(cpu p95, mem max) of the busiest pod for container c."""
	cpu, mem = c["use"] if c["use"] else (None, None)
	key = (w["ns"], w["name"], c["name"])
	if cpu is None:
		cpu = cpu_m(c["cpu"]) * 0.80 * ratio_jitter(key + ("wc",), 0.985, 1.02)
	if mem is None:
		if c["mem"]:
			mem = mem_b(c["mem"]) * 0.77 * ratio_jitter(key + ("wm",), 0.985, 1.02)
		else:
			mem = c["mem_abs"] or Mi(60)
	return cpu, mem


def add_usage_for_pod(w, pod_name, owner, start, end, index, override=None, live=True):
	"""index 0 is the busiest pod; the others run at 85-97% of it."""
	for c in w["containers"]:
		cpu, mem = ref_use(w, c)
		if override and c["name"] in override:
			ocpu, omem = override[c["name"]]
			cpu = ocpu if ocpu is not None else cpu
			mem = omem if omem is not None else mem
		f = 1.0 if index == 0 else ratio_jitter((w["ns"], pod_name, c["name"], "pf"), 0.85, 0.97)
		oom = c["oom"] if (index == 0 and live) else 0
		rst = c["restarts"] if (index == 0 and live) else 0
		idle = w.get("expect") in ("idle", "idle-young")
		fm = 1.0 if index == 0 or not idle else ratio_jitter((w["ns"], pod_name, c["name"], "pfm"), 0.97, 0.995)
		usage_entry(w["ns"], pod_name, c, owner, start, end, cpu * f, mem * (fm if idle else f) if not oom else mem,
		            oom=oom, restarts=rst, throttle=c["throttle"], lim_at_oom=mem_b(c["mem_lim"]) if oom else None,
		            m50=(0.90, 0.96) if idle else (0.72, 0.92), cpu_max=c.get("cpu_max"))
	if start >= WSTART:
		for c in w["init"]:
			cpu, mem = c["use"] or (2, Mi(4))
			usage_entry(w["ns"], pod_name, c, owner, start, start + dt.timedelta(seconds=60 + hint(0, 60, "i", pod_name)),
			            cpu, mem)


# --- workloads ---------------------------------------------------------------

def build_deployment(w):
	ns, name = w["ns"], w["name"]
	labels = app_labels(w)
	dep_uid = mkuid("Deployment", ns, name, "")
	revision = 1 + w["old_rs"] + (1 if any(g["rs"] == "old" for g in w["gone"]) else 0) + hint(0, 3, "revs", ns, name)
	hashes = [safe(10, "pth", ns, name, i) for i in range(w["old_rs"] + 3)]
	cur_hash = hashes[0]
	sel = dict(labels)
	cur_ann = pod_annotations(w, w["rolled"])
	dep_tpl = pod_template(w, labels, cur_ann)
	generation = revision + hint(0, 4, "gen", ns, name)
	dep = {"apiVersion": "apps/v1", "kind": "Deployment",
	       "metadata": meta("Deployment", ns, name, w["created"], labels=labels,
	                        annotations={"deployment.kubernetes.io/revision": str(revision)}, generation=generation),
	       "spec": {"progressDeadlineSeconds": 600, "replicas": w["replicas"],
	                "revisionHistoryLimit": 10 if w["rhl"] is None else w["rhl"],
	                "selector": {"matchLabels": sel},
	                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
	                "template": dep_tpl}}
	r = w["replicas"]
	conds = [{"lastTransitionTime": ts(w["rolled"] + dt.timedelta(minutes=2)), "lastUpdateTime": ts(
		w["rolled"] + dt.timedelta(minutes=2)), "message": "Deployment has minimum availability.",
		"reason": "MinimumReplicasAvailable", "status": "True", "type": "Available"},
		{"lastTransitionTime": ts(w["created"]), "lastUpdateTime": ts(w["rolled"] + dt.timedelta(minutes=2)),
		 "message": 'ReplicaSet "%s-%s" has successfully progressed.' % (name, cur_hash),
		 "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"}]
	dep["status"] = {"conditions": conds, "observedGeneration": generation}
	if r:
		dep["status"].update({"availableReplicas": r, "readyReplicas": r, "replicas": r, "updatedReplicas": r})
	if w["hpa"]:
		del dep["spec"]["replicas"]
		dep["spec"]["replicas"] = w["hpa"]["current"]
	objects["deployments"].append(dep)

	def rs_obj(h, rev, replicas, created, ann):
		rs_name = "%s-%s" % (name, h)
		rl = dict(labels, **{"pod-template-hash": h})
		tpl = pod_template(w, rl, ann)
		o = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
		     "metadata": meta("ReplicaSet", ns, rs_name, created, labels=rl, owner=(
			     "apps/v1", "Deployment", name, dep_uid), generation=hint(1, 4, "rsgen", rs_name),
		                      annotations={"deployment.kubernetes.io/desired-replicas": str(r),
		                                   "deployment.kubernetes.io/max-replicas": str(r + max(1, math.ceil(r * 0.25))),
		                                   "deployment.kubernetes.io/revision": str(rev)}),
		     "spec": {"replicas": replicas, "selector": {"matchLabels": dict(sel, **{"pod-template-hash": h})},
		              "template": tpl}}
		o["status"] = {"observedGeneration": o["metadata"]["generation"], "replicas": replicas}
		if replicas:
			o["status"].update({"availableReplicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas})
		objects["replicasets"].append(o)
		return rs_name, o["metadata"]["uid"]

	if w["hpa"]:
		dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(revision)
	cur_rs, cur_uid = rs_obj(cur_hash, revision, r, w["rolled"], cur_ann)
	rev = revision - 1
	old_with_pods = None
	gone_rs = None
	for g in w["gone"]:
		if g["rs"] == "old":
			t_old = w["rolled"] - dt.timedelta(days=hint(20, 60, "oldrs", ns, name))
			old_with_pods = rs_obj(hashes[1], rev, 0, t_old, pod_annotations(w, t_old, force=True))
			rev -= 1
		elif g["rs"] == "gone":
			gone_rs = "%s-%s" % (name, safe(10, "gone", ns, name))
	if w["rhl"] != 0:
		for i in range(w["old_rs"]):
			t_old = w["rolled"] - dt.timedelta(days=30 + 25 * (i + 1) + hint(0, 20, "o", ns, name, i))
			rs_obj(hashes[2 + i], rev, 0, t_old, pod_annotations(w, t_old, force=True))
			rev -= 1 + hint(0, 1, "skip", ns, name, i)

	# live pods
	pod_cpu, pod_mem = pod_requests(w["containers"], w["init"])
	sibs = set()
	for i in range(r):
		pname = "%s-%s" % (cur_rs, safe(5, "pod", ns, cur_rs, i))
		started = w["rolled"] + dt.timedelta(seconds=hint(3, 90, "st", pname))
		node = place(pname, pod_cpu, pod_mem, sibs, w["tolerations"])
		sibs.add(node)
		make_pod(w, pname, dict(labels, **{"pod-template-hash": cur_hash}), ("apps/v1", "ReplicaSet", cur_rs, cur_uid),
		         node, started, annotations=cur_ann)
		if w["expect"] != "nousage":
			add_usage_for_pod(w, pname, ("ReplicaSet", cur_rs), started, NOW, i)
	# gone pods
	for g in w["gone"]:
		rs_name = {"old": old_with_pods[0] if old_with_pods else None, "gone": gone_rs, "current": cur_rs}[g["rs"]]
		for i in range(g["count"]):
			pname = "%s-%s" % (rs_name, safe(5, "gonepod", ns, rs_name, i))
			start = g.get("start", WSTART - dt.timedelta(days=hint(3, 30, "gst", pname)))
			add_usage_for_pod(w, pname, ("ReplicaSet", rs_name), start, g["end"], i, override=g.get("use"), live=False)
	return dep


def build_statefulset(w):
	ns, name = w["ns"], w["name"]
	labels = app_labels(w)
	sts_uid = mkuid("StatefulSet", ns, name, "")
	rev_hash = "%s-%s" % (name, safe(10, "crh", ns, name))
	tpl = pod_template(w, labels)
	vct = []
	for t, size, sc in w["claim_templates"]:
		vct.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"creationTimestamp": None, "name": t},
		            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
		                     "storageClassName": sc, "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}})
	gen = hint(2, 9, "gen", ns, name)
	r = w["replicas"]
	sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
	       "metadata": meta("StatefulSet", ns, name, w["created"], labels=labels, generation=gen),
	       "spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
	                "podManagementPolicy": "Parallel" if name == "opensearch-data" else "OrderedReady",
	                "replicas": r, "revisionHistoryLimit": 10, "selector": {"matchLabels": dict(labels)},
	                "serviceName": name if name not in ("prometheus-k8s", "alertmanager-main") else
	                ("prometheus-operated" if name == "prometheus-k8s" else "alertmanager-operated"),
	                "template": tpl,
	                "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
	                "volumeClaimTemplates": vct}}
	st = {"availableReplicas": r, "collisionCount": 0, "currentReplicas": r, "currentRevision": rev_hash,
	      "observedGeneration": gen, "readyReplicas": r, "replicas": r, "updateRevision": rev_hash,
	      "updatedReplicas": r}
	if r == 0:
		st = {"availableReplicas": 0, "collisionCount": 0, "currentRevision": rev_hash, "observedGeneration": gen,
		      "replicas": 0, "updateRevision": rev_hash}
	sts["status"] = st
	objects["statefulsets"].append(sts)
	pod_cpu, pod_mem = pod_requests(w["containers"], w["init"])
	ordinals = {"clickhouse": 3, "elasticsearch": 3}.get(name, r)
	sibs = set()
	for i in range(ordinals):
		pname = "%s-%d" % (name, i)
		node = None
		if i < r:
			started = w["rolled"] + dt.timedelta(seconds=40 * i + hint(1, 30, "st", pname))
			node = place(pname, pod_cpu, pod_mem, sibs)
			sibs.add(node)
			vols = [{"name": t, "persistentVolumeClaim": {"claimName": "%s-%s-%d" % (t, name, i)}}
			        for t, _, _ in w["claim_templates"]] + w["volumes"]
			plabels = dict(labels, **{"apps.kubernetes.io/pod-index": str(i), "controller-revision-hash": rev_hash,
			                          "statefulset.kubernetes.io/pod-name": pname})
			make_pod(w, pname, plabels, ("apps/v1", "StatefulSet", name, sts_uid), node, started, volumes=vols)
			add_usage_for_pod(w, pname, ("StatefulSet", name), started, NOW, i)
		for t, size, sc in w["claim_templates"]:
			created = w["created"] + dt.timedelta(seconds=20 + 40 * i)
			if name == "clickhouse" and i > 0:
				created = ago(days=400 - 3 * i)
			add_pvc(ns, "%s-%s-%d" % (t, name, i), size, sc, created, node, labels=labels, reclaim="Delete")
	return sts


def build_daemonset(w):
	ns, name = w["ns"], w["name"]
	labels = app_labels(w)
	ds_uid = mkuid("DaemonSet", ns, name, "")
	gen = hint(2, 9, "gen", ns, name)
	tpl = pod_template(w, labels)
	n = len(NODES)
	ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
	      "metadata": meta("DaemonSet", ns, name, w["created"], labels=labels,
	                       annotations={"deprecated.daemonset.template.generation": str(gen)}, generation=gen),
	      "spec": {"revisionHistoryLimit": 10, "selector": {"matchLabels": dict(labels)}, "template": tpl,
	               "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"}},
	      "status": {"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberAvailable": n,
	                 "numberMisscheduled": 0, "numberReady": n, "observedGeneration": gen, "updatedNumberScheduled": n}}
	objects["daemonsets"].append(ds)
	crh = safe(10, "dscrh", ns, name)
	pod_cpu, pod_mem = pod_requests(w["containers"], w["init"])
	for i, nd in enumerate(NODES):
		node = nd[0]
		node_load[node][0] += pod_cpu
		node_load[node][1] += pod_mem
		node_load[node][2] += 1
		pname = "%s-%s" % (name, safe(5, "dspod", ns, name, node))
		started = max(w["rolled"], NODE_CREATED[node]) + dt.timedelta(seconds=hint(5, 60, "st", pname))
		plabels = dict(labels, **{"controller-revision-hash": crh, "pod-template-generation": str(gen)})
		make_pod(w, pname, plabels, ("apps/v1", "DaemonSet", name, ds_uid), node, started)
		add_usage_for_pod(w, pname, ("DaemonSet", name), started, NOW, i)
	return ds


# --- storage -----------------------------------------------------------------

pvc_zone = {}


def add_pvc(ns, name, size, sc, created, node, labels=None, reclaim="Delete", annotations=None):
	created -= dt.timedelta(seconds=hint(0, 3599, "pvc-jitter", ns, name))
	if node:
		zone = [n[1] for n in NODES if n[0] == node][0]
		sel_node = fqdn(node)
	else:
		zone = sorted(ZONE_NET)[hint(0, 2, "zone", ns, name)]
		# the node the volume was first scheduled on may have been rotated out since
		sel_node = fqdn("ip-10-0-%d-%d" % (ZONE_NET[zone] + hint(0, 31, "sn3", ns, name), hint(2, 254, "sn4", ns, name)))
	pvc_uid = mkuid("PersistentVolumeClaim", ns, name, "")
	pv_name = "pvc-" + pvc_uid
	ann = {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
	       "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
	       "volume.kubernetes.io/selected-node": sel_node,
	       "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}
	if annotations:
		ann.update(annotations)
	pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
	       "metadata": meta("PersistentVolumeClaim", ns, name, created, labels=labels, annotations=ann,
	                        finalizers=["kubernetes.io/pvc-protection"]),
	       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
	                "storageClassName": sc, "volumeMode": "Filesystem", "volumeName": pv_name},
	       "status": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}, "phase": "Bound"}}
	objects["persistentvolumeclaims"].append(pvc)
	pv_created = created + dt.timedelta(seconds=hint(2, 9, "pvdelay", ns, name))
	pv = {"apiVersion": "v1", "kind": "PersistentVolume",
	      "metadata": meta("PersistentVolume", None, pv_name, pv_created,
	                       annotations={"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com",
	                                    "volume.kubernetes.io/provisioner-deletion-secret-name": "",
	                                    "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""},
	                       finalizers=["external-provisioner.volume.kubernetes.io/finalizer",
	                                   "kubernetes.io/pv-protection"]),
	      "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size},
	               "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name, "namespace": ns,
	                            "resourceVersion": pvc["metadata"]["resourceVersion"], "uid": pvc_uid},
	               "csi": {"driver": "ebs.csi.aws.com", "fsType": "ext4",
	                       "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity":
	                                            "1729000000000-%d-ebs.csi.aws.com" % hint(1000, 9999, "prov")},
	                       "volumeHandle": "vol-0" + hexs(16, "vol", ns, name)},
	               "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
		               {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}},
	               "persistentVolumeReclaimPolicy": reclaim, "storageClassName": sc, "volumeMode": "Filesystem"},
	      "status": {"lastPhaseTransitionTime": ts(pv_created + dt.timedelta(seconds=1)), "phase": "Bound"}}
	objects["persistentvolumes"].append(pv)
	pvc_zone[(ns, name)] = zone
	return pvc


# ---------------------------------------------------------------------------
# Build everything

for n in NODES:
	short, zone, itype = n
	cap_cpu, cap_mem, al_cpu, al_mem = NODE_SHAPE[itype]
	iid = "i-0" + hexs(16, "iid", short)
	ng = NODE_EXTRA.get(short, {}).get("nodegroup") or "general-" + ("xl" if itype == "m5.xlarge" else "2xl")
	labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": itype,
	          "beta.kubernetes.io/os": "linux", "eks.amazonaws.com/capacityType": "ON_DEMAND",
	          "eks.amazonaws.com/nodegroup": ng, "eks.amazonaws.com/nodegroup-image": "ami-0" + hexs(16, "ami"),
	          "failure-domain.beta.kubernetes.io/region": REGION, "failure-domain.beta.kubernetes.io/zone": zone,
	          "k8s.io/cloud-provider-aws": hexs(32, "cpaws"), "kubernetes.io/arch": "amd64",
	          "kubernetes.io/hostname": fqdn(short), "kubernetes.io/os": "linux",
	          "node.kubernetes.io/instance-type": itype, "topology.ebs.csi.aws.com/zone": zone,
	          "topology.k8s.aws/zone-id": "euw1-az" + str(ZONE_NET[zone] // 32), "topology.kubernetes.io/region": REGION,
	          "topology.kubernetes.io/zone": zone}
	created = NODE_CREATED[short]
	hb = NOW - dt.timedelta(seconds=hint(5, 50, "hb", short))
	node = {"apiVersion": "v1", "kind": "Node",
	        "metadata": meta("Node", None, fqdn(short), created, labels=labels, annotations={
		        "alpha.kubernetes.io/provided-node-ip": node_ip(short),
		        "csi.volume.kubernetes.io/nodeid": json.dumps({"ebs.csi.aws.com": iid}, separators=(",", ":")),
		        "node.alpha.kubernetes.io/ttl": "0",
		        "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
	        "spec": dict({"providerID": "aws:///%s/%s" % (zone, iid)},
	                     **({"taints": NODE_EXTRA[short]["taints"]} if NODE_EXTRA.get(short, {}).get("taints") else {})),
	        "status": {
		        "addresses": [{"address": node_ip(short), "type": "InternalIP"},
		                      {"address": fqdn(short), "type": "InternalDNS"},
		                      {"address": fqdn(short), "type": "Hostname"}],
		        "allocatable": {"cpu": "%dm" % al_cpu, "ephemeral-storage": "76224326324", "hugepages-1Gi": "0",
		                        "hugepages-2Mi": "0", "memory": "%dKi" % al_mem, "pods": "58"},
		        "capacity": {"cpu": cap_cpu, "ephemeral-storage": "83873772Ki", "hugepages-1Gi": "0",
		                     "hugepages-2Mi": "0", "memory": "%dKi" % cap_mem, "pods": "58"},
		        "conditions": [
			        {"lastHeartbeatTime": ts(hb), "lastTransitionTime": ts(created), "message": m, "reason": r,
			         "status": s, "type": t}
			        for t, s, r, m in [
				        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
				        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
				        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
				        ("Ready", "True", "KubeletReady", "kubelet is posting ready status")]],
		        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
		        "nodeInfo": {"architecture": "amd64", "bootID": mkuid("boot", short),
		                     "containerRuntimeVersion": "containerd://1.7.22", "kernelVersion": "6.1.112-122.189.amzn2023.x86_64",
		                     "kubeProxyVersion": K8S_VERSION, "kubeletVersion": K8S_VERSION,
		                     "machineID": hexs(32, "mid", short), "operatingSystem": "linux",
		                     "osImage": "Amazon Linux 2023.6.20241031", "systemUUID": "ec2" + hexs(29, "sysuuid", short)}}}
	node["status"]["conditions"][3]["lastTransitionTime"] = ts(created + dt.timedelta(seconds=48))
	objects["nodes"].append(node)

for name, age, labels in NAMESPACES:
	objects["namespaces"].append({
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": meta("Namespace", None, name, ago(days=age, seconds=hint(0, 86399, "nsh", name)),
		                 labels=dict(labels, **{"kubernetes.io/metadata.name": name})),
		"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

for sc, typ, default, created in [("gp3", "gp3", True, ago(days=1000)), ("standard", "gp2", False, ago(days=1102))]:
	o = {"allowVolumeExpansion": True, "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
	     "metadata": meta("StorageClass", None, sc, created,
	                      annotations={"storageclass.kubernetes.io/is-default-class": "true"} if default else None),
	     "parameters": {"csi.storage.k8s.io/fstype": "ext4", "encrypted": "true", "type": typ},
	     "provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}
	objects["storageclasses"].append(o)

# biggest pods first so the packing is stable and fits
order = sorted(WORKLOADS, key=lambda w: (w["kind"] != "DaemonSet", -pod_requests(w["containers"], w["init"])[0],
                                          w["ns"], w["name"]))
for w in order:
	{"Deployment": build_deployment, "StatefulSet": build_statefulset, "DaemonSet": build_daemonset}[w["kind"]](w)

# Standalone PVCs; the bare notebook pod mounts one, grafana's pod mounts another.
for p in PVCS:
	node = None
	if p["name"] == "grafana":
		node = [o for o in objects["pods"] if o["metadata"]["name"].startswith("grafana-")][0]["spec"]["nodeName"]
		node = node.split(".")[0]
	add_pvc(p["ns"], p["name"], p["size"], p["sc"], p["created"], None if p["name"] != "grafana" else node,
	        labels=p.get("labels"), reclaim=p["reclaim"])

# PersistentVolumes no claim holds (unbound-pv) and a fresh one inside the grace period.
UNBOUND_PVS = [
	dict(name="pvc-" + mkuid("PersistentVolumeClaim", "search", "data-opensearch-master-1", ""), phase="Released",
	     reclaim="Retain", size="50Gi", sc="gp3", claim=("search", "data-opensearch-master-1"),
	     created=ago(days=201, hours=4, minutes=51), released=ago(days=88, hours=2), expect="unbound",
	     story="The volume of data-opensearch-master-1. When the opensearch-master StatefulSet was removed 88 days "
	           "ago, the clean-up deleted the claims of ordinals 1 and 2 (and missed -0, see the orphaned PVCs). "
	           "Ordinal 2's volume went with its claim; this one had been patched to reclaim policy Retain, so it "
	           "is Released and its 50Gi disk is still billed."),
	dict(name="pv-payments-audit-restore", phase="Available", reclaim="Retain", size="200Gi", sc=None, claim=None,
	     created=ago(days=61, hours=3, minutes=18), expect="unbound",
	     story="Pre-provisioned by hand from an EBS snapshot for the PCI auditors in September; the claim that was "
	           "to bind it was never created (the auditors got an S3 export instead). Available for 61 days."),
	dict(name="pv-kafka-tiered-migration", phase="Available", reclaim="Retain", size="500Gi", sc=None, claim=None,
	     created=ago(days=2, hours=5, minutes=40), expect="fresh",
	     story="Pre-provisioned 2 days ago for next week's Kafka storage migration: inside the 7-day grace "
	           "period. Not reported."),
]
for upv in UNBOUND_PVS:
	zone = sorted(ZONE_NET)[hint(0, 2, "pvzone", upv["name"])]
	spec = {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": upv["size"]},
	        "csi": {"driver": "ebs.csi.aws.com", "fsType": "ext4", "volumeHandle": "vol-0" + hexs(16, "vol", upv["name"])},
	        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
		        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}},
	        "persistentVolumeReclaimPolicy": upv["reclaim"], "volumeMode": "Filesystem"}
	if upv["sc"]:
		spec["storageClassName"] = upv["sc"]
	else:
		spec["storageClassName"] = ""
	ann = {"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"} if upv["sc"] else {
		"kubernetes.io/description": "restored by hand: see the ticket in the volume's tags"}
	if upv["claim"]:
		spec["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": upv["claim"][1],
		                    "namespace": upv["claim"][0], "resourceVersion": rv("PVC", *upv["claim"]),
		                    "uid": upv["name"][4:]}
	objects["persistentvolumes"].append({
		"apiVersion": "v1", "kind": "PersistentVolume",
		"metadata": meta("PersistentVolume", None, upv["name"], upv["created"], annotations=ann,
		                 finalizers=["kubernetes.io/pv-protection"]),
		"spec": spec,
		"status": {"lastPhaseTransitionTime": ts(upv.get("released") or upv["created"] + dt.timedelta(seconds=2)),
		           "phase": upv["phase"]}})

# A standalone notebook pod (no owner) that mounts a PVC.
nb = dict(ns="ml", name="debug-notebook-dana", kind="Pod", init=[], sa=None,
          containers=[C("notebook", "quay.io/jupyter/scipy-notebook:2024-10-07", "500m", "2Gi", None, "4Gi", 8888,
                        mounts=[("home", "/home/jovyan")], probe=False, use=(60, Mi(900)))],
          volumes=[{"name": "home", "persistentVolumeClaim": {"claimName": "notebook-home-dana"}}])
nb_start = ago(days=3, hours=6, minutes=14)
nb_node = place("debug-notebook-dana", 500, Gi(2), set())
make_pod(nb, "debug-notebook-dana", {"app": "notebook", "owner": "dana"}, None, nb_node, nb_start,
         annotations={"kubernetes.io/description": "scratch notebook, ask dana before deleting"})
for c in nb["containers"]:
	usage_entry("ml", "debug-notebook-dana", c, None, nb_start, NOW, 60, Mi(900))

# A bare demo pod behind a LoadBalancer, crash-looping since its model bucket was cleaned up: the Service's only
# endpoint is not ready (idle-loadbalancer, medium confidence).
GRADIO_LABELS = {"app.kubernetes.io/name": "gradio-demo", "app.kubernetes.io/part-of": "ml"}
gd = dict(ns="ml", name="gradio-demo", kind="Pod", init=[], sa=None,
          containers=[C("gradio", ecr("ml", "gradio-demo", "2026.09.04-allhands"), "250m", "512Mi", None, "1Gi", 7860,
                        probe=True, restarts=2871, env={"MODEL_URI": "s3://acme-ml-scratch/allhands/ranker.onnx"})],
          volumes=[])
gd_start = ago(days=81, hours=5, minutes=22)
gd_node = place("gradio-demo", 250, Mi(512), set())
gd_pod = make_pod(gd, "gradio-demo", GRADIO_LABELS, None, gd_node, gd_start,
                  annotations={"kubernetes.io/description": "all-hands demo 2026-09-04 (ml team)"})
for _st in gd_pod["status"]["containerStatuses"]:
	_last = NOW - dt.timedelta(minutes=3, seconds=12)
	_st.update({"ready": False, "started": False, "lastState": {"terminated": {
		"containerID": _st["containerID"], "exitCode": 1, "finishedAt": ts(_last), "reason": "Error",
		"startedAt": ts(_last - dt.timedelta(seconds=9))}},
		"state": {"waiting": {"message": "back-off 5m0s restarting failed container=gradio pod=gradio-demo_ml(%s)"
		                                 % gd_pod["metadata"]["uid"], "reason": "CrashLoopBackOff"}}})
for _cnd in gd_pod["status"]["conditions"]:
	if _cnd["type"] in ("Ready", "ContainersReady"):
		_cnd.update({"status": "False", "reason": "ContainersNotReady",
		             "message": "containers with unready status: [gradio]", "lastTransitionTime": ts(ago(days=63, hours=2))})
for c in gd["containers"]:
	usage_entry("ml", "gradio-demo", c, None, gd_start, NOW, 40, Mi(180), restarts=c["restarts"])


# --- jobs and cronjobs ---------------------------------------------------------

def job_obj(ns, name, c, start, dur, ttl, owner=None, volumes=(), scheduled=None, tpl_labels=None, restart="Never",
            failed=False, backoff=2):
	job_uid = mkuid("Job", ns, name, "")
	labels = {"batch.kubernetes.io/controller-uid": job_uid, "batch.kubernetes.io/job-name": name,
	          "controller-uid": job_uid, "job-name": name}
	labels = dict(tpl_labels or {}, **labels)
	tpl_spec = {"containers": [container_spec(c)], "dnsPolicy": "ClusterFirst", "restartPolicy": restart,
	            "schedulerName": "default-scheduler", "securityContext": {}, "terminationGracePeriodSeconds": 30}
	if volumes:
		tpl_spec["volumes"] = [dict(v) for v in volumes]
	ann = {"batch.kubernetes.io/cronjob-scheduled-timestamp": ts(scheduled)} if scheduled else None
	spec = {"backoffLimit": backoff, "completionMode": "NonIndexed", "completions": 1, "manualSelector": False,
	        "parallelism": 1, "podReplacementPolicy": "TerminatingOrFailed",
	        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}}, "suspend": False,
	        "template": {"metadata": {"creationTimestamp": None, "labels": dict(labels)}, "spec": tpl_spec}}
	if ttl is not None:
		spec["ttlSecondsAfterFinished"] = ttl
	job = {"apiVersion": "batch/v1", "kind": "Job",
	       "metadata": meta("Job", ns, name, start, labels={"batch.kubernetes.io/controller-uid": job_uid,
	                                                         "batch.kubernetes.io/job-name": name,
	                                                         "controller-uid": job_uid, "job-name": name},
	                        annotations=ann, owner=owner, generation=1),
	       "spec": spec}
	if dur is None:
		job["status"] = {"active": 1, "ready": 1, "startTime": ts(start), "terminating": 0,
		                 "uncountedTerminatedPods": {}}
	elif failed:
		end = start + dt.timedelta(seconds=dur)
		job["status"] = {"conditions": [
			{"lastProbeTime": ts(end), "lastTransitionTime": ts(end), "message": "Job has reached the specified backoff limit",
			 "reason": "BackoffLimitExceeded", "status": "True", "type": "FailureTarget"},
			{"lastProbeTime": ts(end), "lastTransitionTime": ts(end), "message": "Job has reached the specified backoff limit",
			 "reason": "BackoffLimitExceeded", "status": "True", "type": "Failed"}],
			"failed": 1, "ready": 0, "startTime": ts(start), "terminating": 0, "uncountedTerminatedPods": {}}
	else:
		end = start + dt.timedelta(seconds=dur)
		job["status"] = {"completionTime": ts(end), "conditions": [
			{"lastProbeTime": ts(end), "lastTransitionTime": ts(end), "message": "Reached expected number of succeeded pods",
			 "reason": "CompletionsReached", "status": "True", "type": "SuccessCriteriaMet"},
			{"lastProbeTime": ts(end), "lastTransitionTime": ts(end), "message": "Reached expected number of succeeded pods",
			 "reason": "CompletionsReached", "status": "True", "type": "Complete"}],
			"ready": 0, "startTime": ts(start), "succeeded": 1, "terminating": 0, "uncountedTerminatedPods": {}}
	objects["jobs"].append(job)
	pname = "%s-%s" % (name, safe(5, "jobpod", ns, name))
	cpu, mem = pod_requests([c], [])
	node = place(pname, cpu, mem, set()) if dur is None else NODES[hint(0, 5, "jobnode", pname)][0]
	w = dict(ns=ns, name=name, kind="Job", init=[], sa=None, containers=[c], volumes=list(volumes))
	plabels = dict(labels)
	pod = make_pod(w, pname, plabels, ("batch/v1", "Job", name, job_uid), node, start,
	               phase="Running" if dur is None else ("Failed" if failed else "Succeeded"),
	               finished=None if dur is None else start + dt.timedelta(seconds=dur), restart_policy=restart)
	if failed:
		term = pod["status"]["containerStatuses"][0]["state"]["terminated"]
		term["exitCode"], term["reason"] = 1, "Error"
	pcpu = cpu_m(c["cpu"]) * hrange(0.5, 0.9, "jobcpu", pname)
	pmem = mem_b(c["mem"]) * hrange(0.4, 0.8, "jobmem", pname)
	end = NOW if dur is None else start + dt.timedelta(seconds=dur)
	if end > WSTART:  # runs that ended before the window have no usage
		usage_entry(ns, pname, c, ("Job", name), start, end, pcpu, pmem)
	return job


for cj in CRONJOBS:
	ns, name = cj["ns"], cj["name"]
	cj_uid = mkuid("CronJob", ns, name, "")
	jt_spec = {"containers": [container_spec(cj["c"])], "dnsPolicy": "ClusterFirst", "restartPolicy": "OnFailure",
	           "schedulerName": "default-scheduler", "securityContext": {}, "terminationGracePeriodSeconds": 30}
	if cj["volumes"]:
		jt_spec["volumes"] = [dict(v) for v in cj["volumes"]]
	jspec = {"backoffLimit": 2, "template": {"metadata": {"creationTimestamp": None,
	                                                      "labels": {"app.kubernetes.io/name": name}},
	                                         "spec": jt_spec}}
	if cj["ttl"] is not None:
		jspec["ttlSecondsAfterFinished"] = cj["ttl"]
	last = cj["runs"][-1] if cj["runs"] else cj["last"]
	o = {"apiVersion": "batch/v1", "kind": "CronJob",
	     "metadata": meta("CronJob", ns, name, cj["created"] - dt.timedelta(seconds=hint(0, 86399, "cjj", name)), labels={"app.kubernetes.io/name": name}, generation=1),
	     "spec": {"concurrencyPolicy": "Forbid", "failedJobsHistoryLimit": 1,
	              "jobTemplate": {"metadata": {"creationTimestamp": None}, "spec": jspec}, "schedule": cj["schedule"],
	              "successfulJobsHistoryLimit": cj["hist"], "suspend": False, "timeZone": "Etc/UTC"},
	     "status": {"lastScheduleTime": ts(last), "lastSuccessfulTime": ts(last + dt.timedelta(seconds=cj["dur"]))}}
	objects["cronjobs"].append(o)
	for run in cj["runs"]:
		jname = "%s-%d" % (name, int(run.timestamp()) // 60)
		job_obj(ns, jname, cj["c"], run + dt.timedelta(seconds=1), cj["dur"], cj["ttl"],
		        owner=("batch/v1", "CronJob", name, cj_uid), volumes=cj["volumes"], scheduled=run,
		        tpl_labels={"app.kubernetes.io/name": name}, restart="OnFailure")

for j in JOBS:
	job_obj(j["ns"], j["name"], j["c"], j["start"], j["dur"], j["ttl"], failed=j.get("failed", False),
	        backoff=j.get("backoff", 2))

# --- services, endpoint slices, HPA ------------------------------------------


def add_service(ns, name, selector, port, target, headless=False, lb=False, labels=None, udp=False, created=None):
	svc_uid = mkuid("Service", ns, name, "")
	cip = "None" if headless else "172.20.%d.%d" % (hint(1, 254, "cip3", ns, name), hint(1, 254, "cip4", ns, name))
	ports = [{"name": "dns" if udp else ("http" if port != 443 else "https"), "port": port,
	          "protocol": "UDP" if udp else "TCP", "targetPort": target}]
	if udp:
		ports.append({"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53})
	spec = {"clusterIP": cip, "clusterIPs": [cip], "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
	        "ipFamilyPolicy": "SingleStack", "ports": ports, "sessionAffinity": "None", "type": "ClusterIP"}
	if selector is not None:
		spec["selector"] = dict(selector)
	status = {"loadBalancer": {}}
	ann = None
	if lb:
		spec["type"] = "LoadBalancer"
		spec["allocateLoadBalancerNodePorts"] = True
		spec["externalTrafficPolicy"] = "Cluster"
		for p in ports:
			p["nodePort"] = hint(30000, 32767, "np", ns, name)
		host = "k8s-%s-%s-%s.elb.%s.amazonaws.com" % (ns, name, hexs(10, "nlb", ns, name), REGION)
		status = {"loadBalancer": {"ingress": [{"hostname": host}]}}
		ann = {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
		       "service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
	svc = {"apiVersion": "v1", "kind": "Service",
	       "metadata": meta("Service", ns, name, (created or ago(days=300)) + dt.timedelta(seconds=hint(5, 900, "svcj", ns, name)),
	                        labels=labels, annotations=ann),
	       "spec": spec, "status": status}
	objects["services"].append(svc)
	# endpoint slice
	eps = []
	for pns, plabels, pod in pods_by_label:
		if selector is None or pns != ns or pod["status"]["phase"] != "Running":
			continue
		if all(plabels.get(k) == v for k, v in selector.items()):
			pready = all(cs["ready"] for cs in pod["status"]["containerStatuses"])
			ep = {"addresses": [pod["status"]["podIP"]], "conditions": {"ready": pready, "serving": pready,
			                                                             "terminating": False},
			      "nodeName": pod["spec"]["nodeName"],
			      "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": ns,
			                    "uid": pod["metadata"]["uid"]},
			      "zone": [n[1] for n in NODES if fqdn(n[0]) == pod["spec"]["nodeName"]][0]}
			if headless:
				ep["hostname"] = pod["metadata"]["name"]
			eps.append(ep)
	if selector is None:  # default/kubernetes: the API server endpoints
		eps = [{"addresses": ["10.0.%d.%d" % (hint(32, 127, "api3", i), hint(2, 254, "api4", i))],
		        "conditions": {"ready": True}} for i in range(2)]
	eps.sort(key=lambda e: e.get("targetRef", {}).get("name", e["addresses"][0]))
	slabels = {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
	           "kubernetes.io/service-name": name}
	if headless:
		slabels["service.kubernetes.io/headless"] = ""
	if selector is None:
		slabels = {"kubernetes.io/service-name": name}
	slice_name = name if selector is None else "%s-%s" % (name, safe(5, "eps", ns, name))
	es = {"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "endpoints": eps or None,
	      "kind": "EndpointSlice",
	      "metadata": meta("EndpointSlice", ns, slice_name, max(ago(days=hint(1, 40, "esage", ns, name),
	                                                                 seconds=hint(0, 86399, "esj", ns, name)),
	                                                             parse_ts(svc["metadata"]["creationTimestamp"])),
	                       labels=slabels,
	                       annotations={"endpoints.kubernetes.io/last-change-trigger-time": ts(
		                       ago(hours=hint(1, 90, "eslc", ns, name)))} if selector is not None else None,
	                       owner=None if selector is None else ("v1", "Service", name, svc_uid),
	                       generate_name=None if selector is None else name + "-", generation=hint(1, 30, "esg", name)),
	      "ports": [{"name": p["name"], "port": (target if isinstance(target, int) else port) if p["name"] != "dns-tcp"
	                 else 53, "protocol": p["protocol"]} for p in ports]}
	objects["endpointslices"].append(es)


for w in WORKLOADS:
	if not w["svc"]:
		continue
	port, target = w["svc"]
	sel = app_labels(w)
	if w["name"] == "coredns":
		add_service("kube-system", "kube-dns", sel, 53, 53, labels={"k8s-app": "kube-dns",
		            "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}, udp=True,
		            created=w["created"])
		continue
	headless = w["kind"] == "StatefulSet"
	sname = {"prometheus-k8s": "prometheus-operated", "alertmanager-main": "alertmanager-operated"}.get(w["name"], w["name"])
	add_service(w["ns"], sname, sel, port, target, headless=headless, labels=app_labels(w), created=w["created"])
	if w["ns"] == "web" and w["name"] == "storefront":
		add_service("web", "storefront-public", sel, 443, target, lb=True, labels=app_labels(w), created=w["created"])
# LoadBalancers of the idle-loadbalancer rule: an app that was deleted, a crash-looping demo, and a new one
LB_CASES = [
	dict(ns="web", name="promo-landing-public", sel={"app.kubernetes.io/name": "promo-landing",
	                                                 "app.kubernetes.io/part-of": "web"},
	     port=443, target=8080, created=ago(days=161, hours=7), expect="idle",
	     story="The summer-sale landing page's NLB. The promo-landing Deployment was deleted when the campaign "
	           "ended (2026-09-01); the Service was not, so its selector matches nothing, its EndpointSlice is "
	           "empty, and the load balancer is still billed."),
	dict(ns="ml", name="gradio-demo", sel=GRADIO_LABELS, port=80, target=7860, created=ago(days=81, hours=5, minutes=24),
	     expect="idle",
	     story="NLB of the all-hands demo pod (a bare Pod, no workload). The pod has been crash-looping since its "
	           "model bucket was cleaned up: 1 endpoint, not ready. Reported with medium confidence."),
	dict(ns="search", name="partner-search-public", sel={"app.kubernetes.io/name": "partner-search-api",
	                                                     "app.kubernetes.io/part-of": "search"},
	     port=443, target=8080, created=ago(hours=6, minutes=10), expect="fresh",
	     story="Created 6 hours ago for a partner integration whose Deployment ships tomorrow: no endpoints yet, "
	           "but inside the 24-hour grace period. Not reported."),
]
for lbc in LB_CASES:
	add_service(lbc["ns"], lbc["name"], lbc["sel"], lbc["port"], lbc["target"], lb=True, labels=lbc["sel"],
	            created=lbc["created"] - dt.timedelta(seconds=900))
add_service("default", "kubernetes", None, 443, 443, labels={"component": "apiserver", "provider": "kubernetes"},
            created=ago(days=1102))

for w in WORKLOADS:
	if not w["hpa"]:
		continue
	h = w["hpa"]
	obj = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
	       "metadata": meta("HorizontalPodAutoscaler", w["ns"], w["name"], w["created"] + dt.timedelta(days=3),
	                        labels=app_labels(w)),
	       "spec": {"maxReplicas": h["max"], "metrics": [{"resource": {"name": "cpu", "target": {
		       "averageUtilization": h["cpu"], "type": "Utilization"}}, "type": "Resource"}],
	                "minReplicas": h["min"],
	                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": w["name"]}},
	       "status": {"conditions": [
		       {"lastTransitionTime": ts(ago(days=40)), "message": "recommended size matches current size",
		        "reason": "ReadyForNewScale", "status": "True", "type": "AbleToScale"},
		       {"lastTransitionTime": ts(ago(days=4, hours=7)),
		        "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization "
		                   "(percentage of request)", "reason": "ValidMetricFound", "status": "True",
		        "type": "ScalingActive"},
		       {"lastTransitionTime": ts(ago(days=4, hours=7)), "message": "the desired replica count is less than "
		        "the minimum replica count", "reason": "TooFewReplicas", "status": "True", "type": "ScalingLimited"}],
		       "currentMetrics": [{"resource": {"current": {"averageUtilization": 14, "averageValue": "71m"},
		                                        "name": "cpu"}, "type": "Resource"}],
		       "currentReplicas": h["current"], "desiredReplicas": h["current"],
		       "lastScaleTime": ts(ago(days=4, hours=7, minutes=10))}}
	objects["horizontalpodautoscalers"].append(obj)

# ---------------------------------------------------------------------------
# write the snapshot


def sort_key(o):
	m = o["metadata"]
	return (m.get("namespace", ""), m["name"])


def write_json(path, data, indent=4):
	text = json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False) + "\n"
	tmp = path + ".tmp"
	with open(tmp, "w", encoding="utf-8") as f:
		f.write(text)
	os.replace(tmp, path)
	return len(text)


os.makedirs(OBJDIR, exist_ok=True)
total_bytes = 0
for res, items in objects.items():
	items.sort(key=sort_key)
	names = [sort_key(o) for o in items]
	assert len(names) == len(set(names)), "duplicate %s" % res
	total_bytes += write_json(os.path.join(OBJDIR, res + ".json"),
	                          {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})

usage.sort(key=lambda e: (e["namespace"], e["pod"], e["container"]))
usage_doc = {
	"schema": "kopilot.usage/v1",
	"window": {"start": ts(WSTART), "end": ts(NOW), "step_seconds": STEP, "source": "prometheus"},
	# where the gap is (namespace, workload), so a run scoped to other
	# namespaces is not degraded by it (docs/contracts/USAGE.md)
	"missing": [{"resource": "metrics", "namespace": "analytics",
	             "workload": {"kind": "Deployment", "name": "legacy-geoip"},
	             "reason": "its pods' cAdvisor series are dropped by a metric_relabel_configs rule"}],
	"containers": usage,
}
total_bytes += write_json(os.path.join(HERE, "usage.json"), usage_doc, indent=2)

# ---------------------------------------------------------------------------
# 4. the rules, implemented independently on the files as written


def load(res):
	with open(os.path.join(OBJDIR, res + ".json"), encoding="utf-8") as f:
		doc = json.load(f)
	assert doc["kind"] == "List" and doc["apiVersion"] == "v1" and doc["metadata"] == {"resourceVersion": ""}
	return doc["items"]


def controller_of(o):
	for r in o["metadata"].get("ownerReferences", []):
		if r.get("controller"):
			return r["kind"], r["name"]
	return None


def monthly(cpu_diff_m, mem_diff_b, replicas):
	return (cpu_diff_m / 1000 * CPU_CORE_HOUR + mem_diff_b / 2**30 * MEM_GIB_HOUR) * HOURS * replicas


def analyze(usage_entries):
	"""Applies the idle-workload, rightsizing and orphaned-PVC rules (the ones that read usage).
	Returns (findings, skipped, details, pvc_details, idle_details)."""
	pods = load("pods")
	rs_owner = {}
	for rs in load("replicasets"):
		ow = controller_of(rs)
		if ow and ow[0] == "Deployment":
			rs_owner[(rs["metadata"]["namespace"], rs["metadata"]["name"])] = ow[1]
	wls = {}
	for res, kind in (("deployments", "Deployment"), ("statefulsets", "StatefulSet"), ("daemonsets", "DaemonSet"),
	                  ("cronjobs", "CronJob"), ("jobs", "Job")):
		for o in load(res):
			wls[(kind, o["metadata"]["namespace"], o["metadata"]["name"])] = o
	job_owner = {}
	for (kind, ns, name), o in wls.items():
		if kind == "Job":
			ow = controller_of(o)
			job_owner[(ns, name)] = ow[1] if ow and ow[0] == "CronJob" else None

	def workload_of(ns, kind, name):
		if kind == "ReplicaSet":
			dep = rs_owner.get((ns, name))
			if dep is None:  # ReplicaSet gone: <deployment>-<pod-template-hash>
				cand = name.rsplit("-", 1)[0]
				dep = cand if ("Deployment", ns, cand) in wls else None
			return ("Deployment", ns, dep) if dep else None
		if kind in ("StatefulSet", "DaemonSet"):
			return (kind, ns, name) if (kind, ns, name) in wls else None
		if kind == "Job" and (ns, name) in job_owner:  # a CronJob's runs are judged together
			cj = job_owner[(ns, name)]
			return ("CronJob", ns, cj) if cj else ("Job", ns, name)
		return None

	live = {}
	pods_of = {}
	for p in pods:
		ns, name = p["metadata"]["namespace"], p["metadata"]["name"]
		ow = controller_of(p)
		wk = workload_of(ns, *ow) if ow else None
		live[(ns, name)] = wk
		if wk:
			pods_of.setdefault(wk, []).append(name)
	per_wl = {}
	for e in usage_entries:
		key = (e["namespace"], e["pod"])
		if key in live:
			wk = live[key]
		elif "owner" in e:
			wk = workload_of(e["namespace"], e["owner"]["kind"], e["owner"]["name"])
		else:
			wk = None
		if wk:
			per_wl.setdefault(wk, []).append(e)

	hpa_cur = {}
	hpa_on = set()
	for h in load("horizontalpodautoscalers"):
		ref = h["spec"]["scaleTargetRef"]
		hk = (ref["kind"], h["metadata"]["namespace"], ref["name"])
		hpa_cur[hk] = h.get("status", {}).get("currentReplicas", 0)
		if any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu" for m in h["spec"].get("metrics", [])):
			hpa_on.add(hk)

	def tspec_of(kind, o):
		return o["spec"]["jobTemplate"]["spec"]["template"]["spec"] if kind == "CronJob" else o["spec"]["template"]["spec"]

	def replicas_of(wk, o):
		if wk[0] == "DaemonSet":
			return o["status"]["desiredNumberScheduled"]
		if hpa_cur.get(wk, 0) > 0:
			return hpa_cur[wk]
		return o["spec"].get("replicas", 1)

	findings, skipped, details, idle_details = [], [], {}, {}

	def skip(wk, reason):
		skipped.append({"namespace": wk[1], "kind": wk[0], "name": wk[2], "reason": reason})

	# idle-workload (runs first: an idle workload is not also rightsized)
	flagged_idle = set()
	for wk in sorted(wls):
		kind, ns, name = wk
		o = wls[wk]
		if kind not in ("Deployment", "StatefulSet", "DaemonSet") or replicas_of(wk, o) <= 0 or not per_wl.get(wk):
			continue
		es = per_wl[wk]
		first = min(parse_ts(e["first_seen"]) for e in es)
		last = max(parse_ts(e["last_seen"]) for e in es)
		x = idle_details[wk] = dict(
			cpu_p95=max(e["cpu_millicores"]["p95"] for e in es), cpu_max=max(e["cpu_millicores"]["max"] for e in es),
			variation=max(e["memory_bytes"]["max"] for e in es) - min(e["memory_bytes"]["p50"] for e in es),
			restarts=sum(e.get("restarts", 0) + e.get("oom_kills", 0) for e in es),
			history_d=((last - first).total_seconds() + (STEP if last > first else 0)) / 86400,
			age_d=(NOW - parse_ts(o["metadata"]["creationTimestamp"])).total_seconds() / 86400)
		x["looks_idle"] = (x["cpu_p95"] <= IDLE_CPU_M and x["cpu_max"] <= IDLE_CPU_MAX_M and
		                   x["variation"] <= IDLE_MEM_VAR_B and x["restarts"] == 0)
		reps = replicas_of(wk, o)
		cpu_r = mem_r = 0
		for c in tspec_of(kind, o)["containers"] + [c for c in tspec_of(kind, o).get("initContainers", [])
		                                            if c.get("restartPolicy") == "Always"]:
			req = c.get("resources", {}).get("requests", {})
			cpu_r += cpu_m(req.get("cpu")) or 0
			mem_r += mem_b(req.get("memory")) or 0
		x["cost"] = monthly(cpu_r, mem_r, reps)
		x["verdict"] = None
		if not x["looks_idle"]:
			continue
		if x["history_d"] < IDLE_MIN_DAYS:
			skip(wk, "idle-workload: only %.1f days of history" % x["history_d"])
			x["verdict"] = "skipped: looks idle, %.1f days of history" % x["history_d"]
			continue
		if x["age_d"] < IDLE_MIN_DAYS:
			skip(wk, "idle-workload: created %.1f days ago" % x["age_d"])
			x["verdict"] = "skipped: looks idle, %.1f days old" % x["age_d"]
			continue
		if x["cost"] < MIN_SAVINGS:
			x["verdict"] = "looks idle but reserves $%.2f/month (< $1): not reported" % x["cost"]
			continue
		x["verdict"] = "idle"
		flagged_idle.add(wk)
		findings.append({"category": "idle-workload", "namespace": ns, "kind": kind, "name": name, "container": None,
		                 "blocked": False})

	# rightsizing
	wstart, wend = parse_ts(usage_read_window[0]), parse_ts(usage_read_window[1])
	for wk in sorted(wls):
		kind, ns, name = wk
		o = wls[wk]
		batch = kind in ("CronJob", "Job")
		if kind == "Job" and job_owner.get((ns, name)):
			continue  # judged through its CronJob
		entries = per_wl.get(wk, [])
		d = details[wk] = {"containers": {}, "hpa": wk in hpa_on}
		reps = replicas_of(wk, o)
		if (reps == 0 and not batch) or wk in flagged_idle:
			d["verdict"] = "idle" if wk in flagged_idle else "no pods and no usage in the window"
			continue
		if not entries:
			if batch:
				d["verdict"] = "no run in the window"
			else:
				skip(wk, "not measured")
				d["verdict"] = "skipped: not measured"
			continue
		first = min(parse_ts(e["first_seen"]) for e in entries)
		last = max(parse_ts(e["last_seen"]) for e in entries)
		d["history_h"] = (last - first).total_seconds() / 3600
		d["verdict"] = "judged"
		tspec = tspec_of(kind, o)
		for c in tspec.get("initContainers", []) + tspec["containers"]:
			init = c in tspec.get("initContainers", []) and c.get("restartPolicy") != "Always"
			ce = [e for e in entries if e["container"] == c["name"]]
			if not ce:
				if not init:
					skip(wk, "container %s: no usage" % c["name"])
				continue
			cfirst = min(parse_ts(e["first_seen"]) for e in ce)
			clast = max(parse_ts(e["last_seen"]) for e in ce)
			if batch or init:
				if len(ce) < MIN_BATCH_RUNS:
					skip(wk, "container %s: only %d runs" % (c["name"], len(ce)))
					d.setdefault("skipped", []).append("%s: %d run%s (< %d)" % (c["name"], len(ce), "" if len(ce) == 1 else "s", MIN_BATCH_RUNS))
					continue
			elif (clast - cfirst).total_seconds() / 3600 < MIN_HISTORY_H:
				skip(wk, "container %s: short history" % c["name"])
				d.setdefault("skipped", []).append("%s: short history" % c["name"])
				continue
			req = c.get("resources", {}).get("requests", {})
			rc, rm = cpu_m(req.get("cpu")), mem_b(req.get("memory"))
			if rc is None and rm is None:
				skip(wk, "container %s: no requests" % c["name"])
				d.setdefault("skipped", []).append("%s: no requests" % c["name"])
				continue
			cpu_ref = max(e["cpu_millicores"]["p95"] for e in ce)
			mem_peak = max(e["memory_bytes"]["max"] for e in ce)
			ooms = sum(e.get("oom_kills", 0) for e in ce)
			tc = math.ceil(max(cpu_ref * (1 + CPU_MARGIN), CPU_FLOOR_M) / 5 - 1e-9) * 5
			tm = math.ceil(max(mem_peak * (1 + MEM_MARGIN), MEM_FLOOR_B) / 2**20 - 1e-9) * 2**20
			if ooms:
				at = max(e.get("memory_limit_at_oom_bytes", 0) for e in ce) or mem_peak
				tm = max(tm, math.ceil(max(at * 1.2, mem_peak + 100 * 2**20) / 2**20 - 1e-9) * 2**20)
			cd = (rc - tc) if rc is not None else None
			md = (rm - tm) if rm is not None else None
			mem_under = ooms > 0 or (rm is not None and mem_peak > rm)
			cpu_under = rc is not None and cpu_ref > rc and tc - rc >= MIN_CPU_M
			cq = not cpu_under and cd is not None and cd >= MIN_CPU_M and cd >= MIN_REL * rc
			mq = not mem_under and md is not None and md >= MIN_MEM_B and md >= MIN_REL * rm
			under = mem_under or cpu_under
			if batch:
				busy = sum((parse_ts(e["last_seen"]) - parse_ts(e["first_seen"])).total_seconds() for e in ce)
				replicas = round(busy / (wend - wstart).total_seconds() * 10000) / 10000
			else:
				replicas = reps
			dcq, dmq = (cd if cq else 0), (md if mq else 0)
			if init:  # only the part above the other containers' requests costs anything
				oc = sum(cpu_m(x.get("resources", {}).get("requests", {}).get("cpu")) or 0 for x in tspec["containers"])
				om = sum(mem_b(x.get("resources", {}).get("requests", {}).get("memory")) or 0 for x in tspec["containers"])
				dcq = max(rc or 0, oc) - max((rc or 0) - dcq, oc)
				dmq = max(rm or 0, om) - max((rm or 0) - dmq, om)
			sav_pos = monthly(max(cd or 0, 0), max(md or 0, 0), replicas)
			sav_signed = monthly(cd or 0, md or 0, replicas)
			sav_qual = monthly(dcq, dmq, replicas)
			over = not under and (cq or mq) and sav_qual >= MIN_SAVINGS
			cd_ = d["containers"][c["name"]] = dict(
				init=init, batch=batch, req_cpu=rc, req_mem=rm, cpu_ref=cpu_ref, mem_peak=mem_peak,
				ooms=ooms, target_cpu=tc, target_mem=tm, cpu_diff=cd, mem_diff=md, cpu_qual=cq, mem_qual=mq,
				savings=sav_pos, savings_signed=sav_signed, savings_qual=sav_qual, replicas=replicas, under=under,
				over=over, throttled=max((e.get("cpu_throttled_ratio", 0) for e in ce), default=0))
			assert not (under and over), (wk, c["name"], cd_)
			if over or under:
				findings.append({"category": "over-provisioned" if over else "under-provisioned", "namespace": ns,
				                 "kind": kind, "name": name, "container": c["name"], "blocked": False})
	# orphaned PVCs
	mounted = set()
	for p in pods:
		for v in p["spec"].get("volumes", []):
			if "persistentVolumeClaim" in v:
				mounted.add((p["metadata"]["namespace"], v["persistentVolumeClaim"]["claimName"]))
	templ = set()

	def scan(ns, pspec):
		for v in pspec.get("volumes", []) or []:
			if "persistentVolumeClaim" in v:
				templ.add((ns, v["persistentVolumeClaim"]["claimName"]))

	for res in ("deployments", "replicasets", "statefulsets", "daemonsets", "jobs"):
		for o in load(res):
			scan(o["metadata"]["namespace"], o["spec"]["template"]["spec"])
	for o in load("cronjobs"):
		scan(o["metadata"]["namespace"], o["spec"]["jobTemplate"]["spec"]["template"]["spec"])
	sts_patterns = []
	for o in load("statefulsets"):
		for t in o["spec"].get("volumeClaimTemplates", []):
			sts_patterns.append((o["metadata"]["namespace"],
			                     re.compile(re.escape(t["metadata"]["name"] + "-" + o["metadata"]["name"]) + r"-[0-9]+")))
	pvc_details = {}
	for pvc in load("persistentvolumeclaims"):
		ns, name = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
		age_d = (NOW - parse_ts(pvc["metadata"]["creationTimestamp"])).total_seconds() / 86400
		why = None
		if (ns, name) in mounted:
			why = "mounted by a pod"
		elif (ns, name) in templ:
			why = "referenced by a workload template"
		elif any(pns == ns and rx.fullmatch(name) for pns, rx in sts_patterns):
			why = "matches a StatefulSet claim template"
		elif age_d <= PVC_GRACE_DAYS:
			why = "younger than the %d-day grace period (%.1f days)" % (PVC_GRACE_DAYS, age_d)
		pvc_details[(ns, name)] = dict(age_d=age_d, why=why)
		if why is None:
			findings.append({"category": "orphaned-pvc", "namespace": ns, "kind": "PersistentVolumeClaim",
			                 "name": name, "container": None, "blocked": ns in PROTECTED})
	findings.sort(key=lambda f: (f["category"], f["namespace"] or "", f["kind"], f["name"], f["container"] or ""))
	return findings, skipped, details, pvc_details, idle_details


def age_days(o):
	return (NOW - parse_ts(o["metadata"]["creationTimestamp"])).total_seconds() / 86400


def analyze_objects():
	"""The rules that read only the API objects: zero-replica-workload, unbound-pv, idle-loadbalancer,
	finished-job, underutilized-node. Returns (findings, skipped, details by rule)."""
	out, skipped, det = [], [], {"zero": {}, "pv": {}, "lb": {}, "job": {}, "node": {}}

	def add(cat, ns, kind, name):
		out.append({"category": cat, "namespace": ns, "kind": kind, "name": name, "container": None,
		            "blocked": False})

	pvcs = {(v["metadata"]["namespace"], v["metadata"]["name"]): v for v in load("persistentvolumeclaims")}
	svcs = load("services")
	# zero-replica-workload
	for res, kind in (("deployments", "Deployment"), ("statefulsets", "StatefulSet")):
		for o in load(res):
			if o["spec"].get("replicas", 1) != 0:
				continue
			ns, name = o["metadata"]["namespace"], o["metadata"]["name"]
			held = set()
			for t in o["spec"].get("volumeClaimTemplates", []):
				pre = "%s-%s-" % (t["metadata"]["name"], name)
				held |= {k for k, v in pvcs.items() if k[0] == ns and k[1].startswith(pre) and k[1][len(pre):].isdigit()
				         and v["status"].get("phase", "Bound") == "Bound"}
			for v in o["spec"]["template"]["spec"].get("volumes", []):
				k = (ns, v.get("persistentVolumeClaim", {}).get("claimName"))
				if k in pvcs and pvcs[k]["status"].get("phase", "Bound") == "Bound":
					held.add(k)
			tl = o["spec"]["template"]["metadata"].get("labels", {})
			lbs = [x["metadata"]["name"] for x in svcs if x["metadata"]["namespace"] == ns and
			       x["spec"].get("type") == "LoadBalancer" and x["spec"].get("selector") and
			       all(tl.get(a) == b for a, b in x["spec"]["selector"].items())]
			a = age_days(o)
			x = det["zero"][(kind, ns, name)] = dict(held=sorted(h[1] for h in held), lbs=lbs, age_d=a)
			if a <= ZERO_GRACE_DAYS:
				x["why"] = "scaled to 0, created %.1f days ago: inside the %d-day grace period" % (a, ZERO_GRACE_DAYS)
			elif not held and not lbs:
				x["why"] = "scaled to 0 and holds no claim and no load balancer: parked at no cost"
			else:
				x["why"] = None
				add("zero-replica-workload", ns, kind, name)
	# unbound-pv
	for v in load("persistentvolumes"):
		ph, a = v["status"].get("phase"), age_days(v)
		x = det["pv"][v["metadata"]["name"]] = dict(phase=ph, age_d=a, reclaim=v["spec"].get("persistentVolumeReclaimPolicy"))
		if ph not in ("Released", "Available", "Failed"):
			x["why"] = "phase %s" % ph
		elif a < UNBOUND_PV_GRACE_DAYS:
			x["why"] = "%s, created %.1f days ago: inside the %d-day grace period" % (ph, a, UNBOUND_PV_GRACE_DAYS)
		else:
			x["why"] = None
			add("unbound-pv", None, "PersistentVolume", v["metadata"]["name"])
	# idle-loadbalancer
	slices = {}
	for e in load("endpointslices"):
		sn = e["metadata"].get("labels", {}).get("kubernetes.io/service-name")
		if sn is None:
			continue
		t = slices.setdefault((e["metadata"]["namespace"], sn), [0, 0, 0])
		t[0] += 1
		for ep in e.get("endpoints") or []:
			t[1] += 1
			t[2] += 1 if ep.get("conditions", {}).get("ready", True) is not False else 0
	for v in svcs:
		if v["spec"].get("type") != "LoadBalancer":
			continue
		ns, name = v["metadata"]["namespace"], v["metadata"]["name"]
		nsl, neps, ready = slices.get((ns, name), [0, 0, 0])
		h = age_days(v) * 24
		x = det["lb"][(ns, name)] = dict(age_h=h, slices=nsl, endpoints=neps, ready=ready)
		if h < LB_GRACE_HOURS:
			x["why"] = "created %.1f hours ago: inside the %d-hour grace period" % (h, LB_GRACE_HOURS)
		elif ready:
			x["why"] = "%d ready endpoint%s" % (ready, "" if ready == 1 else "s")
		elif not v["spec"].get("selector") and nsl == 0:
			x["why"] = "no selector and no EndpointSlice"
			skipped.append({"namespace": ns, "kind": "Service", "name": name, "reason": x["why"]})
		else:
			x["why"] = None
			add("idle-loadbalancer", ns, "Service", name)
	# finished-job
	for j in load("jobs"):
		ns, name = j["metadata"]["namespace"], j["metadata"]["name"]
		ow = controller_of(j)
		st = j.get("status", {})
		done = {c["type"]: c for c in st.get("conditions", []) if c["status"] == "True" and c["type"] in ("Complete", "Failed")}
		t = None
		if "Complete" in done:
			t = parse_ts(st.get("completionTime") or done["Complete"]["lastTransitionTime"])
		elif "Failed" in done:
			t = parse_ts(done["Failed"]["lastTransitionTime"])
		x = det["job"][(ns, name)] = dict(finished_d=(NOW - t).total_seconds() / 86400 if t else None)
		if ow and ow[0] == "CronJob":
			x["why"] = "owned by CronJob %s (its history limits prune it)" % ow[1]
		elif t is None or st.get("active", 0) > 0 or j["spec"].get("suspend"):
			x["why"] = "running"
		elif "ttlSecondsAfterFinished" in j["spec"]:
			x["why"] = "ttlSecondsAfterFinished %d: the TTL controller deletes it" % j["spec"]["ttlSecondsAfterFinished"]
		elif x["finished_d"] <= FINISHED_JOB_GRACE_DAYS:
			x["why"] = "finished %.1f days ago: inside the %d-day grace period" % (x["finished_d"], FINISHED_JOB_GRACE_DAYS)
		else:
			x["why"] = None
			add("finished-job", ns, "Job", name)
	# underutilized-node: requests of bound, active pods; first-fit-decreasing drain simulation
	nodes = sorted(load("nodes"), key=lambda n: n["metadata"]["name"])
	alloc = {n["metadata"]["name"]: (cpu_m(n["status"]["allocatable"]["cpu"]), mem_b(n["status"]["allocatable"]["memory"]))
	         for n in nodes}
	req = {n: [0, 0] for n in alloc}
	on = {n: [] for n in alloc}

	def pod_req(ps):
		run_c = sum(cpu_m(c.get("resources", {}).get("requests", {}).get("cpu")) or 0 for c in ps["containers"])
		run_m = sum(mem_b(c.get("resources", {}).get("requests", {}).get("memory")) or 0 for c in ps["containers"])
		side_c = side_m = ic = im = 0
		for c in ps.get("initContainers", []):
			r = c.get("resources", {}).get("requests", {})
			cc, cm = cpu_m(r.get("cpu")) or 0, mem_b(r.get("memory")) or 0
			if c.get("restartPolicy") == "Always":
				side_c, side_m = side_c + cc, side_m + cm
			else:
				ic, im = max(ic, cc + side_c), max(im, cm + side_m)
		return max(run_c + side_c, ic), max(run_m + side_m, im)

	for p in load("pods"):
		nn = p["spec"].get("nodeName")
		if nn not in alloc or p["status"].get("phase") in ("Succeeded", "Failed"):
			continue
		pc, pm = pod_req(p["spec"])
		req[nn][0] += pc
		req[nn][1] += pm
		on[nn].append((p, pc, pm))

	def ready(n):
		return any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))

	usable = {n["metadata"]["name"] for n in nodes if ready(n) and not n["spec"].get("unschedulable")}
	free = {n: [alloc[n][0] - req[n][0], alloc[n][1] - req[n][1]] for n in alloc}
	labels = {n["metadata"]["name"]: n["metadata"].get("labels", {}) for n in nodes}
	taints = {n["metadata"]["name"]: [t for t in n["spec"].get("taints", []) if t.get("effect") in ("NoSchedule", "NoExecute")]
	          for n in nodes}
	cands = []
	for n in nodes:
		nm = n["metadata"]["name"]
		cr, mr = req[nm][0] / alloc[nm][0], req[nm][1] / alloc[nm][1]
		cp = any(k.startswith("node-role.kubernetes.io/") and k.split("/")[1] in ("control-plane", "master")
		         for k in labels[nm])
		det["node"][nm] = dict(cpu_ratio=cr, mem_ratio=mr, why=None)
		if nm not in usable or cp:
			det["node"][nm]["why"] = "control plane or not schedulable"
		elif cr < NODE_MAX_RATIO and mr < NODE_MAX_RATIO:
			cands.append(nm)
		else:
			det["node"][nm]["why"] = "requested CPU %.0f%% / memory %.0f%%: not below 50%%" % (cr * 100, mr * 100)
	cands.sort(key=lambda nm: (max(det["node"][nm]["cpu_ratio"], det["node"][nm]["mem_ratio"]), nm))
	avg_c = sum(a[0] for a in alloc.values()) / len(alloc)
	avg_m = sum(a[1] for a in alloc.values()) / len(alloc)

	def tolerated(ps, t):
		for tol in ps.get("tolerations", []):
			if tol.get("effect") and tol["effect"] != t.get("effect"):
				continue
			if tol.get("key") and tol["key"] != t.get("key"):
				continue
			if tol.get("operator") == "Exists" or (tol.get("operator", "Equal") == "Equal" and tol.get("value", "") == t.get("value", "")):
				return True
		return False

	removed, received = set(), set()
	for nm in cands:
		if nm in received:
			det["node"][nm]["why"] = "received pods from a removed node"
			continue
		if len(usable) - len(removed) <= max(1, NODE_MIN_NODES):
			det["node"][nm]["why"] = "the last node"
			break
		moving = []
		pinned = False
		for p, pc, pm in on[nm]:
			ow = controller_of(p)
			if ow and ow[0] in ("DaemonSet", "Node"):
				continue
			if p["spec"].get("affinity", {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution"):
				pinned = True
				break
			moving.append((-(pc / avg_c + pm / avg_m), p["metadata"]["namespace"], p["metadata"]["name"], p, pc, pm))
		if pinned:
			det["node"][nm]["why"] = "a pod with required node affinity"
			continue
		moving.sort(key=lambda t: t[:3])
		plan = []
		for _, pns, pname, p, pc, pm in moving:
			tgt = None
			for t in alloc:  # name order
				if t == nm or t not in usable or t in removed:
					continue
				if (pc > 0 and pc > free[t][0]) or (pm > 0 and pm > free[t][1]):
					continue
				if any(labels[t].get(k) != v for k, v in p["spec"].get("nodeSelector", {}).items()):
					continue
				if not all(tolerated(p["spec"], tn) for tn in taints[t]):
					continue
				tgt = t
				break
			if tgt is None:
				break
			plan.append((pns, pname, tgt, pc, pm))
			free[tgt][0] -= pc
			free[tgt][1] -= pm
		if len(plan) < len(moving):
			for _, _, t, pc, pm in plan:
				free[t][0] += pc
				free[t][1] += pm
			det["node"][nm]["why"] = "its pods do not fit on the other nodes"
			continue
		removed.add(nm)
		received |= {t for _, _, t, _, _ in plan}
		det["node"][nm]["moves"] = plan
		add("underutilized-node", None, "Node", nm)
	return out, skipped, det


with open(os.path.join(HERE, "usage.json"), encoding="utf-8") as f:
	usage_read = json.load(f)
usage_read_window = (usage_read["window"]["start"], usage_read["window"]["end"])
findings, skipped, details, pvc_details, idle_details = analyze(usage_read["containers"])
_of, _os, rule_details = analyze_objects()
findings = sorted(findings + _of, key=lambda f: (f["category"], f["namespace"] or "", f["kind"], f["name"], f["container"] or ""))
skipped = skipped + _os

# --- assertions: every planted case lands where its story says -------------------

errors = []


def check(cond, msg):
	if not cond:
		errors.append(msg)


def far(value, threshold, rel=MARGIN):
	"""value is not within rel of threshold."""
	return value <= threshold * (1 - rel) or value >= threshold * (1 + rel)


fset = {(f["category"], f["namespace"], f["kind"], f["name"], f["container"]) for f in findings}
skipset = {(s["namespace"], s["kind"], s["name"]) for s in skipped}
for w in WORKLOADS:
	wk = (w["kind"], w["ns"], w["name"])
	label = "%s %s/%s" % wk
	got_over = {f[4] for f in fset if f[0] == "over-provisioned" and f[1:4] == (w["ns"], w["kind"], w["name"])}
	got_under = {f[4] for f in fset if f[0] == "under-provisioned" and f[1:4] == (w["ns"], w["kind"], w["name"])}
	exp = w["expect"]
	check(got_over == (w["over"] if exp == "over" else set()), "%s: over-provisioned %s, story says %s" % (
		label, sorted(got_over), sorted(w["over"])))
	check(got_under == (w["under"] if exp == "under" else set()), "%s: under-provisioned %s, story says %s" % (
		label, sorted(got_under), sorted(w["under"])))
	whole = {(x["namespace"], x["kind"], x["name"]) for x in skipped
	         if re.search(r"short history|not measured|idle-workload", x["reason"])}
	check((w["ns"], w["kind"], w["name"]) in whole if exp in ("short", "nousage", "idle-young") else
	      (w["ns"], w["kind"], w["name"]) not in whole, "%s: skipped mismatch (%s)" % (label, exp))
	if exp in ("idle", "idle-young", "spiky") or (exp == "norequests"):
		x = idle_details[wk]
		want = {"idle": "idle", "idle-young": "skipped", "spiky": None,
		        "norequests": "looks idle but reserves"}[exp]
		check((x["verdict"] or "").startswith(want) if want else x["verdict"] is None and not x["looks_idle"],
		      "%s: idle verdict %r, story says %s" % (label, x["verdict"], exp))
	if wk in idle_details:
		x = idle_details[wk]
		check(x["cpu_p95"] <= IDLE_CPU_M * (1 - MARGIN) or x["cpu_p95"] >= IDLE_CPU_M * (1 + MARGIN),
		      "%s: idle cpu p95 too close to 5m" % label)
		if x["cpu_p95"] <= IDLE_CPU_M:
			check(far(x["cpu_max"], IDLE_CPU_MAX_M), "%s: idle cpu max too close to 25m" % label)
			if x["cpu_max"] <= IDLE_CPU_MAX_M:
				check(far(x["variation"], IDLE_MEM_VAR_B), "%s: memory variation %s close to 16Mi" % (
					label, fmt_mem(x["variation"])))
				if x["variation"] <= IDLE_MEM_VAR_B:
					check(far(x["history_d"], IDLE_MIN_DAYS) and far(x["age_d"], IDLE_MIN_DAYS),
					      "%s: idle history/age close to 7 days" % label)
					if min(x["history_d"], x["age_d"]) >= IDLE_MIN_DAYS:
						check(x["cost"] == 0 or far(x["cost"], MIN_SAVINGS), "%s: idle cost close to $1" % label)
		check((wk in [(f["kind"], f["namespace"], f["name"]) for f in findings if f["category"] == "idle-workload"])
		      == (exp == "idle"), "%s: idle-workload finding mismatch (%s)" % (label, exp))
	d = details[wk]
	if "history_h" in d:
		check(far(d["history_h"], MIN_HISTORY_H), "%s: history %.1f h within 20%% of 24 h" % (label, d["history_h"]))
	for cname, x in d["containers"].items():
		lab = "%s/%s" % (label, cname)
		for dim, diff, req, thr, q in (("cpu", x["cpu_diff"], x["req_cpu"], MIN_CPU_M, x["cpu_qual"]),
		                               ("memory", x["mem_diff"], x["req_mem"], MIN_MEM_B, x["mem_qual"])):
			if diff is None:
				continue
			rel = diff / req
			clearly_in = diff >= thr * (1 + MARGIN) and rel >= MIN_REL * (1 + MARGIN)
			clearly_out = diff <= thr * (1 - MARGIN) or rel <= MIN_REL * (1 - MARGIN)
			check(clearly_in or clearly_out, "%s: %s reduction %d (%.0f%%) too close to a threshold" % (
				lab, dim, diff, rel * 100))
		if x["cpu_qual"] or x["mem_qual"]:
			for k in ("savings", "savings_signed", "savings_qual"):
				check(far(x[k], MIN_SAVINGS), "%s: %s $%.2f within 20%% of $1" % (lab, k, x[k]))
			if d["hpa"]:  # the HPA's average replica count may differ from spec.replicas: robust at 1 replica too
				check(x["savings_qual"] / x["replicas"] >= MIN_SAVINGS * (1 + MARGIN), "%s: HPA savings" % lab)
		if x["req_cpu"] is not None:
			check(far(x["cpu_ref"] - x["req_cpu"], MIN_CPU_M) or x["cpu_ref"] < x["req_cpu"],
			      "%s: cpu over request too close to 50m" % lab)
		if x["req_mem"] is not None and not x["ooms"]:
			check(far(x["mem_peak"], x["req_mem"]), "%s: memory peak %s within 20%% of request %s" % (
				lab, fmt_mem(x["mem_peak"]), fmt_mem(x["req_mem"])))
		x["rel_cpu"] = x["cpu_diff"] / x["req_cpu"] if x["req_cpu"] else None
		x["rel_mem"] = x["mem_diff"] / x["req_mem"] if x["req_mem"] else None
	mains = {k: v for k, v in d["containers"].items() if not v["init"]}
	if exp == "well":
		for cname, x in mains.items():
			for rel in (x["rel_cpu"], x["rel_mem"]):
				check(rel is None or rel <= 0.10, "%s/%s: well-sized but %.0f%% above target" % (label, cname, (rel or 0) * 100))
	if exp == "over":
		for cname, x in mains.items():
			if cname not in w["over"]:
				for rel in (x["rel_cpu"], x["rel_mem"]):
					check(rel is None or rel <= 0.10, "%s/%s: companion container not well-sized" % (label, cname))
	if exp == "borderline":
		x = list(mains.values())[0]
		check(0.05 <= x["rel_cpu"] < 0.15 and 0.05 <= x["rel_mem"] < 0.15, "%s: borderline not in 5-15%%" % label)
		check(x["savings"] >= 2 * MIN_SAVINGS, "%s: borderline must be about the relative rule, not the money" % label)
	if exp == "tiny":
		x = list(mains.values())[0]
		check((x["cpu_qual"] or x["mem_qual"]) and x["savings"] <= MIN_SAVINGS * (1 - MARGIN),
		      "%s: tiny must qualify on size and fail on money (%.2f)" % (label, x["savings"]))
	if exp == "norequests":
		check(all(x["req_cpu"] is None and x["req_mem"] is None for x in mains.values()), "%s: has requests" % label)
	if exp == "under":
		x = d["containers"][next(iter(w["under"]))]
		story_ok = {"fraud-scorer": x["cpu_ref"] - x["req_cpu"] >= 2 * MIN_CPU_M and x["throttled"] == 0.4 and
		            not x["ooms"] and x["mem_peak"] < x["req_mem"],
		            "query-api": x["mem_peak"] > x["req_mem"] * 1.5 and not x["ooms"],
		            "event-aggregator": x["ooms"] == 3 and x["mem_peak"] <= x["req_mem"]}[w["name"]]
		check(story_ok, "%s: under-provisioned for the wrong reason" % label)
	if exp.startswith("zero"):
		check(d["verdict"].startswith("no pods"), "%s: zero-replica workload has pods or usage" % label)
		z = rule_details["zero"][wk]
		check(far(z["age_d"], ZERO_GRACE_DAYS), "%s: age close to the 7-day grace period" % label)
		check(("zero-replica-workload", w["ns"], w["kind"], w["name"], None) in fset if exp == "zero" else
		      ("zero-replica-workload", w["ns"], w["kind"], w["name"], None) not in fset,
		      "%s: zero-replica finding mismatch (%s: %s)" % (label, exp, z))
		if exp == "zero-young":
			check(z["held"], "%s: the young zero-replica workload must hold a claim (so only age saves it)" % label)

# The two rollout stories must depend on the replaced pods.
live_only = [e for e in usage_read["containers"]
             if any(p["metadata"]["namespace"] == e["namespace"] and p["metadata"]["name"] == e["pod"]
                    for p in load("pods"))]
f_live, _, d_live, _, _ = analyze(live_only)
check(("over-provisioned", "payments", "Deployment", "ledger-api", "ledger-api") in
      {(f["category"], f["namespace"], f["kind"], f["name"], f["container"]) for f in f_live},
      "ledger-api: without the replaced pods it should look over-provisioned (story)")
check(d_live[("Deployment", "checkout", "cart-api")]["containers"]["cart-api"]["cpu_ref"] <
      details[("Deployment", "checkout", "cart-api")]["containers"]["cart-api"]["cpu_ref"],
      "cart-api: the replaced pods should hold the CPU peak (story)")
check(not any(r["metadata"]["name"].startswith("ledger-api-") for r in load("replicasets")
              if r["spec"]["replicas"] == 0), "ledger-api: its old ReplicaSet must be gone")
check(any(r["metadata"]["name"] == e["owner"]["name"] and r["spec"]["replicas"] == 0 for r in load("replicasets")
          for e in usage_read["containers"] if e["pod"].startswith("cart-api-") and e["namespace"] == "checkout"),
      "cart-api: the old ReplicaSet (replicas 0) must still be listed")

# PVC stories
orph = {(f["namespace"], f["name"]): f for f in findings if f["category"] == "orphaned-pvc"}
exp_orph = {(p["ns"], p["name"]) for p in PVCS if p["expect"].startswith("orphan")}
check(set(orph) == exp_orph, "orphaned PVCs %s, story says %s" % (sorted(orph), sorted(exp_orph)))
for p in PVCS:
	x = pvc_details[(p["ns"], p["name"])]
	check(far(x["age_d"], PVC_GRACE_DAYS), "PVC %s/%s: age %.1f d within 20%% of 7 d" % (p["ns"], p["name"], x["age_d"]))
	if p["expect"] == "orphan-blocked":
		check(orph[(p["ns"], p["name"])]["blocked"], "kube-system orphan must be blocked")
	want = {"cronjob": "referenced by a workload template", "zero-deploy": "referenced by a workload template",
	        "mounted": "mounted by a pod", "fresh": "younger"}.get(p["expect"])
	if want:
		check(x["why"] and x["why"].startswith(want), "PVC %s/%s: %s, story says %s" % (p["ns"], p["name"], x["why"], want))
check(all(x["why"] for (ns, n), x in pvc_details.items() if (ns, n) not in exp_orph), "unexpected orphan")
retain = [pv for pv in load("persistentvolumes") if pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
          and pv["status"]["phase"] == "Bound"]
check(len(retain) == 1 and (retain[0]["spec"]["claimRef"]["namespace"], retain[0]["spec"]["claimRef"]["name"]) in exp_orph,
      "exactly one orphan's PV has reclaim policy Retain")
for sts, n_pvc in (("elasticsearch", 3), ("clickhouse", 3)):
	names = [k for k in pvc_details if k[1].startswith("data-%s-" % sts)]
	check(len(names) == n_pvc and all(pvc_details[k]["why"] == "matches a StatefulSet claim template"
	                                  for k in names if k[1] != "data-clickhouse-0"),
	      "%s PVCs must be kept by the claim template rule" % sts)

# Counts the brief asks for
kinds = {}
for w in WORKLOADS:
	kinds[w["kind"]] = kinds.get(w["kind"], 0) + 1
check(45 <= kinds["Deployment"] <= 55 and kinds["StatefulSet"] == 8 and kinds["DaemonSet"] == 5, "workload counts %s" % kinds)

# Stories of the object-only rules
fkeys = {(f["category"], f["namespace"], f["kind"], f["name"]) for f in findings}
for upv in UNBOUND_PVS:
	x = rule_details["pv"][upv["name"]]
	check(far(x["age_d"], UNBOUND_PV_GRACE_DAYS), "PV %s: age close to 7 days" % upv["name"])
	check((("unbound-pv", None, "PersistentVolume", upv["name"]) in fkeys) == (upv["expect"] == "unbound"),
	      "PV %s: %s, story says %s" % (upv["name"], x, upv["expect"]))
check(len([f for f in findings if f["category"] == "unbound-pv"]) == 2, "2 unbound PVs")
for lbc in LB_CASES:
	x = rule_details["lb"][(lbc["ns"], lbc["name"])]
	check(far(x["age_h"], LB_GRACE_HOURS), "LB %s: age close to 24 h" % lbc["name"])
	check((("idle-loadbalancer", lbc["ns"], "Service", lbc["name"]) in fkeys) == (lbc["expect"] == "idle"),
	      "LB %s/%s: %s, story says %s" % (lbc["ns"], lbc["name"], x, lbc["expect"]))
check(rule_details["lb"][("web", "storefront-public")]["ready"] >= 3, "storefront-public keeps its ready endpoints")
check(rule_details["lb"][("ml", "gradio-demo")]["endpoints"] == 1, "gradio-demo: one endpoint, not ready")
check(len([f for f in findings if f["category"] == "idle-loadbalancer"]) == 2, "2 idle load balancers")
for j in JOBS:
	x = rule_details["job"][(j["ns"], j["name"])]
	if x["finished_d"] is not None:
		check(far(x["finished_d"], FINISHED_JOB_GRACE_DAYS), "Job %s: finished close to 7 days ago" % j["name"])
	check((("finished-job", j["ns"], "Job", j["name"]) in fkeys) == (j.get("expect") == "finished"),
	      "Job %s/%s: %s, story says %s" % (j["ns"], j["name"], x, j.get("expect")))
check(any(x["why"].startswith("owned by CronJob") and x["finished_d"] > FINISHED_JOB_GRACE_DAYS * (1 + MARGIN)
          for x in rule_details["job"].values() if x["why"]),
      "a CronJob-owned Job finished long ago must exist (the kor false positive)")
check(len([f for f in findings if f["category"] == "finished-job"]) == 2, "2 finished jobs")
nodes_flagged = [f["name"] for f in findings if f["category"] == "underutilized-node"]
check(nodes_flagged == [fqdn(INCIDENT_NODE)], "underutilized nodes %s, story says the incident node" % nodes_flagged)
for nm, x in rule_details["node"].items():
	r = max(x["cpu_ratio"], x["mem_ratio"])
	check(r <= NODE_MAX_RATIO * (1 - MARGIN) or r >= NODE_MAX_RATIO * (1 + MARGIN),
	      "node %s: requested %.0f%% close to 50%%" % (nm, r * 100))
x88 = rule_details["node"][fqdn("ip-10-0-88-54")]
check(0.55 <= max(x88["cpu_ratio"], x88["mem_ratio"]) <= 0.7, "ip-10-0-88-54 should sit near 60%% (%s)" % x88)
inc = rule_details["node"][fqdn(INCIDENT_NODE)]
check(len(inc.get("moves", [])) == 2 and all(m[0] == "checkout" for m in inc.get("moves", [])),
      "the incident node must move exactly its 2 checkout pods: %s" % inc.get("moves"))
check(len(objects["cronjobs"]) == 4, "4 CronJobs")
check(len([f for f in findings if f["category"] == "idle-workload"]) == 2, "2 idle workloads")
check(len([f for f in findings if f["category"] == "zero-replica-workload"]) == 2, "2 zero-replica workloads")
check(len([f for f in findings if f["category"] == "over-provisioned"]) in range(11, 15), "about 12 over-provisioned")
check(len([f for f in findings if f["category"] == "under-provisioned"]) == 3, "3 under-provisioned")
for e in usage_read["containers"]:
	c = e["cpu_millicores"]
	check(c["p50"] <= c["p95"] <= c["p99"] <= c["max"], "cpu percentiles not monotone: %s/%s" % (e["pod"], e["container"]))
	check(e["memory_bytes"]["p50"] <= e["memory_bytes"]["max"], "memory p50 > max: %s" % e["pod"])
full = [e for e in usage_read["containers"] if e["first_seen"] == ts(WSTART) and e["last_seen"] == ts(LAST_SAMPLE)]
check(full and all(e["samples"] == 20160 for e in full), "a full window is 20160 samples")
for n in NODES:
	cl, ml, pc = node_load[n[0]]
	_, _, acpu, amem = NODE_SHAPE[n[2]]
	check(cl <= acpu and ml <= amem * 1024, "node %s over-committed" % n[0])
check(total_bytes < 3 * 2**20, "snapshot is %d bytes (> 3 MB)" % total_bytes)

# usage.json against the contract schema
try:
	import jsonschema
except ImportError:
	errors.append("jsonschema is not installed: run with /usr/bin/python3 (Debian's python3-jsonschema)")
else:
	schema_path = next((p for p in SCHEMA_CANDIDATES if os.path.exists(p)), None)
	if schema_path is None:
		errors.append("usage.schema.json not found (looked in %s)" % ", ".join(SCHEMA_CANDIDATES))
	else:
		with open(schema_path, encoding="utf-8") as f:
			schema = json.load(f)
		jsonschema.Draft202012Validator.check_schema(schema)
		v = jsonschema.Draft202012Validator(schema)
		for err in sorted(v.iter_errors(usage_read), key=lambda e: list(e.path))[:20]:
			errors.append("usage.json invalid at %s: %s" % ("/".join(map(str, err.path)), err.message))

if errors:
	sys.stderr.write("generate.py: the planted cases do not land where their stories say:\n")
	for e in errors:
		sys.stderr.write("  - %s\n" % e)
	sys.exit(1)

# ---------------------------------------------------------------------------
# 5. expected-findings.json and README.md

wl_by_key = {(w["kind"], w["ns"], w["name"]): w for w in WORKLOADS}


JOB_STORY = {(j["ns"], j["name"]): j for j in JOBS}


def why_workload(wk):
	d = details[wk]
	if wk[0] in ("CronJob", "Job"):
		bits = []
		for cname, x in d["containers"].items():
			bits.append("%s: %d run%s judged, cpu %s vs target %s, memory %s vs target %s, but its pods ran %.2f%% "
			            "of the window, so the saving is $%.2f/month" % (
				            cname, len([e for e in usage_read["containers"] if e["container"] == cname and
				                        e["namespace"] == wk[1] and e["pod"].startswith(wk[2] + "-")]) or 0,
				            "s", fmt_cpu(x["req_cpu"]), fmt_cpu(x["target_cpu"]), fmt_mem(x["req_mem"]),
				            fmt_mem(x["target_mem"]), x["replicas"] * 100, x["savings_qual"]))
		bits += d.get("skipped", [])
		if wk[0] == "Job":
			bits.insert(0, "finished-job: " + (rule_details["job"][(wk[1], wk[2])]["why"] or ""))
		if d["verdict"] == "no run in the window":
			bits.append("rightsizing: no run in the window")
		return "; ".join(bits)
	w = wl_by_key[wk]
	exp = w["expect"]
	parts = []
	for cname, x in d["containers"].items():
		if x["init"]:
			continue
		bits = []
		if x["req_cpu"] is not None:
			bits.append("cpu %s vs target %s" % (fmt_cpu(x["req_cpu"]), fmt_cpu(x["target_cpu"])))
		if x["req_mem"] is not None:
			bits.append("memory %s vs target %s" % (fmt_mem(x["req_mem"]), fmt_mem(x["target_mem"])))
		if not bits:
			bits.append("no requests")
		parts.append("%s: %s" % (cname, ", ".join(bits)))
	lead = {
		"well": "well-sized: requests within 10% of the target",
		"borderline": "borderline: reduction under 15% (rule needs 20%)",
		"tiny": "saving under $1/month",
		"norequests": "no requests set: nothing to shrink; looks idle but reserves nothing, so not reported",
		"peak": "replaced pods' memory peak counts: no reduction of 20%",
		"zero-empty": "scaled to 0 and holds no claim and no load balancer",
		"zero-young": "scaled to 0 and holds a claim, but created %.1f days ago (grace period 7 days)" % (
			rule_details["zero"].get(wk, {}).get("age_d", 0)),
		"idle-young": "looks idle, but only %.1f days of history (idle needs 7): skipped, not reported" % (
			idle_details.get(wk, {}).get("history_d", 0)),
		"spiky": "not idle: CPU bursts to %s (idle needs max <= 25m); requests small" % fmt_cpu(
			round(idle_details.get(wk, {}).get("cpu_max", 0))),
		"over": "", "under": "",
	}[exp]
	if exp == "tiny":
		x = [v for v in d["containers"].values() if not v["init"]][0]
		lead = "saving $%.2f/month < $1" % x["savings"]
	if exp.startswith("zero"):
		return lead
	return lead + (" (" + "; ".join(parts) + ")" if parts else "")


not_flagged = []
flagged_res = {(f["namespace"], f["kind"], f["name"]) for f in findings}
whole_skip = {(x["namespace"], x["kind"], x["name"]) for x in skipped
              if re.search(r"short history|not measured", x["reason"])}
for wk in sorted(details):
	if (wk[1], wk[0], wk[2]) in flagged_res or (wk[1], wk[0], wk[2]) in whole_skip:
		continue
	not_flagged.append({"namespace": wk[1], "kind": wk[0], "name": wk[2], "why": why_workload(wk)})
for (ns, name), x in sorted(pvc_details.items()):
	if x["why"]:
		not_flagged.append({"namespace": ns, "kind": "PersistentVolumeClaim", "name": name, "why": x["why"]})
for name, x in sorted(rule_details["pv"].items()):
	if x["why"]:
		not_flagged.append({"namespace": None, "kind": "PersistentVolume", "name": name, "why": x["why"]})
for (ns, name), x in sorted(rule_details["lb"].items()):
	if x["why"] and (ns, "Service", name) not in flagged_res:
		not_flagged.append({"namespace": ns, "kind": "Service", "name": name, "why": "LoadBalancer: " + x["why"]})
for name, x in sorted(rule_details["node"].items()):
	if x["why"]:
		not_flagged.append({"namespace": None, "kind": "Node", "name": name, "why": x["why"]})
# Also over-provisioned workloads' other containers are judged and not flagged: e.g. payment-gateway/gateway.
_seen = set()
_skips = []
for x in sorted(skipped, key=lambda s: (s["namespace"], s["kind"], s["name"])):
	k = (x["namespace"], x["kind"], x["name"])
	if k not in _seen:
		_seen.add(k)
		_skips.append({"namespace": k[0], "kind": k[1], "name": k[2]})
expected = {"findings": findings, "skipped": _skips, "not_flagged": not_flagged}
write_json(os.path.join(HERE, "expected-findings.json"), expected, indent=2)

# README ------------------------------------------------------------------------


def row(*cells):
	return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def total_savings():
	s = 0.0
	for wk, d in details.items():
		for x in d["containers"].values():
			if x["over"]:
				s += x["savings"]
	return s


rule_name = {"over": "rightsizing: over-provisioned", "under": "rightsizing: under-provisioned",
             "well": "rightsizing (not flagged)", "borderline": "rightsizing: 20% relative rule",
             "tiny": "rightsizing: $1/month rule", "norequests": "rightsizing: request must be set",
             "peak": "rightsizing: all pods of the workload, live and replaced",
             "short": "rightsizing: < 24 h history -> skipped", "nousage": "rightsizing: no usage -> skipped",
             "zero": "rightsizing: no pods (zero-replica-workload rule reports it)"}
outcome = {"over": "**over-provisioned**", "under": "**under-provisioned**", "short": "skipped (short history)",
           "nousage": "skipped (not measured)"}

lines = []
A = lines.append
A("# demo-cluster: a snapshot of a noisy production cluster")
A("")
A("This directory is the snapshot that `make demo` runs kopilot on:")
A("")
A("```")
A("./build/kopilot run --snapshot examples/demo-cluster --out out/demo --now 2026-11-25T06:00:00Z")
A("```")
A("")
A("It is a fictional EKS cluster in %s (Kubernetes %s), as a collector would have seen it on "
  "**%s**: %s nodes (%s) in three zones, %d namespaces, %d Deployments, %d StatefulSets, %d DaemonSets, %d CronJobs, "
  "%d Jobs and %d pods, and 14 days of Prometheus usage summaries (%s .. %s, 60 s resolution)." % (
	  REGION, K8S_VERSION, ts(NOW), ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][len(NODES)],
	  ", ".join(sorted({"%d x %s" % (sum(1 for n in NODES if n[2] == t), t) for t in NODE_SHAPE})),
	  len(objects["namespaces"]), kinds["Deployment"], kinds["StatefulSet"], kinds["DaemonSet"],
	  len(objects["cronjobs"]), len(objects["jobs"]), len(objects["pods"]), ts(WSTART), ts(NOW)))
A("")
A("Like most real clusters, most of it is fine, and the waste sits in a few places with a history behind each one. "
  "Every such place is planted on purpose, with its values kept at least 20% away from every rule threshold, so a "
  "correct analyzer finds exactly the cases in `expected-findings.json`, no more and no fewer.")
A("")
A("## Files")
A("")
A("| file | what |")
A("|---|---|")
A("| `objects/<resource>.json` | what `kubectl get <resource> -A -o json` prints (a `List`), for %s |" % ", ".join(
	"`%s`" % r for r in objects))
A("| `usage.json` | `kopilot.usage/v1` (see `shared/contracts/USAGE.md`): %d container entries, including init "
  "containers that ran in the window and %d pods that no longer exist |" % (
	  len(usage), len({(e["namespace"], e["pod"]) for e in usage} - {(p["metadata"]["namespace"], p["metadata"]["name"])
	                                                                    for p in objects["pods"]})))
A("| `expected-findings.json` | what kopilot's nine rule categories must produce: `findings` (category, namespace "
  "(null when cluster-scoped), kind, name, container, blocked), `skipped` (each must appear among kopilot's skipped "
  "entries), and "
  "`not_flagged` (every other Deployment, StatefulSet, DaemonSet and PVC, with the reason) |")
A("| `generate.py` | writes all of the above, and this README |")
A("")
A("## Regenerating")
A("")
A("```")
A("/usr/bin/python3 examples/demo-cluster/generate.py")
A("```")
A("")
A("The generator is deterministic (every uid, name suffix, IP and jitter is a SHA-256 of a fixed seed), so "
  "re-running it rewrites identical files. It uses the Python standard library, plus Debian's `python3-jsonschema` "
  "to validate `usage.json` against `shared/contracts/usage.schema.json`. After writing the files it reads them back, "
  "applies the rules below with its own implementation, and fails (exit 1, listing what is wrong) if any planted case "
  "does not land where its story says, if any value sits within 20% of a threshold, or if the snapshot grows over 3 MB. "
  "Edit the workload table in `generate.py`, never the JSON files.")
A("")
A("## The rules the expected findings assume")
A("")
A("Prices are OpenCost's defaults: 0.031611 $/core-hour, 0.004237 $/GiB-hour, 730 hours a month.")
A("")
A("- **Rightsizing**, per container of every Deployment, StatefulSet, DaemonSet, CronJob (over all its Jobs' runs) "
  "and Job not owned by a CronJob (init containers included when they have usage). Usage of all the workload's pods in the window, live and replaced, is combined: "
  "`cpu_ref` = max over pods of CPU p95, `mem_peak` = max over pods of memory max. Pods are mapped to workloads "
  "through `ownerReferences` (Pod -> ReplicaSet -> Deployment); a pod that is gone is mapped through its usage "
  "entry's `owner`, and a ReplicaSet that is gone too through its name, `<deployment>-<pod-template-hash>`.")
A("  - target CPU = max(cpu_ref x 1.15, 10m) rounded up to 5m; target memory = max(mem_peak x 1.20, 32Mi) rounded up to 1Mi.")
A("  - **over-provisioned** when, for CPU or memory, a request is set and request - target >= 50m CPU / 64Mi memory "
  "and >= 20% of the request, and the saving (cores x 0.031611 + GiB x 0.004237) x 730 x replicas is at least "
  "$1/month (replicas: `spec.replicas`; DaemonSet: `status.desiredNumberScheduled`).")
A("  - **under-provisioned** when any pod was OOM-killed, or mem_peak > memory request, or cpu_ref exceeds the CPU "
  "request by 50m or more.")
A("  - **skipped**: usage history (latest `last_seen` - earliest `first_seen` over the workload's pods) under 24 h; "
  "or pods but no usage entry at all (not measured, never \"idle\"); a container without any request (BestEffort).")
A("  - batch work (CronJobs, Jobs) and plain init containers are judged per run: fewer than 3 runs -> skipped; a "
  "batch saving is weighted by the share of the window its pods ran (sum of run durations / 14 days), so the demo's "
  "CronJobs, running minutes a day, are never worth a change. An init container's saving counts only the part of "
  "its request above the other containers' sum.")
A("  - under-provisioned on CPU: cpu_ref > request and target - request >= 50m. Idle workloads are not also rightsized.")
A("  - an HPA scaling the workload on CPU raises the risk of a resize; the finding still appears.")
A("- **Orphaned PVC**: no pod mounts it, no Deployment/StatefulSet/DaemonSet/Job template or CronJob job template "
  "names it, its name is not `<claimTemplate>-<statefulset>-<ordinal>` of any StatefulSet in its namespace (any "
  "ordinal, any replica count), and it is older than 7 days. In `kube-system`, `kube-public` and `kube-node-lease` "
  "the delete is **blocked**.")
A("")
A("- **Idle workload**: a Deployment, StatefulSet or DaemonSet with replicas > 0 whose pods (all of them, every "
  "container) stayed at CPU p95 <= 5m and CPU max <= 25m, with memory max - lowest p50 <= 16Mi, no restarts and no "
  "OOM kills, over >= 7 days of history (plus one 60 s step), created >= 7 days ago. One finding per workload "
  "(container null). Not reported when its requests cost under $1/month; skipped with a reason when it looks idle "
  "but history or age is short.")
A("- **Zero-replica workload**: a Deployment or StatefulSet at `spec.replicas: 0`, created more than 7 days ago, "
  "that still holds Bound PVCs (claim-template names at any ordinal, or claims its template names) or a "
  "LoadBalancer Service whose selector matches its template labels.")
A("- **Unbound PV**: a PersistentVolume in phase Released, Available or Failed, created more than 7 days ago "
  "(cluster-scoped: namespace null).")
A("- **Idle load balancer**: a Service of type LoadBalancer, older than 24 h, whose EndpointSlices (label "
  "`kubernetes.io/service-name`) hold no ready endpoint (an endpoint without a ready condition counts as ready); "
  "a Service without a selector and without any slice is skipped.")
A("- **Finished job**: a Job with a True Complete or Failed condition more than 7 days ago, not owned by a CronJob, "
  "without `ttlSecondsAfterFinished`.")
A("- **Underutilized node**: a Ready, schedulable, non-control-plane node whose pods (Running/Pending, effective "
  "requests) request < 50% of allocatable CPU AND memory, and whose non-DaemonSet pods all fit, first-fit "
  "decreasing, on the other nodes (in name order, honouring free requests, nodeSelector and NoSchedule/NoExecute "
  "taints); never the last node.")
A("")
A("## Planted cases: rightsizing")
A("")
A("Total expected over-provisioned saving: about $%.0f/month." % total_savings())
A("")
A(row("workload", "container", "requests", "used (cpu p95 / mem peak)", "target", "outcome", "rule", "story"))
A("|---|---|---|---|---|---|---|---|")
order_exp = ["over", "under", "short", "nousage", "peak", "borderline", "tiny", "norequests", "zero", "well"]
for exp in order_exp:
	for w in sorted(WORKLOADS, key=lambda w: (w["ns"], w["kind"], w["name"])):
		if w["expect"] != exp:
			continue
		wk = (w["kind"], w["ns"], w["name"])
		d = details[wk]
		cs = [c for c in w["containers"]]
		if exp == "over":
			cs = [c for c in cs if c["name"] in w["over"]]
		if exp == "well" and len(cs) > 1:
			cs = cs[:1]
		for c in cs:
			x = d["containers"].get(c["name"])
			reqs = "%s / %s" % (c["cpu"] or "-", c["mem"] or "-")
			if x:
				used = "%s / %s" % (fmt_cpu(round(x["cpu_ref"])), fmt_mem(x["mem_peak"]))
				tgt = "%s / %s" % (fmt_cpu(x["target_cpu"]), fmt_mem(x["target_mem"]))
			else:
				used = tgt = "-"
			out = outcome.get(exp, "not flagged")
			if exp == "over":
				out += " ($%.0f/mo%s)" % (x["savings"], ", x%d pods" % x["replicas"] if x["replicas"] > 1 else "")
			if exp == "tiny":
				out += " ($%.2f/mo)" % x["savings"]
			story = w["story"]
			if exp == "well" and len(w["containers"]) > 1:
				story += " (%d containers)" % len(w["containers"])
			A(row("%s %s/%s" % (w["kind"], w["ns"], w["name"]), c["name"], reqs, used, tgt, out, rule_name[exp], story))
A("")
A("Companion containers of flagged workloads (`payments/payment-gateway` container `gateway`) and init containers "
  "(`wait-for-db`, `wait-for-redis`, `wait-for-airflow-migrations`, `sysctl`) are sized so that they are never "
  "flagged.")
A("")
A("## Planted cases: PersistentVolumeClaims")
A("")
A(row("PVC", "size", "age", "outcome", "why"))
A("|---|---|---|---|---|")
for p in PVCS:
	x = pvc_details[(p["ns"], p["name"])]
	out = {"orphan": "**orphaned-pvc**", "orphan-blocked": "**orphaned-pvc, blocked**"}.get(p["expect"], "not flagged")
	A(row("%s/%s" % (p["ns"], p["name"]), p["size"], "%d days" % x["age_d"] if x["age_d"] >= 1 else "%.1f days" % x["age_d"],
	      out, p["story"]))
A(row("staging/data-elasticsearch-0, -1, -2", "50Gi", "%d days" % pvc_details[("staging", "data-elasticsearch-0")]["age_d"],
      "not flagged", "StatefulSet `elasticsearch` scaled to 0: the names match its claim template `data`."))
A(row("analytics/data-clickhouse-1, -2", "500Gi", "%d days" % pvc_details[("analytics", "data-clickhouse-1")]["age_d"],
      "not flagged", "StatefulSet `clickhouse` scaled from 3 to 1: ordinals 1 and 2 match its claim template."))
A(row("all other StatefulSet PVCs", "", "", "not flagged", "mounted by their running pods."))
A("")
A("## Planted cases: idle workloads")
A("")
A(row("workload", "requests x replicas", "cpu p95 / max", "memory spread", "history / age", "outcome", "story"))
A("|---|---|---|---|---|---|---|")
for exp in ("idle", "idle-young", "spiky", "norequests"):
	for w in sorted(WORKLOADS, key=lambda w: (w["ns"], w["kind"], w["name"])):
		if w["expect"] != exp:
			continue
		wk = (w["kind"], w["ns"], w["name"])
		x = idle_details[wk]
		c0 = w["containers"][0]
		out = {"idle": "**idle-workload** ($%.2f/mo reserved)" % x["cost"],
		       "idle-young": "skipped (3 days of history < 7)", "spiky": "not flagged (CPU max > 25m)",
		       "norequests": "not flagged (reserves $0 < $1)"}[exp]
		A(row("%s %s/%s" % wk, "%s / %s x %d" % (c0["cpu"] or "-", c0["mem"] or "-", w["replicas"]),
		      "%.1fm / %.1fm" % (x["cpu_p95"], x["cpu_max"]), fmt_mem(x["variation"]),
		      "%.1f d / %.0f d" % (x["history_d"], x["age_d"]), out, w["story"]))
A("")
A("## Planted cases: zero-replica workloads")
A("")
A(row("workload", "holds", "age", "outcome", "story"))
A("|---|---|---|---|---|")
for exp in ("zero", "zero-young", "zero-empty"):
	for w in sorted(WORKLOADS, key=lambda w: (w["ns"], w["kind"], w["name"])):
		if w["expect"] != exp:
			continue
		wk = (w["kind"], w["ns"], w["name"])
		z = rule_details["zero"][wk]
		held = ", ".join(z["held"] + ["LoadBalancer " + n for n in z["lbs"]]) or "nothing"
		out = {"zero": "**zero-replica-workload**", "zero-young": "not flagged (inside the 7-day grace period)",
		       "zero-empty": "not flagged (holds nothing)"}[exp]
		A(row("%s %s/%s" % wk, held, "%.0f days" % z["age_d"] if z["age_d"] >= 7 else "%.1f days" % z["age_d"], out,
		      w["story"]))
A("")
A("## Planted cases: PersistentVolumes")
A("")
A(row("PersistentVolume", "size", "phase / reclaim", "age", "outcome", "story"))
A("|---|---|---|---|---|---|")
for upv in UNBOUND_PVS:
	x = rule_details["pv"][upv["name"]]
	A(row(upv["name"], upv["size"], "%s / %s" % (upv["phase"], upv["reclaim"]),
	      "%.0f days" % x["age_d"] if x["age_d"] >= 7 else "%.1f days" % x["age_d"],
	      "**unbound-pv**" if upv["expect"] == "unbound" else "not flagged (inside the 7-day grace period)", upv["story"]))
A(row("all %d other PVs" % (len(rule_details["pv"]) - len(UNBOUND_PVS)), "", "Bound", "", "not flagged",
      "held by their claims (orphaned-pvc judges the claim)."))
A("")
A("## Planted cases: LoadBalancer Services")
A("")
A(row("Service", "EndpointSlices / endpoints / ready", "age", "outcome", "story"))
A("|---|---|---|---|---|")
for lbc in LB_CASES + [dict(ns="web", name="storefront-public", expect="ready",
                            story="The shop's public NLB: ready endpoints (the storefront pods).")]:
	x = rule_details["lb"][(lbc["ns"], lbc["name"])]
	out = {"idle": "**idle-loadbalancer**", "fresh": "not flagged (inside the 24-hour grace period)",
	       "ready": "not flagged"}[lbc["expect"]]
	A(row("%s/%s" % (lbc["ns"], lbc["name"]), "%d / %d / %d" % (x["slices"], x["endpoints"], x["ready"]),
	      "%.0f days" % (x["age_h"] / 24) if x["age_h"] >= 48 else "%.1f hours" % x["age_h"], out, lbc["story"]))
A("")
A("## Planted cases: Jobs")
A("")
A(row("Job", "status", "finished", "ttlSecondsAfterFinished / owner", "outcome", "story"))
A("|---|---|---|---|---|---|")
for j in sorted(load("jobs"), key=lambda j: (controller_of(j) is not None, j["metadata"]["namespace"], j["metadata"]["name"])):
	ns, name = j["metadata"]["namespace"], j["metadata"]["name"]
	x = rule_details["job"][(ns, name)]
	st = "Failed" if any(c["type"] == "Failed" for c in j["status"].get("conditions", [])) else (
		"Complete" if x["finished_d"] is not None else "running")
	ow = controller_of(j)
	own = ("CronJob " + ow[1]) if ow else str(j["spec"].get("ttlSecondsAfterFinished", "-"))
	story = JOB_STORY[(ns, name)].get("story", "") if (ns, name) in JOB_STORY else (
		"A CronJob's run; its history limit prunes it." if ow else "")
	if (ns, name) in JOB_STORY and not story:
		story = {"schema-migrate-v118": "Migration with a 7-day TTL, finished yesterday.",
		         "train-recsys-20261124": "Training run in progress."}.get(name, "")
	A(row("%s/%s" % (ns, name), st, "%.1f days ago" % x["finished_d"] if x["finished_d"] is not None else "-", own,
	      "**finished-job**" if x["why"] is None else "not flagged (%s)" % x["why"], story))
A("")
A("## Planted cases: nodes")
A("")
A("The incident node `%s` (m5.xlarge, node group `%s`, taint `dedicated=incident:NoSchedule`) was added by hand "
  "on %s during the checkout incident; its node group's minimum size of 1 keeps the cluster autoscaler from "
  "removing it. Since then only the two incident hotfix Deployments that tolerate the taint run there, next to "
  "the DaemonSets. `ip-10-0-88-54` is the near miss: its pods would fit elsewhere too, but about 60%% of it is "
  "requested, above the 50%% threshold." % (fqdn(INCIDENT_NODE), NODE_EXTRA[INCIDENT_NODE]["nodegroup"],
                                          ts(NODE_CREATED[INCIDENT_NODE])))
A("")
A(row("node", "type", "cpu / memory requested", "outcome", "why"))
A("|---|---|---|---|---|")
for n in NODES:
	x = rule_details["node"][fqdn(n[0])]
	why = x["why"] or "its %d non-DaemonSet pods fit on the other nodes: %s" % (len(x.get("moves", [])), ", ".join(
		"%s/%s -> %s" % (m[0], m[1], m[2].split(".")[0]) for m in x.get("moves", [])))
	A(row(n[0], n[2], "%.0f%% / %.0f%%" % (x["cpu_ratio"] * 100, x["mem_ratio"] * 100),
	      "**underutilized-node**" if x["why"] is None else "not flagged", why))
A("")
A("## Changes to existing cases for the new rules")
A("")
A("- A seventh node (the incident node) was added, so every DaemonSet runs 7 pods: `monitoring/fluent-bit`'s "
  "saving is multiplied by 7, not 6.")
A("- `ip-10-0-88-54` is held at about 60% requested by the placement (it was 86%); the other nodes took its pods.")
A("- `staging/db-refresh` now keeps 3 weekly runs (`successfulJobsHistoryLimit: 3`), so one of its Jobs finished "
  "16 days ago: the CronJob-owned near miss of the finished-job rule. Two of its runs fall inside the window "
  "(fewer than 3: skipped by rightsizing, as the one run was before).")
A("- `staging/elasticsearch` and `web/legacy-cms` are now expected zero-replica-workload findings, as their stories "
  "always said.")
A("")
A("## Usage data notes")
A("")
A("- Entries are per (namespace, pod, container). A pod alive for the whole window has 20160 samples "
  "(first sample %s, last %s)." % (ts(WSTART), ts(LAST_SAMPLE)))
A("- Pods that no longer exist and still count for their workload: the old `checkout/cart-api` ReplicaSet's pods "
  "(the ReplicaSet is still listed, replicas 0), the `payments/ledger-api` pods of a ReplicaSet that is gone "
  "entirely (`revisionHistoryLimit: 0`), and three `web/storefront` pods from an HPA scale-out.")
A("- Init containers have entries only for pods started inside the window (they ran for a minute at pod start).")
A("- `cpu_throttled_ratio` is present only for containers with a CPU limit.")
A("- `analytics/legacy-geoip` has no entries at all; `missing` says why, in an entry naming its namespace and "
  "workload, so a run scoped to other namespaces (`--namespace checkout`) is not degraded by it.")
A("- Quantities in `objects/` are in the canonical form the API server prints (`500m`, `1`, `4Gi`, `1536Mi`): a "
  "manifest's `0.5` comes back from the API as `500m`.")
A("")
with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8") as f:
	f.write("\n".join(lines))

_cats = {}
for _f in findings:
	_cats[_f["category"]] = _cats.get(_f["category"], 0) + 1
print("demo-cluster: %d objects in %d files, %d usage entries, %d findings (%s), %d skipped, %d not flagged; %.2f MB" % (
	sum(len(v) for v in objects.values()), len(objects), len(usage), len(findings),
	", ".join("%d %s" % (v, k) for k, v in sorted(_cats.items())), len(_skips), len(not_flagged), total_bytes / 2**20))
for n in NODES:
	cl, ml, pc = node_load[n[0]]
	_, _, acpu, amem = NODE_SHAPE[n[2]]
	print("  node %-16s %-10s cpu requested %5.1f%%  memory requested %5.1f%%  pods %d" % (
		n[0], n[2], 100.0 * cl / acpu, 100.0 * ml / (amem * 1024), pc))
