#!/usr/bin/python3
"""
gen_cluster.py - writes a LARGE synthetic snapshot for the benchmarks.

    /usr/bin/python3 bench/gen_cluster.py OUTDIR [PODS] [--waste-scale X]
        [--managed-fields-share F] [--last-applied-share F]
    (PODS default 150000; X default 1, or $BENCH_WASTE)

Writes OUTDIR/objects/<resource>.json (what `kubectl get <resource> -A -o json`
prints: a List, keys sorted, items ordered by namespace then name, compact)
and OUTDIR/usage.json (kopilot.usage/v1, see docs/contracts/USAGE.md), then
prints one JSON line of statistics on stdout.

The cluster is shaped like a big EKS cluster near the Kubernetes scalability
envelope (150k pods, ~110 pods per node at most):
  - nodes = PODS/40 or --nodes (m5.4xlarge and m5.8xlarge, 3:1); pods are placed on a
    random node with room for their requests (Placer); four DaemonSets
    (aws-node, kube-proxy, fluent-bit, node-exporter) run one pod per node;
  - team namespaces (PODS/300) hold Deployments (ReplicaSet -> Deployment
    owner chain, 0-3 old ReplicaSets at replicas 0, 1-3 containers, some init
    containers, HPAs, Services with EndpointSlices, some LoadBalancers) and
    StatefulSets (claim templates, one PVC + PV per ordinal);
  - CronJobs with their finished Jobs and Succeeded pods, a few bare pods;
  - usage.json: one entry per container of every pod (init containers only
    for pods started inside the window), plus the pods a rollout replaced
    inside the window (owner = their old ReplicaSet); 0.1% of the Deployments
    are not measured at all (listed under `missing`, so `kopilot run` exits 3).

Realistic objects: probes, env/envFrom, securityContext, IRSA (the EKS pod
identity webhook's env and token volume), projected service-account tokens,
container statuses with imageID/containerID/state/lastState;
metadata.managedFields (fieldsV1 per manager) on --managed-fields-share of the
objects, kubectl.kubernetes.io/last-applied-configuration on
--last-applied-share of the user-managed ones.

Waste, planted so that kopilot's rules find it (see bench/README.md for the
table): over- and under-provisioned containers (incl. OOM-killed and
CPU-throttled by their limit), idle Deployments, Deployments and StatefulSets
at zero holding claims or load balancers, orphaned claims (some on Retain
volumes), unbound volumes, idle load balancers, finished Jobs nothing cleans
up, light nodes, a few in kube-system (blocked), each with near misses.
--waste-scale scales it: ~0.2 findings per pod at 1, ~10x fewer at 0.1, ~10x
more at 10 (the container-level waste saturates, the object-level waste makes
up for it, so the x10 snapshot has many more objects, not more pods).

Deterministic: one random.Random seeded with a constant; the same arguments
give byte-identical files with the same CPython.

Fast: every pod of a workload shares one compiled template (json.dumps once,
turned into a str.format string). Python standard library only.
"""

import argparse
import calendar
import json
import os
import random
import re
import sys
import time

SEED = 20261125
NOW = calendar.timegm((2026, 11, 25, 6, 0, 0))
DAY = 86400
WINDOW = 14 * DAY
WSTART = NOW - WINDOW
STEP = 60
LAST_SAMPLE = NOW - STEP
REGION = "eu-west-1"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
EKS_ECR = "602401143452.dkr.ecr.eu-west-1.amazonaws.com"
K8S_VERSION = "v1.30.4-eks-a737599"
SAFE = "bcdfghjklmnpqrstvwxz2456789"

RESOURCES = ["pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs",
             "persistentvolumeclaims", "persistentvolumes", "services", "endpointslices", "nodes",
             "horizontalpodautoscalers", "namespaces", "storageclasses"]

rng = random.Random(SEED)
R = rng.random
randint = rng.randint
choice = rng.choice


def dumps(o):
	return json.dumps(o, sort_keys=True, separators=(",", ":"))


_ts_cache = {}


def ts(t):
	t = int(t)
	s = _ts_cache.get(t)
	if s is None:
		s = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
		if len(_ts_cache) < 200000:
			_ts_cache[t] = s
	return s


def uid():
	h = "%032x" % rng.getrandbits(128)
	return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20], h[20:32])


def hexs(n):
	return "%0*x" % (n, rng.getrandbits(4 * n))


def safe(n):
	return "".join(choice(SAFE) for _ in range(n))


def rv():
	return str(randint(40_000_000, 98_000_000))


# --------------------------------------------------------------------------
# the waste knob and the realism knobs (set by main() from the command line)

WASTE = 1.0          # --waste-scale / BENCH_WASTE: 1 = a neglected cluster, ~0.22 findings per pod
MF_SHARE = 0.2       # share of objects that carry metadata.managedFields (kubectl >= 1.21 drops them unless --show-managed-fields)
LA_SHARE = 0.35      # share of user-managed objects applied with `kubectl apply` (last-applied annotation)


def waste_m():
	"""Multiplier of the per-container waste shares: they saturate (at most ~94% of the containers waste)."""
	return min(WASTE, 2.0)


def waste_k():
	"""Multiplier of the object-level waste (orphaned claims, unbound volumes, idle load balancers, finished
	Jobs, workloads at zero). Linear up to 2; above it, it makes up for the container-level waste having
	saturated, so that the total number of findings stays ~0.21 x pods x WASTE (10x the waste, ~10x the
	findings; what kopilot finds at 150,000 pods and WASTE 1 is ~32,000)."""
	return (0.21 * WASTE - 0.058 * waste_m()) / 0.152


# --------------------------------------------------------------------------
# metadata.managedFields (fieldsV1 trees, as the API server keeps them) and
# kubectl.kubernetes.io/last-applied-configuration

# list fields the API merges by key (their items appear as k:{...} in fieldsV1)
_LIST_KEYS = {"containers": ("name",), "initContainers": ("name",), "env": ("name",), "volumes": ("name",),
              "ephemeralContainers": ("name",), "volumeMounts": ("mountPath",), "conditions": ("type",),
              "ownerReferences": ("uid",), "podIPs": ("ip",), "hostIPs": ("ip",), "imagePullSecrets": ("name",),
              "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable")}
_PORT_KEYS = {"ports"}  # containers: containerPort+protocol; services: port+protocol
_SETS = {"finalizers"}


def fields_v1(o, top=True):
	"""The fieldsV1 tree of a (part of an) object: every field its manager set."""
	out = {} if top else {".": {}}
	for k, v in o.items():
		if isinstance(v, dict):
			out["f:" + k] = fields_v1(v, False) if v else {}
		elif isinstance(v, list) and v and isinstance(v[0], dict) and (k in _LIST_KEYS or k in _PORT_KEYS):
			sub = {".": {}}
			for it in v:
				if k in _PORT_KEYS:
					pk = ("containerPort", "protocol") if "containerPort" in it else ("port", "protocol")
				else:
					pk = _LIST_KEYS[k]
				key = "k:" + json.dumps({x: it.get(x) for x in pk if x in it}, separators=(",", ":"))
				sub[key] = fields_v1(it, False)
			out["f:" + k] = sub
		elif isinstance(v, list) and k in _SETS:
			out["f:" + k] = dict({".": {}}, **{"v:" + json.dumps(x): {} for x in v})
		else:
			out["f:" + k] = {}
	return out


def mf_entry(manager, fields, t, api="v1", op="Update", sub=None):
	e = {"apiVersion": api, "fieldsType": "FieldsV1", "fieldsV1": fields, "manager": manager, "operation": op,
	     "time": t if isinstance(t, str) else ts(t)}
	if sub:
		e["subresource"] = sub
	return e


def _pick(d, keys):
	return {k: d[k] for k in keys if k in d and d[k] not in (None, {}, [])}


USER_MANAGERS = [("helm", "Update"), ("argocd-controller", "Apply"), ("kustomize-controller", "Apply")]
DEFAULTED = {"terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "dnsPolicy", "schedulerName",
             "restartPolicy", "progressDeadlineSeconds", "revisionHistoryLimit", "creationTimestamp",
             "terminationGracePeriodSeconds", "sessionAffinity", "internalTrafficPolicy", "ipFamilies",
             "ipFamilyPolicy", "clusterIP", "clusterIPs", "volumeMode", "volumeName", "podManagementPolicy",
             "persistentVolumeClaimRetentionPolicy", "updateStrategy", "strategy", "successThreshold",
             "timeoutSeconds", "periodSeconds", "failureThreshold", "scheme", "protocol", "defaultMode"}


def _applied(o):
	if isinstance(o, dict):
		return {k: _applied(v) for k, v in o.items() if k not in DEFAULTED and v not in ({}, None)}
	if isinstance(o, list):
		return [_applied(v) for v in o]
	return o


def decorate(obj, user=True, ctrl="kube-controller-manager", api=None, status_mgr=None, extra=None):
	"""Adds what a real object of a real cluster carries: for a user-managed object (user=True),
	last-applied-configuration on LA_SHARE of them (client-side `kubectl apply`; the others come from Helm,
	Argo CD or Flux); managedFields on MF_SHARE of all objects. Call after the object is complete."""
	md = obj["metadata"]
	api = api or obj.get("apiVersion", "v1")
	created = md.get("creationTimestamp")
	applied = user and R() < LA_SHARE
	if applied:
		STATS["last_applied_objects"] += 1
		la = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
		      "metadata": dict({"annotations": {}}, **_pick(md, ("labels", "name", "namespace")))}
		for k in ("spec", "data", "type"):
			if k in obj and isinstance(obj[k], dict):
				la[k] = _applied(obj[k])
		md.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = dumps(la) + "\n"
	if R() >= MF_SHARE:
		return obj
	STATS["managed_fields_objects"] += 1
	entries = []
	if user:
		mgr, op = ("kubectl-client-side-apply", "Update") if applied else choice(USER_MANAGERS)
		f = {"f:metadata": fields_v1(_pick(md, ("labels", "annotations")))}
		for k in ("spec", "data", "parameters", "provisioner", "reclaimPolicy", "volumeBindingMode",
		          "allowVolumeExpansion", "type"):
			if k in obj and obj[k] not in (None, {}, []):
				f["f:" + k] = fields_v1(obj[k]) if isinstance(obj[k], dict) else {}
		entries.append(mf_entry(mgr, f, created, api, op))
	else:
		f = {"f:metadata": fields_v1(_pick(md, ("annotations", "finalizers", "generateName", "labels",
		                                        "ownerReferences")))}
		for k in ("spec", "endpoints", "ports", "addressType"):
			if k in obj and obj[k] not in (None, {}, []):
				f["f:" + k] = fields_v1(obj[k]) if isinstance(obj[k], dict) else (
					fields_v1({k: obj[k]})["f:" + k] if k == "ports" else {})
		entries.append(mf_entry(ctrl, f, created, api))
	if extra:
		entries.extend(extra)
	st = obj.get("status")
	if isinstance(st, dict) and st and st != {"loadBalancer": {}}:
		entries.append(mf_entry(status_mgr or "kube-controller-manager", {"f:status": fields_v1(st)},
		                        NOW - randint(60, 3 * DAY), api, sub="status"))
	md["managedFields"] = entries
	return obj


# Placeholders in templates: "@@KEY@@" inside a JSON string, "##KEY##" as a whole JSON value (numbers).
_PH = re.compile(r'"##(\w+)##"|@@(\w+)@@')


def compile_tpl(obj):
	s = dumps(obj).replace("{", "{{").replace("}", "}}")
	return _PH.sub(lambda m: "{" + (m.group(1) or m.group(2)) + "}", s)


def meta(ns, name, created, labels=None, annotations=None, owner=None, generate_name=None, generation=None,
         finalizers=None, uid_=None):
	m = {"creationTimestamp": ts(created) if isinstance(created, int) else created, "name": name,
	     "resourceVersion": rv(), "uid": uid_ or uid()}
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


# --------------------------------------------------------------------------
# quantities and container profiles

CPU_REQ = [(50, "50m"), (100, "100m"), (200, "200m"), (250, "250m"), (500, "500m"), (1000, "1"), (2000, "2")]
CPU_W = [10, 22, 20, 16, 18, 10, 4]
MEM_REQ = [(64, "64Mi"), (128, "128Mi"), (256, "256Mi"), (512, "512Mi"), (1024, "1Gi"), (2048, "2Gi"), (4096, "4Gi")]
MEM_W = [6, 14, 22, 24, 20, 10, 4]
MI = 2 ** 20

APPS = ["cart", "checkout", "ledger", "payments", "fraud", "search", "index", "catalog", "pricing", "promo",
        "inventory", "orders", "shipping", "returns", "billing", "invoice", "auth", "session", "profile", "users",
        "notify", "email", "sms", "push", "media", "thumbnail", "upload", "feed", "ranking", "recommend",
        "reviews", "ratings", "geo", "tax", "currency", "quotes", "reports", "export", "audit", "ledger2",
        "gateway", "bff", "graphql", "webhooks", "scheduler", "dispatch", "tracking", "loyalty", "coupons", "chat"]
ROLES = ["api", "worker", "consumer", "web", "grpc", "sync", "cron", "indexer", "cache", "proxy", "service",
         "processor", "writer", "reader", "router"]
TEAMS = ["checkout", "payments", "search", "web", "data", "ml", "identity", "growth", "logistics", "catalog",
         "platform", "mobile", "ads", "media", "support", "finance", "risk", "partners", "content", "infra"]
ENVS = ["prod", "prod-eu", "prod-us", "canary", "staging", "qa", "dev", "perf", "sandbox", "batch", "edge",
        "internal", "preview"]
SIDECARS = [("envoy", "envoyproxy/envoy:v1.31.2", 9901, "admin"),
            ("istio-proxy", "docker.io/istio/proxyv2:1.23.2", 15090, "http-envoy-prom"),
            ("log-shipper", "fluent/fluent-bit:3.1.9", 2020, "metrics"),
            ("metrics-exporter", "quay.io/prometheus/statsd-exporter:v0.27.1", 9102, "metrics")]

STATS = {"template_containers": 0,
         "profiles": {"over": 0, "well": 0, "under": 0, "oom": 0, "throttled": 0, "idle": 0, "norequests": 0},
         "usage_entries": 0, "gone_pods": 0, "orphan_pvcs": 0, "unmeasured_workloads": 0,
         "planted": {"idle_workloads": 0, "orphan_pvcs": 0, "orphan_pvcs_retain": 0, "orphan_pvcs_young": 0,
                     "unbound_pvs": 0, "unbound_pvs_young": 0, "idle_lbs": 0, "idle_lbs_young": 0,
                     "finished_jobs": 0, "finished_jobs_young": 0, "finished_job_pods": 0,
                     "zero_replica": 0, "light_nodes": 0, "protected": 0},
         "managed_fields_objects": 0, "last_applied_objects": 0}


def pick_profile():
	"""A container's usage profile; the waste shares scale with --waste-scale (and saturate)."""
	m = waste_m()
	x = R()
	for prof, share in (("over", 0.35 * m), ("under", 0.05 * m), ("oom", 0.02 * m), ("throttled", 0.04 * m),
	                    ("norequests", 0.02)):
		if x < share:
			return prof
		x -= share
	return "well"


SEC_CTX = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True,
           "runAsNonRoot": True}


def wpick(items, weights):
	return rng.choices(items, weights)[0]


def make_container(name, image, port=None, port_name="http", probe=True, sidecar=False, prof=None):
	"""A container of a pod template plus its usage profile (what the busiest pod uses)."""
	if sidecar:
		cpu, cpu_s = wpick(CPU_REQ[:4], [30, 40, 20, 10])
		mem, mem_s = wpick(MEM_REQ[:4], [30, 40, 20, 10])
	else:
		cpu, cpu_s = wpick(CPU_REQ, CPU_W)
		mem, mem_s = wpick(MEM_REQ, MEM_W)
	prof = prof or pick_profile()
	req = {} if prof == "norequests" else {"cpu": cpu_s, "memory": mem_s}
	lim = {}
	mem_lim = None
	cpu_lim = None
	if prof != "norequests":
		if R() < 0.75:
			if R() < 0.6:
				lim["memory"], mem_lim = mem_s, mem * MI
			else:
				lim["memory"], mem_lim = "%dMi" % (mem * 2), mem * 2 * MI
		if prof == "throttled":
			cpu_lim = cpu if R() < 0.5 else cpu * 3 // 2
		elif R() < 0.35:
			cpu_lim = cpu * 2
		if cpu_lim:
			lim["cpu"] = cpu_s if cpu_lim == cpu else "%dm" % cpu_lim
	res = {}
	if req:
		res["requests"] = req
	if lim:
		res["limits"] = lim
	spec = {"image": image, "imagePullPolicy": "IfNotPresent", "name": name, "resources": res,
	        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
	if port:
		spec["ports"] = [{"containerPort": port, "name": port_name, "protocol": "TCP"}]
		if probe and port_name == "http":
			probe_o = {"failureThreshold": 3, "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
			           "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1}
			spec["readinessProbe"] = probe_o
			if R() < 0.6:
				spec["livenessProbe"] = dict(probe_o, failureThreshold=6, initialDelaySeconds=15)
		if probe and port_name == "http" and R() < 0.25:
			spec["startupProbe"] = {"failureThreshold": 30, "httpGet": {"path": "/healthz", "port": "http",
			                        "scheme": "HTTP"}, "periodSeconds": 5, "successThreshold": 1, "timeoutSeconds": 1}
	if not sidecar and R() < 0.5:
		spec["env"] = [{"name": "LOG_LEVEL", "value": choice(["info", "warn", "debug"])},
		               {"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"divisor": "1", "resource": "limits.cpu"}}},
		               {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
		               {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
		               {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.monitoring:4317"}]
		if R() < 0.4:
			spec["envFrom"] = [{"configMapRef": {"name": name + "-env"}}, {"secretRef": {"name": name + "-secrets"}}]
	if R() < 0.6:
		spec["securityContext"] = SEC_CTX
	# usage of the busiest pod: (cpu p95 millicores, memory max bytes)
	if prof == "idle":
		use = (0.5 + 3.5 * R(), MI * (20 + 130 * R()))
	elif prof == "throttled":
		use = (cpu * (0.6 + 0.3 * R()), mem * MI * (0.6 + 0.2 * R()))
	elif prof == "over":
		use = (cpu * (0.04 + 0.3 * R()), mem * MI * (0.12 + 0.35 * R()))
	elif prof == "well":
		use = (cpu * (0.7 + 0.15 * R()), mem * MI * (0.7 + 0.12 * R()))
	elif prof == "under":
		use = (cpu * (1.3 + 0.7 * R()), mem * MI * (1.05 + 0.4 * R()))
	elif prof == "oom":
		use = (cpu * (0.5 + 0.3 * R()), mem_lim or mem * MI)
	else:
		use = (5 + 300 * R(), MI * (40 + 600 * R()))
	STATS["profiles"][prof] += 1
	if mem_lim and prof != "oom":
		use = (use[0], min(use[1], mem_lim * 0.97))
	return {"spec": spec, "name": name, "prof": prof, "use": use, "cpu_lim": cpu_lim, "mem_lim": mem_lim,
	        "cpu": cpu if req else None, "mem": mem * MI if req else None}


def init_container():
	c = make_container("wait-for-deps", "busybox:1.36.1", sidecar=True)
	c["spec"]["command"] = ["sh", "-c", "until nc -z db 5432; do sleep 2; done"]
	c["spec"]["resources"] = {"limits": {"cpu": "50m", "memory": "32Mi"}, "requests": {"cpu": "10m", "memory": "32Mi"}}
	STATS["profiles"][c["prof"]] -= 1
	c["prof"] = "init"
	c["use"] = (2.0, 4 * MI)
	c["cpu_lim"] = 50
	c["mem_lim"] = 32 * MI
	c["cpu"], c["mem"] = 10, 32 * MI
	return c


def full_image(image):
	repo = image.split(":")[0]
	if "/" not in repo:
		return "docker.io/library/" + image
	if "." not in repo.split("/")[0]:
		return "docker.io/" + image
	return image


_image_ids = {}


def image_id(image):
	s = _image_ids.get(image)
	if s is None:
		repo = full_image(image).rsplit(":", 1)[0]
		s = _image_ids[image] = "%s@sha256:%s" % (repo, hexs(64))
	return s


# --------------------------------------------------------------------------
# nodes

class Node:
	__slots__ = ("name", "ip", "zone", "created", "itype", "free_cpu", "free_mem", "cap_cpu", "cap_mem", "light")


SHAPES = {"m5.4xlarge": ("16", 64468976, 15890, 61779952, "234"), "m5.8xlarge": ("32", 130850072, 31850, 126459416, "234")}
DS_RESERVE = (600, 900 * MI)  # what the four DaemonSets' pods request on every node, about


class Placer:
	"""A scheduler, roughly: each pod goes to the emptiest of a few random nodes with room for its requests
	(normal nodes are filled up to 95% of allocatable). A share of the nodes (min(0.2, 0.05 x waste)) is "light": the
	scheduler sends them few pods and never fills them past 30% (nodes left behind by a scale-down that
	the autoscaler does not remove: underutilized-node findings)."""

	def __init__(self, nodes):
		self.normal = [nd for nd in nodes if not nd.light]
		self.light = [nd for nd in nodes if nd.light]
		self.p_light = 0.25 * len(self.light) / (0.25 * len(self.light) + len(self.normal)) if self.light else 0

	def pick(self, w):
		cpu, mem = w.get("req") or pod_request(w)
		best = fit = None
		for _ in range(4):
			pool = self.light if self.p_light and R() < self.p_light else self.normal
			nd = pool[randint(0, len(pool) - 1)]
			if nd.free_cpu - cpu >= nd.cap_cpu and nd.free_mem - mem >= nd.cap_mem:
				# of the nodes that fit, the emptiest (the default scheduler's LeastAllocated scoring):
				# normal nodes end up evenly full
				if fit is None or nd.free_cpu / SHAPES[nd.itype][2] > fit.free_cpu / SHAPES[fit.itype][2]:
					fit = nd
			elif not nd.light and (best is None or nd.free_cpu > best.free_cpu):
				best = nd
		best = fit or best
		if best is None:
			best = self.normal[randint(0, len(self.normal) - 1)]
		best.free_cpu -= cpu
		best.free_mem -= mem
		return best


def pod_request(w):
	cpu = sum(c["cpu"] or 0 for c in w["containers"])
	mem = sum(c["mem"] or 0 for c in w["containers"])
	for c in w["init"]:
		cpu, mem = max(cpu, c["cpu"] or 0), max(mem, c["mem"] or 0)
	w["req"] = (cpu, mem)
	return w["req"]


PLACER = None


def build_nodes(n):
	nodes = []
	for i in range(n):
		nd = Node()
		a, b = 1 + i // 250, 2 + i % 250
		nd.ip = "10.%d.%d.%d" % (a // 256, a % 256, b)
		nd.name = "ip-%s.%s.compute.internal" % (nd.ip.replace(".", "-"), REGION)
		nd.zone = ZONES[i % 3]
		nd.created = NOW - randint(2 * DAY, 60 * DAY)
		nd.itype = "m5.4xlarge" if i % 4 else "m5.8xlarge"
		al_cpu, al_mem = SHAPES[nd.itype][2], SHAPES[nd.itype][3] * 1024
		nd.free_cpu, nd.free_mem = al_cpu - DS_RESERVE[0], al_mem - DS_RESERVE[1]
		nd.light = False
		nd.cap_cpu, nd.cap_mem = 0.05 * al_cpu, 0.05 * al_mem  # room that stays free
		nodes.append(nd)
	return nodes


NODE_IMAGES = [("%s/amazon-k8s-cni:v1.18.3-eksbuild.2" % EKS_ECR, 40312345),
               ("%s/eks/kube-proxy:v1.30.3-minimal-eksbuild.5" % EKS_ECR, 32124567),
               ("docker.io/fluent/fluent-bit:3.1.9", 38012345), ("quay.io/prometheus/node-exporter:v1.8.2", 11612345),
               ("docker.io/envoyproxy/envoy:v1.31.2", 61234567), ("%s/eks/pause:3.5" % EKS_ECR, 298765)]


def node_obj(nd):
	cap_cpu, cap_mem, al_cpu, al_mem, maxpods = SHAPES[nd.itype]
	iid = "i-0" + hexs(16)
	hb = ts(NOW - randint(5, 50))
	labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": nd.itype,
	          "beta.kubernetes.io/os": "linux", "eks.amazonaws.com/capacityType": "ON_DEMAND",
	          "eks.amazonaws.com/nodegroup": "general-" + nd.itype.split(".")[1],
	          "eks.amazonaws.com/nodegroup-image": "ami-0ca5765501f1e0b20",
	          "failure-domain.beta.kubernetes.io/region": REGION, "failure-domain.beta.kubernetes.io/zone": nd.zone,
	          "k8s.io/cloud-provider-aws": "52207be5229857e8e998fee3b3b4f5a3", "kubernetes.io/arch": "amd64",
	          "kubernetes.io/hostname": nd.name, "kubernetes.io/os": "linux",
	          "node.kubernetes.io/instance-type": nd.itype, "topology.ebs.csi.aws.com/zone": nd.zone,
	          "topology.k8s.aws/zone-id": "euw1-az%d" % (ZONES.index(nd.zone) + 1),
	          "topology.kubernetes.io/region": REGION, "topology.kubernetes.io/zone": nd.zone}
	conds = [{"lastHeartbeatTime": hb, "lastTransitionTime": ts(nd.created), "message": m, "reason": r,
	          "status": s, "type": t}
	         for t, s, r, m in [
		         ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		         ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		         ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		         ("Ready", "True", "KubeletReady", "kubelet is posting ready status")]]
	return {"apiVersion": "v1", "kind": "Node",
	        "metadata": meta(None, nd.name, nd.created, labels=labels, annotations={
		        "alpha.kubernetes.io/provided-node-ip": nd.ip,
		        "csi.volume.kubernetes.io/nodeid": dumps({"ebs.csi.aws.com": iid}),
		        "node.alpha.kubernetes.io/ttl": "0",
		        "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
	        "spec": {"providerID": "aws:///%s/%s" % (nd.zone, iid)},
	        "status": {
		        "addresses": [{"address": nd.ip, "type": "InternalIP"}, {"address": nd.name, "type": "InternalDNS"},
		                      {"address": nd.name, "type": "Hostname"}],
		        "allocatable": {"cpu": "%dm" % al_cpu, "ephemeral-storage": "95491281146", "hugepages-1Gi": "0",
		                        "hugepages-2Mi": "0", "memory": "%dKi" % al_mem, "pods": maxpods},
		        "capacity": {"cpu": cap_cpu, "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0",
		                     "hugepages-2Mi": "0", "memory": "%dKi" % cap_mem, "pods": maxpods},
		        "conditions": conds,
		        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
		        "images": [{"names": ["%s@sha256:%s" % (i.rsplit(":", 1)[0], hexs(64)), i],
		                    "sizeBytes": sz} for i, sz in NODE_IMAGES],
		        "nodeInfo": {"architecture": "amd64", "bootID": uid(), "containerRuntimeVersion": "containerd://1.7.22",
		                     "kernelVersion": "6.1.112-122.189.amzn2023.x86_64", "kubeProxyVersion": K8S_VERSION,
		                     "kubeletVersion": K8S_VERSION, "machineID": hexs(32), "operatingSystem": "linux",
		                     "osImage": "Amazon Linux 2023.6.20241031", "systemUUID": "ec2" + hexs(29)}}}


# --------------------------------------------------------------------------
# output: one writer per resource, items streamed in order

class ListWriter:
	def __init__(self, path):
		self.f = open(path, "w", encoding="utf-8", buffering=1 << 20)
		self.f.write('{"apiVersion":"v1","items":[')
		self.n = 0
		self.bytes = 0

	def write_sorted(self, items):
		"""items: list of (name, json text)."""
		if not items:
			return
		items.sort(key=lambda t: t[0])
		text = ",".join(t[1] for t in items)
		if self.n:
			self.f.write(",")
		self.f.write(text)
		self.n += len(items)

	def close(self):
		self.f.write('],"kind":"List","metadata":{"resourceVersion":""}}\n')
		self.f.close()


# --------------------------------------------------------------------------
# usage entries

usage_out = None
usage_n = 0
USAGE_FMT = ('{"container":"%s","cpu_millicores":{"max":%.1f,"p50":%.1f,"p95":%.1f,"p99":%.1f},%s'
             '"first_seen":"%s","last_seen":"%s","memory_bytes":{"max":%d,"p50":%d},%s"namespace":"%s",'
             '"oom_kills":%d,%s"pod":"%s","restarts":%d,"samples":%d}')


def usage_entry(ns, pod, c, owner_kind, owner_name, start, end, factor, live=True):
	global usage_n
	first = max(start, WSTART)
	last = min(end, LAST_SAMPLE)
	first -= first % 60
	last -= last % 60
	if last < first:
		last = first
	samples = (last - first) // STEP + 1
	cpu95, memmax = c["use"]
	cpu95 *= factor
	oom = 0
	if c["prof"] == "oom" and live:
		oom = randint(1, 6)
	else:
		memmax *= factor
	if c["prof"] == "idle":
		memmax = c["use"][1]  # flat memory: the same in every pod
	p50 = cpu95 * (0.45 + 0.2 * R())
	p99 = cpu95 * (1.08 + 0.2 * R())
	mx = p99 * (1.05 + 0.4 * R())
	thr = ""
	if c["cpu_lim"]:
		lim = c["cpu_lim"]
		p99 = min(p99, lim * 0.995)
		mx = min(max(mx, p99), lim)
		cpu95 = min(cpu95, p99)
		p50 = min(p50, cpu95)
		thr = '"cpu_throttled_ratio":%.4f,' % (0.3 + 0.3 * R() if c["prof"] == "under" else
		                                       0.12 + 0.35 * R() if c["prof"] == "throttled" else 0.03 * R())
	oomlim = '"memory_limit_at_oom_bytes":%d,' % c["mem_lim"] if oom and c["mem_lim"] else ""
	owner = '"owner":{"kind":"%s","name":"%s"},' % (owner_kind, owner_name) if owner_kind else ""
	mp50 = memmax * (0.94 + 0.03 * R()) if c["prof"] == "idle" else memmax * (0.72 + 0.2 * R())
	usage_out.append(USAGE_FMT % (c["name"], mx, p50, cpu95, p99, thr, ts(first), ts(last), memmax,
	                              mp50, oomlim, ns, oom, owner, pod,
	                              oom if live else 0, samples))
	usage_n += 1


# --------------------------------------------------------------------------
# pods

TOLERATIONS = [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                "tolerationSeconds": 300},
               {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
                "tolerationSeconds": 300}]
DS_TOLERATIONS = [{"operator": "Exists"}] + [
	{"effect": e, "key": "node.kubernetes.io/" + k, "operator": "Exists"}
	for k, e in [("not-ready", "NoExecute"), ("unreachable", "NoExecute"), ("disk-pressure", "NoSchedule"),
	             ("memory-pressure", "NoSchedule"), ("pid-pressure", "NoSchedule"), ("unschedulable", "NoSchedule")]]


def qos(cs):
	if all(not c["spec"]["resources"] for c in cs):
		return "BestEffort"
	for c in cs:
		r = c["spec"]["resources"]
		if r.get("requests") != r.get("limits") or set(r.get("limits", {})) != {"cpu", "memory"}:
			return "Burstable"
	return "Guaranteed"


def pod_template_compiled(w, labels, owner_api, owner_kind, owner_name, owner_uid, generate_name, phase="Running"):
	"""One str.format template for all pods of a workload (or one ReplicaSet)."""
	cspecs = []
	for i, c in enumerate(w["containers"]):
		s = json.loads(dumps(c["spec"]))
		if w.get("irsa"):
			# the EKS pod identity webhook's mutation (IRSA): env and a projected token on every container
			s.setdefault("env", []).extend([
				{"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
				{"name": "AWS_DEFAULT_REGION", "value": REGION}, {"name": "AWS_REGION", "value": REGION},
				{"name": "AWS_ROLE_ARN", "value": w["irsa"]},
				{"name": "AWS_WEB_IDENTITY_TOKEN_FILE",
				 "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}])
			s.setdefault("volumeMounts", []).append({"mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount",
			                                         "name": "aws-iam-token", "readOnly": True})
		s.setdefault("volumeMounts", []).append({"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
		                                         "name": "kube-api-access-@@AV@@", "readOnly": True})
		cspecs.append(s)
	spec = {"containers": cspecs, "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "nodeName": "@@NODE@@",
	        "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
	        "restartPolicy": w.get("restart", "Always"), "schedulerName": "default-scheduler",
	        "securityContext": {}, "serviceAccount": w.get("sa", "default"),
	        "serviceAccountName": w.get("sa", "default"), "terminationGracePeriodSeconds": 30,
	        "tolerations": TOLERATIONS}
	if w["init"]:
		spec["initContainers"] = []
		for c in w["init"]:
			s = json.loads(dumps(c["spec"]))
			s["volumeMounts"] = [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
			                      "name": "kube-api-access-@@AV@@", "readOnly": True}]
			spec["initContainers"].append(s)
	if w["ns"] == "kube-system":
		crit = "system-node-critical" if w["kind"] == "DaemonSet" else "system-cluster-critical"
		spec["priorityClassName"] = crit
		spec["priority"] = 2000001000 if w["kind"] == "DaemonSet" else 2000000000
	if w["kind"] == "DaemonSet":
		spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
			{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["@@NODE@@"]}]}]}}}
		spec["tolerations"] = DS_TOLERATIONS
		if w.get("host_network"):
			spec["hostNetwork"] = True
			spec["dnsPolicy"] = "ClusterFirstWithHostNet"
	if w["kind"] == "StatefulSet":
		spec["hostname"] = "@@NAME@@"
		spec["subdomain"] = w["name"]
	vols = []
	if w["kind"] == "StatefulSet":
		vols += [{"name": t, "persistentVolumeClaim": {"claimName": "%s-@@NAME@@" % t}} for t, _ in w["claims"]]
	vols += [json.loads(dumps(v)) for v in w.get("volumes", [])]
	if w.get("irsa"):
		vols.append({"name": "aws-iam-token", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
			"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}})
	vols.append({"name": "kube-api-access-@@AV@@", "projected": {"defaultMode": 420, "sources": [
		{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
		{"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
		{"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
		                            "path": "namespace"}]}}]}})
	spec["volumes"] = vols
	if w.get("pod_sec"):
		spec["securityContext"] = {"fsGroup": 65532, "runAsGroup": 65532, "runAsNonRoot": True, "runAsUser": 65532,
		                           "seccompProfile": {"type": "RuntimeDefault"}}
	if w.get("spread"):
		spec["topologySpreadConstraints"] = [{"labelSelector": {"matchLabels": {"app.kubernetes.io/name": w["name"]}},
		                                      "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
		                                      "whenUnsatisfiable": "ScheduleAnyway"}]
	done = phase != "Running"
	cstat = []
	for i, c in enumerate(w["containers"]):
		st = {"containerID": "containerd://@@C%d@@" % i, "image": full_image(c["spec"]["image"]),
		      "imageID": image_id(c["spec"]["image"]), "lastState": {}, "name": c["name"], "ready": not done,
		      "restartCount": 0, "started": not done}
		if done:
			st["state"] = {"terminated": {"containerID": "containerd://@@C%d@@" % i, "exitCode": 0,
			                              "finishedAt": "@@TF@@", "reason": "Completed", "startedAt": "@@TR@@"}}
		else:
			st["state"] = {"running": {"startedAt": "@@TR@@"}}
			if c["prof"] == "oom":
				st["restartCount"] = "##RC##"
				st["lastState"] = {"terminated": {"containerID": "containerd://@@CO%d@@" % i, "exitCode": 137,
				                                  "finishedAt": "@@TO@@", "reason": "OOMKilled", "startedAt": "@@TR@@"}}
				st["state"] = {"running": {"startedAt": "@@TO@@"}}
		cstat.append(st)
	conds = [
		{"lastProbeTime": None, "lastTransitionTime": "@@TF@@" if done else "@@TR@@",
		 "status": "False" if done else "True", "type": "PodReadyToStartContainers"},
		{"lastProbeTime": None, "lastTransitionTime": "@@TS@@", "status": "True", "type": "Initialized"},
		{"lastProbeTime": None, "lastTransitionTime": "@@TF@@" if done else "@@TRD@@",
		 "status": "False" if done else "True", "type": "Ready"},
		{"lastProbeTime": None, "lastTransitionTime": "@@TF@@" if done else "@@TRD@@",
		 "status": "False" if done else "True", "type": "ContainersReady"},
		{"lastProbeTime": None, "lastTransitionTime": "@@TS@@", "status": "True", "type": "PodScheduled"}]
	if done:
		for cnd in conds[1:4]:
			cnd["reason"] = "PodCompleted"
	ip = "@@HIP@@" if w.get("host_network") else "@@PIP@@"
	status = {"conditions": conds, "containerStatuses": cstat, "hostIP": "@@HIP@@", "hostIPs": [{"ip": "@@HIP@@"}],
	          "phase": phase, "podIP": ip, "podIPs": [{"ip": ip}], "qosClass": qos(w["containers"] + w["init"]),
	          "startTime": "@@TS@@"}
	if w["init"]:
		status["initContainerStatuses"] = [{
			"containerID": "containerd://@@I%d@@" % i, "image": full_image(c["spec"]["image"]),
			"imageID": image_id(c["spec"]["image"]), "lastState": {}, "name": c["name"], "ready": True,
			"restartCount": 0, "started": False, "state": {"terminated": {
				"containerID": "containerd://@@I%d@@" % i, "exitCode": 0, "finishedAt": "@@TS@@",
				"reason": "Completed", "startedAt": "@@TS@@"}}} for i, c in enumerate(w["init"])]
	md = {"creationTimestamp": "@@TS@@", "labels": labels, "name": "@@NAME@@", "namespace": w["ns"],
	      "resourceVersion": "@@RV@@", "uid": "@@UID@@"}
	if owner_kind:
		md["ownerReferences"] = [{"apiVersion": owner_api, "blockOwnerDeletion": True, "controller": True,
		                          "kind": owner_kind, "name": owner_name, "uid": owner_uid}]
	if generate_name:
		md["generateName"] = generate_name
	if w.get("pod_annotations") or w.get("restarted"):
		md["annotations"] = dict(w.get("pod_annotations") or {}, **(w.get("restarted") or {}))
	if w.get("mf"):
		# what `kubectl get` prints with --show-managed-fields (or a dump read from the API directly):
		# the controller that created the pod owns its spec, the kubelet its status
		own = {k: md[k] for k in ("annotations", "generateName", "labels", "ownerReferences") if k in md}
		sp = {k: v for k, v in spec.items() if k != "nodeName"}
		kcm = "kube-controller-manager" if owner_kind else "kubectl-run"
		md["managedFields"] = [
			mf_entry(kcm, {"f:metadata": fields_v1(own), "f:spec": fields_v1(sp)}, "@@TS@@"),
			mf_entry("kubelet", {"f:status": fields_v1(status)}, "@@TRD@@" if not done else "@@TF@@", sub="status")]
	return compile_tpl({"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec, "status": status})


pod_seq = 0


class Emit:
	"""Per-namespace buffers: resource -> list of (name, text)."""

	def __init__(self):
		self.items = {r: [] for r in RESOURCES}
		self.pods = []  # (name, uid, ip, node) for endpoint slices

	def add(self, res, name, obj_or_text, **decor):
		if not isinstance(obj_or_text, str):
			kw = dict(DECOR.get(res, {}), **decor)
			obj_or_text = dumps(decorate(obj_or_text, **kw))
		self.items[res].append((name, obj_or_text))


# who manages what, per resource (see decorate())
DECOR = {"replicasets": {"user": False}, "jobs": {"user": False},
         "endpointslices": {"user": False, "ctrl": "endpointslice-controller.k8s.io"},
         "horizontalpodautoscalers": {"api": "autoscaling/v2"}}


def emit_pod(em, w, tpl, name, node, started, phase="Running", finished=None, extra=None):
	global pod_seq
	pod_seq += 1
	k = pod_seq
	pip = "10.%d.%d.%d" % (128 + (k >> 16 & 127), k >> 8 & 255, k & 255)
	v = {"NAME": name, "UID": uid(), "RV": rv(), "NODE": node.name, "HIP": node.ip, "PIP": pip, "TS": ts(started),
	     "TR": ts(started + 6), "TRD": ts(started + 6 + randint(5, 40)), "AV": safe(5)}
	for i in range(len(w["containers"])):
		v["C%d" % i] = hexs(64)
	if phase != "Running":
		v["TF"] = ts(finished)
	elif w["has_oom"]:
		v["RC"] = randint(1, 6)
		v["TO"] = ts(NOW - randint(3600, 40 * 3600))
		for i in range(len(w["containers"])):
			v["CO%d" % i] = hexs(64)
	for i in range(len(w["init"])):
		v["I%d" % i] = hexs(64)
	if extra:
		v.update(extra)
	em.add("pods", name, tpl.format_map(v))
	if phase == "Running":
		em.pods.append((w["name"], name, v["UID"], node.ip if w.get("host_network") else pip, node))


def pod_usage(w, pod, owner_kind, owner_name, start, end, index, live=True):
	if w.get("unmeasured"):
		return
	f = 1.0 if index == 0 else 0.85 + 0.12 * R()
	for c in w["containers"]:
		usage_entry(w["ns"], pod, c, owner_kind, owner_name, start, end, f, live)
	if start >= WSTART:
		for c in w["init"]:
			usage_entry(w["ns"], pod, c, owner_kind, owner_name, start, start + 60 + randint(0, 60), 1.0, live)


# --------------------------------------------------------------------------
# workloads

def new_workload(ns, kind, name, team, replicas, containers=None, init=None, idle=False):
	"""idle: every container of it does close to nothing (an idle-workload finding, planted)."""
	labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns}
	if R() < 0.5:
		labels["team"] = team
	prof = "idle" if idle else None
	if containers is None:
		port = 8080 if R() < 0.85 else None
		containers = [make_container(name.split("-")[-1] if R() < 0.3 else name,
		                             "%s/%s/%s:%s" % (ECR, team, name, "2026.%02d.%02d-%s" % (randint(1, 11), randint(1, 28), hexs(7))),
		                             port=port, prof=prof)]
		x = R()
		if x < 0.25:
			s = SIDECARS[randint(0, len(SIDECARS) - 1)]
			containers.append(make_container(s[0], s[1], port=s[2], port_name=s[3], probe=False, sidecar=True, prof=prof))
		if x < 0.05:
			s = SIDECARS[2] if containers[1]["name"] != "log-shipper" else SIDECARS[3]
			containers.append(make_container(s[0], s[1], port=s[2], port_name=s[3], probe=False, sidecar=True, prof=prof))
	if idle:
		# flat and alike: the spread between the highest peak and the lowest median of all its containers
		# stays under idle.memory_variation (16Mi)
		base = MI * (20 + 100 * R())
		for c in containers:
			c["use"] = (c["use"][0], base + 4 * MI * R())
	if init is None:
		init = [init_container()] if R() < 0.15 and not idle else []
	STATS["template_containers"] += len(containers)
	w = {"ns": ns, "kind": kind, "name": name, "team": team, "replicas": replicas, "containers": containers,
	     "init": init, "labels": labels, "has_oom": any(c["prof"] == "oom" for c in containers)}
	if R() < 0.3:
		w["volumes"] = [{"configMap": {"defaultMode": 420, "name": name + "-config"}, "name": "config"}]
		containers[0]["spec"].setdefault("volumeMounts", []).append({"mountPath": "/etc/" + name, "name": "config"})
	if R() < 0.2:
		w["pod_annotations"] = {"prometheus.io/port": "8080", "prometheus.io/scrape": "true"}
	if ns not in ("kube-system", "monitoring") and R() < 0.4:
		w["irsa"] = "arn:aws:iam::123456789012:role/%s-%s" % (ns, name)
		w["sa"] = name
	w["pod_sec"] = R() < 0.5
	w["spread"] = replicas >= 3 and R() < 0.3
	w["mf"] = R() < MF_SHARE
	if w["mf"]:
		STATS["managed_fields_objects"] += replicas
	return w


def template_spec(w, pod_labels, annotations=None):
	spec = {"containers": [c["spec"] for c in w["containers"]], "dnsPolicy": "ClusterFirst",
	        "restartPolicy": w.get("restart", "Always"), "schedulerName": "default-scheduler", "securityContext": {},
	        "terminationGracePeriodSeconds": 30}
	if w["init"]:
		spec["initContainers"] = [c["spec"] for c in w["init"]]
	if w.get("sa"):
		spec["serviceAccount"] = spec["serviceAccountName"] = w["sa"]
	if w["ns"] == "kube-system":
		spec["priorityClassName"] = "system-node-critical" if w["kind"] == "DaemonSet" else "system-cluster-critical"
	if w["kind"] == "DaemonSet":
		spec["tolerations"] = [{"operator": "Exists"}]
		if w.get("host_network"):
			spec["hostNetwork"] = True
			spec["dnsPolicy"] = "ClusterFirstWithHostNet"
	if w.get("volumes"):
		spec["volumes"] = w["volumes"]
	md = {"creationTimestamp": None, "labels": dict(pod_labels)}
	ann = dict(annotations or {})
	if w.get("pod_annotations"):
		ann.update(w["pod_annotations"])
	if ann:
		md["annotations"] = ann
	return {"metadata": md, "spec": spec}


def build_deployment(em, w, nodes, svc_list):
	ns, name, r = w["ns"], w["name"], w["replicas"]
	labels = w["labels"]
	dep_uid = uid()
	created = NOW - randint(30 * DAY, 900 * DAY)
	x = R()
	if x < 0.01:
		rolled = NOW - randint(2 * 3600, 20 * 3600)  # rolled out today: < 24 h of history
	elif x < 0.35:
		rolled = NOW - randint(DAY + 3600, WINDOW - 3600)  # rollout inside the window
	else:
		rolled = max(created, NOW - randint(WINDOW + DAY, 200 * DAY))
	old_rs = randint(0, 3)
	revision = 1 + old_rs + randint(0, 3)
	restarted = {"kubectl.kubernetes.io/restartedAt": ts(rolled)} if R() < 0.3 else None
	w["restarted"] = restarted
	hashes = [safe(10) for _ in range(old_rs + 1)]
	generation = revision + randint(0, 4)
	tpl = template_spec(w, labels, restarted)
	hpa = None
	if r >= 3 and R() < 0.12:
		hpa = {"min": max(2, r // 2), "max": r * 3, "cpu": choice([60, 70, 75, 80])}
	cur_rs = "%s-%s" % (name, hashes[0])
	dep = {"apiVersion": "apps/v1", "kind": "Deployment",
	       "metadata": meta(ns, name, created, labels=labels, uid_=dep_uid,
	                        annotations={"deployment.kubernetes.io/revision": str(revision)}, generation=generation),
	       "spec": {"progressDeadlineSeconds": 600, "replicas": r, "revisionHistoryLimit": 10,
	                "selector": {"matchLabels": labels},
	                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
	                "template": tpl},
	       "status": {"conditions": [
		       {"lastTransitionTime": ts(rolled + 120), "lastUpdateTime": ts(rolled + 120),
		        "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable",
		        "status": "True", "type": "Available"},
		       {"lastTransitionTime": ts(created), "lastUpdateTime": ts(rolled + 120),
		        "message": 'ReplicaSet "%s" has successfully progressed.' % cur_rs, "reason": "NewReplicaSetAvailable",
		        "status": "True", "type": "Progressing"}], "observedGeneration": generation}}
	if r:
		dep["status"].update({"availableReplicas": r, "readyReplicas": r, "replicas": r, "updatedReplicas": r})
	em.add("deployments", name, dep)

	def rs(h, rev, replicas, t):
		rs_name = "%s-%s" % (name, h)
		rl = dict(labels, **{"pod-template-hash": h})
		rs_uid = uid()
		gen = randint(1, 4)
		o = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
		     "metadata": meta(ns, rs_name, t, labels=rl, owner=("apps/v1", "Deployment", name, dep_uid), generation=gen,
		                      uid_=rs_uid,
		                      annotations={"deployment.kubernetes.io/desired-replicas": str(r),
		                                   "deployment.kubernetes.io/max-replicas": str(r + max(1, (r + 3) // 4)),
		                                   "deployment.kubernetes.io/revision": str(rev)}),
		     "spec": {"replicas": replicas, "selector": {"matchLabels": rl}, "template": template_spec(w, rl, restarted)},
		     "status": {"observedGeneration": gen, "replicas": replicas}}
		if replicas:
			o["status"].update({"availableReplicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas})
		em.add("replicasets", rs_name, o)
		return rs_name, rs_uid, rl

	cur_rs, cur_uid, cur_labels = rs(hashes[0], revision, r, rolled)
	t_old = rolled
	old_names = []
	for i in range(old_rs):
		t_old -= randint(5 * DAY, 60 * DAY)
		old_names.append(rs(hashes[1 + i], revision - 1 - i, 0, t_old)[0])
	ptpl = pod_template_compiled(w, cur_labels, "apps/v1", "ReplicaSet", cur_rs, cur_uid, cur_rs + "-")
	for i in range(r):
		pname = "%s-%s" % (cur_rs, safe(5))
		started = rolled + randint(3, 90)
		emit_pod(em, w, ptpl, pname, PLACER.pick(w), started)
		pod_usage(w, pname, "ReplicaSet", cur_rs, started, NOW, i)
	# a rollout inside the window replaced the previous ReplicaSet's pods: their usage still counts
	if WSTART < rolled and old_names:
		for i in range(r):
			pname = "%s-%s" % (old_names[0], safe(5))
			pod_usage(w, pname, "ReplicaSet", old_names[0], WSTART - randint(DAY, 30 * DAY), rolled + 60, i, live=False)
			STATS["gone_pods"] += 1
	if hpa:
		em.add("horizontalpodautoscalers", name, {
			"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
			"metadata": meta(ns, name, created + 3 * DAY, labels=labels),
			"spec": {"maxReplicas": hpa["max"], "metrics": [{"resource": {"name": "cpu", "target": {
				"averageUtilization": hpa["cpu"], "type": "Utilization"}}, "type": "Resource"}],
			         "minReplicas": hpa["min"],
			         "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}},
			"status": {"conditions": [
				{"lastTransitionTime": ts(NOW - 40 * DAY), "message": "recommended size matches current size",
				 "reason": "ReadyForNewScale", "status": "True", "type": "AbleToScale"},
				{"lastTransitionTime": ts(NOW - 4 * DAY), "message": "the HPA was able to successfully calculate a "
				 "replica count from cpu resource utilization (percentage of request)", "reason": "ValidMetricFound",
				 "status": "True", "type": "ScalingActive"},
				{"lastTransitionTime": ts(NOW - 4 * DAY), "message": "the desired count is within the acceptable range",
				 "reason": "DesiredWithinRange", "status": "False", "type": "ScalingLimited"}],
				"currentMetrics": [{"resource": {"current": {"averageUtilization": randint(10, 90), "averageValue": "%dm" % randint(20, 900)},
				                                 "name": "cpu"}, "type": "Resource"}],
				"currentReplicas": r, "desiredReplicas": r, "lastScaleTime": ts(NOW - randint(3600, 20 * DAY))}})
	if w.get("lb"):
		svc_list.append((name, labels, False, created, "LoadBalancer"))
	elif w["containers"][0]["spec"].get("ports") and R() < 0.8:
		svc_list.append((name, labels, False, created, "LoadBalancer" if R() < 0.04 else "ClusterIP"))


def build_statefulset(em, w, nodes, svc_list, pvcs, ordinals=None):
	ns, name, r = w["ns"], w["name"], w["replicas"]
	labels = w["labels"]
	sts_uid = uid()
	created = NOW - randint(30 * DAY, 900 * DAY)
	rolled = max(created, NOW - randint(DAY + 3600, 120 * DAY))
	crh = "%s-%s" % (name, safe(10))
	gen = randint(2, 9)
	vct = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"creationTimestamp": None, "name": t},
	        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
	                 "storageClassName": "gp3", "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}
	       for t, size in w["claims"]]
	for t, _ in w["claims"]:
		w["containers"][0]["spec"].setdefault("volumeMounts", []).append({"mountPath": "/var/lib/" + t, "name": t})
	st = {"availableReplicas": r, "collisionCount": 0, "currentReplicas": r, "currentRevision": crh,
	      "observedGeneration": gen, "readyReplicas": r, "replicas": r, "updateRevision": crh, "updatedReplicas": r}
	em.add("statefulsets", name, {
		"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(ns, name, created, labels=labels, generation=gen,
		                                                                uid_=sts_uid),
		"spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
		         "podManagementPolicy": "OrderedReady", "replicas": r, "revisionHistoryLimit": 10,
		         "selector": {"matchLabels": labels}, "serviceName": name, "template": template_spec(w, labels),
		         "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
		         "volumeClaimTemplates": vct},
		"status": st})
	plabels = dict(labels, **{"apps.kubernetes.io/pod-index": "@@ORD@@", "controller-revision-hash": crh,
	                          "statefulset.kubernetes.io/pod-name": "@@NAME@@"})
	ptpl = pod_template_compiled(w, plabels, "apps/v1", "StatefulSet", name, sts_uid, name + "-")
	if ordinals is None:
		ordinals = r + (randint(1, 2) if R() < 0.1 else 0)  # scaled down: the higher ordinals' PVCs stay
	for i in range(ordinals):
		pname = "%s-%d" % (name, i)
		node = PLACER.pick(w)
		if i < r:
			started = rolled + 40 * i + randint(1, 30)
			emit_pod(em, w, ptpl, pname, node, started, extra={"ORD": str(i)})
			pod_usage(w, pname, "StatefulSet", name, started, NOW, i)
		for t, size in w["claims"]:
			pvcs.append((ns, "%s-%s" % (t, pname), size, created + 20 + 40 * i, node, labels, "gp3", False))
	svc_list.append((name, labels, True, created, "ClusterIP"))


def build_daemonset(em, w, nodes):
	ns, name = w["ns"], w["name"]
	labels = w["labels"]
	ds_uid = uid()
	gen = randint(2, 9)
	created = NOW - randint(300 * DAY, 1000 * DAY)
	rolled = NOW - randint(20 * DAY, 90 * DAY)
	n = len(nodes)
	em.add("daemonsets", name, {
		"apiVersion": "apps/v1", "kind": "DaemonSet",
		"metadata": meta(ns, name, created, labels=labels, annotations={
			"deprecated.daemonset.template.generation": str(gen)}, generation=gen, uid_=ds_uid),
		"spec": {"revisionHistoryLimit": 10, "selector": {"matchLabels": labels}, "template": template_spec(w, labels),
		         "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"}},
		"status": {"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberAvailable": n,
		           "numberMisscheduled": 0, "numberReady": n, "observedGeneration": gen, "updatedNumberScheduled": n}})
	crh = safe(10)
	plabels = dict(labels, **{"controller-revision-hash": crh, "pod-template-generation": str(gen)})
	ptpl = pod_template_compiled(w, plabels, "apps/v1", "DaemonSet", name, ds_uid, name + "-")
	for i, nd in enumerate(nodes):
		pname = "%s-%s" % (name, safe(5))
		started = max(rolled, nd.created) + randint(5, 60)
		emit_pod(em, w, ptpl, pname, nd, started)
		pod_usage(w, pname, "DaemonSet", name, started, NOW, i)


def build_cronjob(em, ns, name, team, nodes, job_pods):
	c = make_container(name, "%s/%s/%s:%s" % (ECR, team, name, "1.%d.%d" % (randint(0, 30), randint(0, 9))), sidecar=False)
	STATS["template_containers"] += 1
	w = {"ns": ns, "kind": "Job", "name": name, "containers": [c], "init": [], "restart": "OnFailure",
	     "has_oom": c["prof"] == "oom", "mf": R() < MF_SHARE}
	cj_uid = uid()
	hour = randint(0, 23)
	dur = randint(60, 3000)
	jspec = {"backoffLimit": 2, "template": {"metadata": {"creationTimestamp": None,
	                                                      "labels": {"app.kubernetes.io/name": name}},
	                                         "spec": template_spec(w, {"app.kubernetes.io/name": name})["spec"]}}
	runs = [NOW - DAY * (k + 1) + (hour - 6) * 3600 for k in range(job_pods)]
	runs = [t for t in sorted(runs)]
	em.add("cronjobs", name, {
		"apiVersion": "batch/v1", "kind": "CronJob",
		"metadata": meta(ns, name, NOW - randint(60 * DAY, 600 * DAY), labels={"app.kubernetes.io/name": name}, generation=1,
		                 uid_=cj_uid),
		"spec": {"concurrencyPolicy": "Forbid", "failedJobsHistoryLimit": 1,
		         "jobTemplate": {"metadata": {"creationTimestamp": None}, "spec": jspec},
		         "schedule": "%d %d * * *" % (randint(0, 59), hour), "successfulJobsHistoryLimit": 3,
		         "suspend": False, "timeZone": "Etc/UTC"},
		"status": {"lastScheduleTime": ts(runs[-1]), "lastSuccessfulTime": ts(runs[-1] + dur)}})
	for run in runs:
		jname = "%s-%d" % (name, run // 60)
		job_uid = uid()
		jl = {"batch.kubernetes.io/controller-uid": job_uid, "batch.kubernetes.io/job-name": jname,
		      "controller-uid": job_uid, "job-name": jname}
		end = run + 1 + dur
		tl = dict({"app.kubernetes.io/name": name}, **jl)
		em.add("jobs", jname, {
			"apiVersion": "batch/v1", "kind": "Job",
			"metadata": meta(ns, jname, run + 1, labels=jl, uid_=job_uid, generation=1,
			                 annotations={"batch.kubernetes.io/cronjob-scheduled-timestamp": ts(run)},
			                 owner=("batch/v1", "CronJob", name, cj_uid)),
			"spec": {"backoffLimit": 2, "completionMode": "NonIndexed", "completions": 1, "manualSelector": False,
			         "parallelism": 1, "podReplacementPolicy": "TerminatingOrFailed",
			         "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}}, "suspend": False,
			         "template": template_spec(w, tl)},
			"status": {"completionTime": ts(end), "conditions": [
				{"lastProbeTime": ts(end), "lastTransitionTime": ts(end),
				 "message": "Reached expected number of succeeded pods", "reason": "CompletionsReached",
				 "status": "True", "type": "SuccessCriteriaMet"},
				{"lastProbeTime": ts(end), "lastTransitionTime": ts(end),
				 "message": "Reached expected number of succeeded pods", "reason": "CompletionsReached",
				 "status": "True", "type": "Complete"}],
				"ready": 0, "startTime": ts(run + 1), "succeeded": 1, "terminating": 0, "uncountedTerminatedPods": {}}})
		ptpl = pod_template_compiled(w, tl, "batch/v1", "Job", jname, job_uid, jname + "-", phase="Succeeded")
		pname = "%s-%s" % (jname, safe(5))
		emit_pod(em, w, ptpl, pname, PLACER.pick(w), run + 1, phase="Succeeded", finished=end)
		pod_usage(w, pname, "Job", jname, run + 1, end, 0)


def build_bare_job(em, ns, name, team, finished, with_pod):
	"""A Job nothing owns (a migration, a backfill, a one-off): finished at `finished`, no TTL, so nothing
	deletes it. 85% Complete, 15% Failed (BackoffLimitExceeded). with_pod: its pod is still there (PodGC
	deletes terminated pods only past --terminated-pod-gc-threshold, 12,500)."""
	c = make_container(name, "%s/%s/%s:%s" % (ECR, team, name.rsplit("-", 1)[0], "1.%d.%d" % (randint(0, 30), randint(0, 9))),
	                   prof="well")
	STATS["profiles"]["well"] -= 1
	w = {"ns": ns, "kind": "Job", "name": name, "containers": [c], "init": [], "restart": "Never", "has_oom": False,
	     "mf": R() < MF_SHARE}
	job_uid = uid()
	failed = R() < 0.15 and not with_pod
	dur = randint(30, 5400)
	start = finished - dur
	jl = {"batch.kubernetes.io/controller-uid": job_uid, "batch.kubernetes.io/job-name": name,
	      "controller-uid": job_uid, "job-name": name}
	tl = dict({"app.kubernetes.io/name": name.rsplit("-", 1)[0]}, **jl)
	if failed:
		st = {"conditions": [
			{"lastProbeTime": ts(finished), "lastTransitionTime": ts(finished),
			 "message": "Job has reached the specified backoff limit", "reason": "BackoffLimitExceeded",
			 "status": "True", "type": "FailureTarget"},
			{"lastProbeTime": ts(finished), "lastTransitionTime": ts(finished),
			 "message": "Job has reached the specified backoff limit", "reason": "BackoffLimitExceeded",
			 "status": "True", "type": "Failed"}],
			"failed": 4, "ready": 0, "startTime": ts(start), "terminating": 0, "uncountedTerminatedPods": {}}
	else:
		st = {"completionTime": ts(finished), "conditions": [
			{"lastProbeTime": ts(finished), "lastTransitionTime": ts(finished),
			 "message": "Reached expected number of succeeded pods", "reason": "CompletionsReached",
			 "status": "True", "type": "SuccessCriteriaMet"},
			{"lastProbeTime": ts(finished), "lastTransitionTime": ts(finished),
			 "message": "Reached expected number of succeeded pods", "reason": "CompletionsReached",
			 "status": "True", "type": "Complete"}],
			"ready": 0, "startTime": ts(start), "succeeded": 1, "terminating": 0, "uncountedTerminatedPods": {}}
	em.add("jobs", name, {
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": meta(ns, name, start - randint(1, 30), labels=jl, uid_=job_uid, generation=1),
		"spec": {"backoffLimit": 3, "completionMode": "NonIndexed", "completions": 1, "manualSelector": False,
		         "parallelism": 1, "podReplacementPolicy": "TerminatingOrFailed",
		         "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}}, "suspend": False,
		         "template": template_spec(w, tl)},
		"status": st}, user=True)
	if with_pod:
		ptpl = pod_template_compiled(w, tl, "batch/v1", "Job", name, job_uid, name + "-", phase="Succeeded")
		pname = "%s-%s" % (name, safe(5))
		emit_pod(em, w, ptpl, pname, PLACER.pick(w), start + 1, phase="Succeeded", finished=finished)
		if finished > WSTART:
			pod_usage(w, pname, "Job", name, start + 1, finished, 0)


def idle_lb(em, ns, svc_list, app, created):
	"""A LoadBalancer Service whose selector matches nothing any more (its workload was deleted): the cloud
	load balancer stays, billed, with an empty EndpointSlice behind it."""
	labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns}
	svc_list.append((app, labels, False, created, "LoadBalancer"))


def build_services(em, ns, svc_list):
	by_workload = {}
	for wname, pname, puid, ip, node in sorted(em.pods, key=lambda p: p[1]):
		by_workload.setdefault(wname, []).append((pname, puid, ip, node))
	for name, sel, headless, created, stype in svc_list:
		cip = "None" if headless else "172.20.%d.%d" % (randint(0, 255), randint(1, 254))
		svc_uid = uid()
		ports = [{"name": "http", "port": 80 if not headless else 8080, "protocol": "TCP", "targetPort": 8080}]
		spec = {"clusterIP": cip, "clusterIPs": [cip], "internalTrafficPolicy": "Cluster",
		        "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "ports": ports,
		        "selector": sel, "sessionAffinity": "None", "type": stype}
		status = {"loadBalancer": {}}
		ann = None
		if stype == "LoadBalancer":
			ports[0]["port"] = 443
			ports[0]["nodePort"] = randint(30000, 32767)
			spec.update({"allocateLoadBalancerNodePorts": True, "externalTrafficPolicy": "Cluster"})
			ann = {"service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "http",
			       "service.beta.kubernetes.io/aws-load-balancer-ssl-cert":
				       "arn:aws:acm:%s:123456789012:certificate/%s" % (REGION, uid()),
			       "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "https"}
			status = {"loadBalancer": {"ingress": [{"hostname": "a%s-%d.%s.elb.amazonaws.com" % (
				hexs(31), randint(100000000, 2099999999), REGION)}]}}
		em.add("services", name, {
			"apiVersion": "v1", "kind": "Service",
			"metadata": meta(ns, name, created + randint(5, 900), labels=sel, uid_=svc_uid, annotations=ann),
			"spec": spec, "status": status}, status_mgr="kube-controller-manager")
		eps = []
		for pname, puid, ip, node in by_workload.get(name, []):
			ep = {"addresses": [ip], "conditions": {"ready": True, "serving": True, "terminating": False},
			      "nodeName": node.name, "targetRef": {"kind": "Pod", "name": pname, "namespace": ns, "uid": puid},
			      "zone": node.zone}
			if headless:
				ep["hostname"] = pname
			eps.append(ep)
		slabels = {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
		           "kubernetes.io/service-name": name}
		if headless:
			slabels["service.kubernetes.io/headless"] = ""
		chunks = [eps[i:i + 100] for i in range(0, len(eps), 100)] or [[]]
		for ch in chunks:
			sname = "%s-%s" % (name, safe(5))
			em.add("endpointslices", sname, {
				"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "endpoints": ch or None,
				"kind": "EndpointSlice",
				"metadata": meta(ns, sname, NOW - randint(DAY, 40 * DAY), labels=slabels,
				                 annotations={"endpoints.kubernetes.io/last-change-trigger-time": ts(NOW - randint(3600, 90 * 3600))},
				                 owner=("v1", "Service", name, svc_uid), generate_name=name + "-",
				                 generation=randint(1, 30)),
				"ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]})


def pv_obj(pv_name, size, created, zone, sc, policy, phase, claim=None, provisioned=True):
	"""A PersistentVolume; claim = (namespace, name, uid, resourceVersion) or None."""
	spec = {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size},
	        "csi": {"driver": "ebs.csi.aws.com", "fsType": "ext4", "volumeHandle": "vol-0" + hexs(16)},
	        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
		        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}},
	        "persistentVolumeReclaimPolicy": policy, "storageClassName": sc, "volumeMode": "Filesystem"}
	if provisioned:
		spec["csi"]["volumeAttributes"] = {"storage.kubernetes.io/csiProvisionerIdentity": "1729000000000-3940-ebs.csi.aws.com"}
	if claim:
		spec["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": claim[1], "namespace": claim[0],
		                    "resourceVersion": claim[3], "uid": claim[2]}
	ann = {"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com",
	       "volume.kubernetes.io/provisioner-deletion-secret-name": "",
	       "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""} if provisioned else None
	fin = ["external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection"] if provisioned else \
		["kubernetes.io/pv-protection"]
	st = {"lastPhaseTransitionTime": ts(created + 1 if phase == "Bound" else max(created + 1, NOW - randint(DAY, 200 * DAY))),
	      "phase": phase}
	if phase == "Failed":
		st["message"] = "error getting deleter volume plugin for volume \"%s\": no deletable volume plugin matched" % pv_name
	return dumps(decorate({"apiVersion": "v1", "kind": "PersistentVolume",
	                       "metadata": meta(None, pv_name, created, annotations=ann, finalizers=fin),
	                       "spec": spec, "status": st},
	                      user=not provisioned, ctrl="csi-provisioner"))


def pvc_pv(em, pvs, ns, name, size, created, node, labels=None, sc="gp3", user=True):
	"""A Bound claim and its dynamically provisioned volume. sc "gp3-retain" gives reclaim policy Retain."""
	zone = node.zone if node else ZONES[randint(0, 2)]
	sel_node = node.name if node else "ip-10-%d-%d-%d.%s.compute.internal" % (randint(0, 9), randint(0, 255), randint(2, 254), REGION)
	pvc_uid = uid()
	pv_name = "pvc-" + pvc_uid
	pvc_rv = rv()
	m = meta(ns, name, created, labels=labels, uid_=pvc_uid, finalizers=["kubernetes.io/pvc-protection"],
	         annotations={"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
	                      "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
	                      "volume.kubernetes.io/selected-node": sel_node,
	                      "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"})
	m["resourceVersion"] = pvc_rv
	pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": m,
	       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
	                "storageClassName": sc, "volumeMode": "Filesystem", "volumeName": pv_name},
	       "status": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}, "phase": "Bound"}}
	extra = [mf_entry("kube-scheduler", {"f:metadata": {"f:annotations": {".": {}, "f:volume.kubernetes.io/selected-node": {}}}},
	                  created + 1),
	         mf_entry("kube-controller-manager", {"f:metadata": {"f:annotations": {
		         "f:pv.kubernetes.io/bind-completed": {}, "f:pv.kubernetes.io/bound-by-controller": {},
		         "f:volume.beta.kubernetes.io/storage-provisioner": {}, "f:volume.kubernetes.io/storage-provisioner": {}}},
		         "f:spec": {"f:volumeName": {}}}, created + 3)]
	if user:
		m2 = dict(m, annotations={})  # the user wrote neither the binding annotations nor the finalizer
		pvc2 = dict(pvc, metadata=m2, spec={k: v for k, v in pvc["spec"].items() if k != "volumeName"})
		decorate(pvc2, user=True, extra=extra)
		if "managedFields" in m2:
			m["managedFields"] = m2["managedFields"]
		la = m2["annotations"].get("kubectl.kubernetes.io/last-applied-configuration")
		if la:
			m["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = la
		em.add("persistentvolumeclaims", name, dumps(pvc))
	else:
		em.add("persistentvolumeclaims", name, pvc, user=False, extra=extra)
	policy = "Retain" if sc == "gp3-retain" else "Delete"
	pvs.append((pv_name, pv_obj(pv_name, size, created + randint(2, 9), zone, sc, policy, "Bound",
	                            claim=(ns, name, pvc_uid, pvc_rv))))


def unbound_pv(pvs, ns, created):
	"""A PersistentVolume no claim holds: Released (its claim was deleted; Retain, or a failed deleter),
	Available (statically provisioned, never claimed) or Failed."""
	x = R()
	size = choice(["20Gi", "50Gi", "100Gi", "200Gi", "500Gi"])
	zone = ZONES[randint(0, 2)]
	if x < 0.7:
		phase = "Released"
		pv_uid = uid()
		policy = "Retain" if R() < 0.85 else "Delete"
		pv_name = "pvc-" + pv_uid
		pvs.append((pv_name, pv_obj(pv_name, size, created, zone, "gp3-retain" if policy == "Retain" else "gp3", policy,
		                            phase, claim=(ns, "%s-%s" % (choice(APPS), choice(["data", "db", "cache", "export"])),
		                                          pv_uid, rv()))))
	elif x < 0.9:
		pv_name = "%s-%s-static-%s" % (ns, choice(APPS), safe(6))
		pvs.append((pv_name, pv_obj(pv_name, size, created, zone, "manual", "Retain", "Available", provisioned=False)))
	else:
		pv_uid = uid()
		pv_name = "pvc-" + pv_uid
		pvs.append((pv_name, pv_obj(pv_name, size, created, zone, "standard", "Recycle" if R() < 0.3 else "Delete",
		                            "Failed", claim=(ns, "%s-scratch" % choice(APPS), pv_uid, rv()))))


# --------------------------------------------------------------------------
# the cluster plan


def waste_plan(pods):
	"""How many of each object-level waste to plant (findings, and near misses that are not)."""
	k = waste_k()
	n = {"orphan": round(0.09 * pods * k), "unbound": round(0.023 * pods * k), "idle_lb": round(0.0115 * pods * k),
	     "finished_job": round(0.023 * pods * k), "zero": round(0.0115 * pods * k)}
	# near misses: inside their grace period, not findings
	for key, young in (("orphan", "orphan_young"), ("unbound", "unbound_young"), ("idle_lb", "idle_lb_young"),
	                   ("finished_job", "finished_job_young")):
		n[young] = max(1, round(0.1 * n[key]))
	n["finished_job_pods"] = min(round(0.1 * n["finished_job"]), pods // 100)
	n["protected"] = max(1, round(2 * WASTE))
	return n


def plan(pods, wp, nodes=None):
	n_nodes = nodes or max(3, pods // 40)
	ds_pods = 4 * n_nodes
	if ds_pods > pods // 2:
		n_nodes = max(1, pods // 8)
		ds_pods = 4 * n_nodes
	n_cron = max(1, pods // 1500)
	job_pods = 3 * n_cron
	bare = max(1, pods // 10000)
	system_pods = 4  # coredns x2, ebs-csi-controller x2
	team_budget = pods - ds_pods - job_pods - bare - system_pods - wp["finished_job_pods"]
	if team_budget < 1:
		raise SystemExit("gen_cluster.py: %d pods is too few (need at least %d)" % (pods, pods - team_budget + 1))
	n_ns = max(1, min(team_budget // 40, pods // 300 if pods >= 300 else 1))
	return n_nodes, n_cron, bare, team_budget, n_ns


def namespace_names(n):
	names = []
	seen = set()
	i = 0
	while len(names) < n:
		t = TEAMS[i % len(TEAMS)]
		e = ENVS[(i // len(TEAMS)) % len(ENVS)]
		nm = "%s-%s" % (t, e)
		k = i // (len(TEAMS) * len(ENVS))
		if k:
			nm += "-%d" % (k + 1)
		if nm not in seen:
			seen.add(nm)
			names.append((nm, t))
		i += 1
	return names


REPLICAS = [1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8, 10, 12, 16, 20, 30, 50]


def main():
	global usage_out, WASTE, MF_SHARE, LA_SHARE, PLACER
	ap = argparse.ArgumentParser(description="Writes a large synthetic snapshot (see the module docstring).")
	ap.add_argument("outdir")
	ap.add_argument("pods", nargs="?", type=int, default=150000, help="pods (default 150000, at least 20)")
	ap.add_argument("--waste-scale", type=float, default=float(os.environ.get("BENCH_WASTE") or 1.0),
	                help="scales the planted waste: 1 (default, or $BENCH_WASTE) ~ 0.21 findings per pod, "
	                     "0.1 and 10 give ~10x fewer and ~10x more findings")
	ap.add_argument("--nodes", type=int, default=None,
	                help="nodes (default PODS/40; bench/live.sh gives PODS/30: 5,000 at 150,000 pods, as issue 16 asks)")
	ap.add_argument("--managed-fields-share", type=float, default=MF_SHARE,
	                help="share of objects with metadata.managedFields (default %(default)s)")
	ap.add_argument("--last-applied-share", type=float, default=LA_SHARE,
	                help="share of user-managed objects with a last-applied-configuration (default %(default)s)")
	a = ap.parse_args()
	out, pods = a.outdir, a.pods
	WASTE, MF_SHARE, LA_SHARE = a.waste_scale, a.managed_fields_share, a.last_applied_share
	if pods < 20:
		sys.stderr.write("gen_cluster.py: PODS must be >= 20\n")
		return 2
	if not 0 < WASTE <= 100:
		sys.stderr.write("gen_cluster.py: --waste-scale must be in (0, 100]\n")
		return 2
	t0 = time.time()
	os.makedirs(os.path.join(out, "objects"), exist_ok=True)
	wp = waste_plan(pods)
	if a.nodes is not None and not 1 <= a.nodes <= pods // 5:
		sys.stderr.write("gen_cluster.py: --nodes must be between 1 and PODS/5 (four DaemonSet pods a node)\n")
		return 2
	n_nodes, n_cron, n_bare, team_budget, n_ns = plan(pods, wp, a.nodes)
	nodes = build_nodes(n_nodes)
	n_light = round(min(0.2, 0.05 * WASTE) * n_nodes)
	for nd in rng.sample(nodes, n_light) if n_light < n_nodes else []:
		al_cpu, al_mem = SHAPES[nd.itype][2], SHAPES[nd.itype][3] * 1024
		nd.light = True
		nd.cap_cpu, nd.cap_mem = 0.72 * al_cpu, 0.72 * al_mem  # never more than ~30% requested
	STATS["planted"]["light_nodes"] = n_light
	PLACER = Placer(nodes)
	writers = {r: ListWriter(os.path.join(out, "objects", r + ".json")) for r in RESOURCES}
	usage_f = open(os.path.join(out, "usage.json"), "w", encoding="utf-8", buffering=1 << 20)
	usage_f.write('{"containers":[')
	usage_first = True
	missing = []

	nodes_sorted = sorted(nodes, key=lambda nd: nd.name)
	node_items = [(nd.name, dumps(decorate(node_obj(nd), user=False, ctrl="kubelet", status_mgr="kubelet")))
	              for nd in nodes_sorted]
	writers["nodes"].write_sorted(node_items)
	writers["storageclasses"].write_sorted([(sc, dumps(decorate({
		"allowVolumeExpansion": True, "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
		"metadata": meta(None, sc, NOW - 1000 * DAY,
		                 annotations={"storageclass.kubernetes.io/is-default-class": "true"} if sc == "gp3" else None),
		"parameters": {"csi.storage.k8s.io/fstype": "ext4", "encrypted": "true", "type": "gp2" if sc == "standard" else "gp3"},
		"provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Retain" if sc == "gp3-retain" else "Delete",
		"volumeBindingMode": "WaitForFirstConsumer"}))) for sc in ("gp3", "gp3-retain", "standard")] + [
		# statically provisioned volumes (the Available unbound ones) name this class
		("manual", dumps(decorate({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
		                           "metadata": meta(None, "manual", NOW - 900 * DAY),
		                           "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Retain",
		                           "volumeBindingMode": "WaitForFirstConsumer"})))])

	# per-namespace pod budgets that add up to team_budget exactly
	team_ns = namespace_names(n_ns)
	weights = [0.3 + R() * 1.4 for _ in team_ns]
	tot = sum(weights)
	budgets = [int(team_budget * wt / tot) for wt in weights]
	budgets[-1] += team_budget - sum(budgets)
	ns_plan = {nm: {"team": t, "budget": b} for (nm, t), b in zip(team_ns, budgets)}
	ns_plan["kube-system"] = {"team": "platform", "budget": 0, "system": True}
	ns_plan["monitoring"] = {"team": "platform", "budget": 0, "system": True}
	ns_plan.setdefault("default", {"team": "platform", "budget": 0})
	# cronjobs and bare pods go to team namespaces, spread evenly
	cron_at = {}
	for i in range(n_cron):
		cron_at.setdefault(team_ns[i % len(team_ns)][0], []).append(i)
	bare_at = {}
	for i in range(n_bare):
		bare_at.setdefault(team_ns[(i * 7) % len(team_ns)][0], []).append(i)
	# object-level waste, spread over the team namespaces; a few in kube-system (protected: blocked)
	waste_at = {}
	for kind in ("orphan", "orphan_young", "unbound", "unbound_young", "idle_lb", "idle_lb_young", "finished_job",
	             "finished_job_young", "zero"):
		for i in range(wp[kind]):
			waste_at.setdefault(team_ns[randint(0, len(team_ns) - 1)][0], []).append((kind, i))
	for kind in ("orphan", "unbound", "idle_lb", "finished_job"):
		for i in range(wp["protected"]):
			waste_at.setdefault("kube-system", []).append((kind, 1000000 + i))
			STATS["planted"]["protected"] += 1
	fj_pods_left = wp["finished_job_pods"]

	pvs = []
	counts = {r: 0 for r in RESOURCES}
	total_pods = 0
	n_deploy = 0
	for ns in sorted(ns_plan):
		p = ns_plan[ns]
		team = p["team"]
		em = Emit()
		svc_list = []
		pvcs = []
		used = set()
		age = randint(100, 1100)
		em.add("namespaces", ns, {"apiVersion": "v1", "kind": "Namespace",
		                          "metadata": meta(None, ns, NOW - age * DAY - randint(0, DAY - 1), labels=dict(
			                          {"team": team} if not p.get("system") else {}, **{"kubernetes.io/metadata.name": ns})),
		                          "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
		if ns == "kube-system":
			for dname, image, port, pn, hn in [
					("aws-node", EKS_ECR + "/amazon-k8s-cni:v1.18.3-eksbuild.2", 61678, "metrics", True),
					("kube-proxy", EKS_ECR + "/eks/kube-proxy:v1.30.3-minimal-eksbuild.5", None, "metrics", True)]:
				c = make_container(dname, image, port=port, port_name=pn, probe=False, sidecar=True)
				w = new_workload(ns, "DaemonSet", dname, team, len(nodes), containers=[c], init=[])
				w["labels"] = {"k8s-app": dname}
				w["host_network"] = hn
				w["sa"] = dname
				build_daemonset(em, w, nodes)
			for dname, image, port in [("coredns", EKS_ECR + "/eks/coredns:v1.11.3-eksbuild.1", 53),
			                           ("ebs-csi-controller", "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.35.0", 9808)]:
				c = make_container(dname, image, port=port, port_name="dns" if port == 53 else "healthz", probe=False,
				                   sidecar=True)
				w = new_workload(ns, "Deployment", dname, team, 2, containers=[c], init=[])
				w["sa"] = dname
				build_deployment(em, w, nodes, svc_list)
				n_deploy += 1
		elif ns == "monitoring":
			for dname, image, port, hn in [("fluent-bit", "fluent/fluent-bit:3.1.9", 2020, False),
			                               ("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2", 9100, True)]:
				c = make_container(dname, image, port=port, port_name="metrics", probe=False, sidecar=True)
				w = new_workload(ns, "DaemonSet", dname, team, len(nodes), containers=[c], init=[])
				w["host_network"] = hn
				build_daemonset(em, w, nodes)
		budget = p["budget"]
		while budget > 0:
			app = "%s-%s" % (choice(APPS), choice(ROLES))
			if app in used:
				app = "%s-%d" % (app, len(used))
			if app in used:
				continue
			used.add(app)
			if R() < 0.06:
				r = min(budget, randint(1, 5))
				w = new_workload(ns, "StatefulSet", app, team, r)
				w["claims"] = [("data", choice(["10Gi", "20Gi", "50Gi", "100Gi", "200Gi"]))]
				if R() < 0.3:
					w["claims"].append(("wal", choice(["5Gi", "10Gi"])))
				build_statefulset(em, w, nodes, svc_list, pvcs)
			else:
				r = min(budget, choice(REPLICAS))
				idle = R() < 0.05 * waste_m()
				w = new_workload(ns, "Deployment", app, team, r, idle=idle)
				if idle:
					STATS["planted"]["idle_workloads"] += 1
				if R() < 0.001 and not idle:
					w["unmeasured"] = True
					STATS["unmeasured_workloads"] += 1
					# the structured form (USAGE.md): the gap names its namespace and
					# workload, so a run scoped elsewhere is not called incomplete
					missing.append({"resource": "metrics", "namespace": ns,
					                "workload": {"kind": "Deployment", "name": app},
					                "reason": "its pods' cAdvisor series are dropped by a metric_relabel_configs rule"})
				if r == 1 and R() < 0.05:
					claim = "%s-state" % app
					w["volumes"] = w.get("volumes", []) + [{"name": "state", "persistentVolumeClaim": {"claimName": claim}}]
					pvcs.append((ns, claim, "20Gi", NOW - randint(30 * DAY, 300 * DAY), None, w["labels"], "gp3", True))
				build_deployment(em, w, nodes, svc_list)
				n_deploy += 1
			budget -= r
		for i in cron_at.get(ns, []):
			build_cronjob(em, ns, "%s-%s" % (choice(APPS), choice(["report", "cleanup", "sync", "backup", "export"])) +
			              "-%d" % i, team, nodes, 3)
		for i in bare_at.get(ns, []):
			c = make_container("debug", "nicolaka/netshoot:v0.13", sidecar=True)
			STATS["template_containers"] += 1
			w = {"ns": ns, "kind": "Pod", "name": "debug-%d" % i, "containers": [c], "init": [],
			     "has_oom": c["prof"] == "oom"}
			started = NOW - randint(2 * DAY, 30 * DAY)
			emit_pod(em, w, pod_template_compiled(w, {"run": "debug-%d" % i}, None, None, None, None, None),
			         "debug-%d" % i, PLACER.pick(w), started)
			pod_usage(w, "debug-%d" % i, "", "", started, NOW, 0)
		for kind, i in waste_at.get(ns, []):
			pl = STATS["planted"]
			if kind in ("orphan", "orphan_young"):
				# unmounted claims: most well past the 7-day grace period, the young ones not; 20% on a
				# storage class with reclaim policy Retain
				young = kind == "orphan_young"
				age = randint(1 * DAY, 5 * DAY) if young else randint(10 * DAY, 500 * DAY)
				sc = "gp3-retain" if R() < 0.2 else "gp3"
				pvcs.append((ns, "%s-%s-%d" % (choice(APPS), choice(["scratch", "export", "data", "backup"]), i),
				             choice(["10Gi", "50Gi", "100Gi", "500Gi"]), NOW - age, None, None, sc, True))
				STATS["orphan_pvcs"] += 1
				if young:
					pl["orphan_pvcs_young"] += 1
				else:
					pl["orphan_pvcs"] += 1
					pl["orphan_pvcs_retain"] += sc == "gp3-retain"
			elif kind in ("unbound", "unbound_young"):
				young = kind == "unbound_young"
				unbound_pv(pvs, ns, NOW - (randint(DAY, 5 * DAY) if young else randint(10 * DAY, 600 * DAY)))
				pl["unbound_pvs_young" if young else "unbound_pvs"] += 1
			elif kind in ("idle_lb", "idle_lb_young"):
				young = kind == "idle_lb_young"
				idle_lb(em, ns, svc_list, "%s-%s-legacy-%d" % (choice(APPS), choice(ROLES), i),
				        NOW - (randint(3600, 20 * 3600) if young else randint(2 * DAY, 400 * DAY)))
				pl["idle_lbs_young" if young else "idle_lbs"] += 1
			elif kind in ("finished_job", "finished_job_young"):
				young = kind == "finished_job_young"
				with_pod = not young and fj_pods_left > 0 and ns != "kube-system"
				fj_pods_left -= with_pod
				build_bare_job(em, ns, "%s-%s-%s" % (choice(APPS), choice(["migrate", "backfill", "reindex", "import",
				                                                            "fix", "seed"]), safe(5)), team,
				               NOW - (randint(2 * 3600, 6 * DAY) if young else randint(8 * DAY, 300 * DAY)), with_pod)
				pl["finished_jobs_young" if young else "finished_jobs"] += 1
				pl["finished_job_pods"] += with_pod
			elif kind == "zero":
				# scaled to zero, still holding a claim (Deployment), a load balancer, or its claims (StatefulSet)
				app = "%s-%s-parked-%d" % (choice(APPS), choice(ROLES), i)
				x = R()
				if x < 0.15:
					w = new_workload(ns, "StatefulSet", app, team, 0)
					w["claims"] = [("data", choice(["20Gi", "50Gi", "100Gi"]))]
					build_statefulset(em, w, nodes, svc_list, pvcs, ordinals=randint(1, 3))
				else:
					w = new_workload(ns, "Deployment", app, team, 0)
					if x < 0.85:
						claim = "%s-data" % app
						w["volumes"] = w.get("volumes", []) + [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
						pvcs.append((ns, claim, choice(["20Gi", "50Gi", "100Gi"]), NOW - randint(30 * DAY, 500 * DAY), None,
						             w["labels"], "gp3", True))
					else:
						w["lb"] = True
					build_deployment(em, w, nodes, svc_list)
				pl["zero_replica"] += 1
		for pns, pname, size, created, node, labels, sc, user in pvcs:
			pvc_pv(em, pvs, pns, pname, size, created, node, labels, sc=sc, user=user)
		build_services(em, ns, svc_list)
		total_pods += len(em.items["pods"])
		for r in RESOURCES:
			counts[r] += len(em.items[r])
			writers[r].write_sorted(em.items[r])
		if usage_out:
			usage_f.write(("" if usage_first else ",") + ",".join(usage_out))
			usage_first = False
		usage_out = []
	writers["persistentvolumes"].write_sorted(pvs)
	counts["persistentvolumes"] = len(pvs)
	counts["nodes"] = len(node_items)
	counts["storageclasses"] = 4
	for wr in writers.values():
		wr.close()
	usage_f.write('],"missing":%s,"schema":"kopilot.usage/v1","window":{"end":"%s","source":"prometheus",'
	              '"start":"%s","step_seconds":%d}}\n' % (dumps(missing), ts(NOW), ts(WSTART), STEP))
	usage_f.close()
	if total_pods != pods:
		raise SystemExit("gen_cluster.py: internal error: wrote %d pods, wanted %d" % (total_pods, pods))
	size = sum(os.path.getsize(os.path.join(out, "objects", r + ".json")) for r in RESOURCES)
	size += os.path.getsize(os.path.join(out, "usage.json"))
	al = [(SHAPES[nd.itype][2], SHAPES[nd.itype][3] * 1024) for nd in nodes]
	STATS["node_requested_ratio"] = {
		"cpu": round(1 - sum(nd.free_cpu for nd in nodes) / sum(a[0] for a in al), 3),
		"memory": round(1 - sum(nd.free_mem for nd in nodes) / sum(a[1] for a in al), 3),
		"cpu_normal_nodes": round(1 - sum(nd.free_cpu for nd in nodes if not nd.light) /
		                          max(1, sum(a[0] for a, nd in zip(al, nodes) if not nd.light)), 3)}
	stats = dict(STATS, pods=total_pods, objects=counts, usage_entries=usage_n, bytes=size,
	             seconds=round(time.time() - t0, 2), now=ts(NOW), seed=SEED, waste_scale=WASTE,
	             managed_fields_share=MF_SHARE, last_applied_share=LA_SHARE,
	             pods_json_bytes=os.path.getsize(os.path.join(out, "objects", "pods.json")))
	print(dumps(stats))
	return 0


usage_out = []

if __name__ == "__main__":
	sys.exit(main())
