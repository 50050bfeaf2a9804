#!/usr/bin/env python3
"""Writes each case's findings.json and expect.json from the table below.

    python3 tests/data/manifest-corpus/mkfindings.py

The findings are shaped like a real run's (kopilot.findings/v1, see
docs/contracts/FINDINGS.md): ids, evidence, money and totals computed the
way kopilot computes them, so that the documents validate against
docs/contracts/findings.schema.json. expect.json says, per finding, the
file kopilot must edit ({"edited": PATH}, with "also" for the files a
related change edits) or a substring of why it must refuse ({"refused":
TEXT or [TEXT, ...], any of them}).
"""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
Mi, Gi = 1 << 20, 1 << 30
PRICES = {"cpu_core_hour": 0.031611, "memory_gib_hour": 0.004237, "storage_gib_month": 0.04,
          "load_balancer_hour": 0.025, "hours_per_month": 730, "currency": "USD", "source": "default"}
KEYS = {"cr": "cpu_request_millicores", "cl": "cpu_limit_millicores",
        "mr": "memory_request_bytes", "ml": "memory_limit_bytes"}


def sizes(d, replicas):
    out = {"replicas": replicas}
    for k, v in d.items():
        out[KEYS[k]] = v
    return out


def cost(s):
    per_hour = s.get("cpu_request_millicores", 0) / 1000 * PRICES["cpu_core_hour"] + \
        s.get("memory_request_bytes", 0) / Gi * PRICES["memory_gib_hour"]
    return round(per_hour * PRICES["hours_per_month"] * s["replicas"], 4)


def cpu_text(m):
    return f"{m}m" if m % 1000 else f"{m // 1000} core{'s' if m != 1000 else ''}"


def mem_text(b):
    for u, f in (("Gi", Gi), ("Mi", Mi), ("M", 1000000)):
        if b % f == 0:
            return f"{b // f}{u}"
    return f"{b}"


def finding(kind, ns, name, container, cur, rec, expect, replicas=2, gitops=None, related=None):
    category = "over-provisioned"
    res = {"apiVersion": "apps/v1" if kind != "CronJob" else "batch/v1", "kind": kind, "namespace": ns, "name": name}
    if gitops:
        res["gitops"] = gitops
    fid = hashlib.sha256(f"{category}|{kind}|{ns}|{name}|{container}".encode()).hexdigest()[:16]
    c, r = sizes(cur, replicas), sizes(rec, replicas)
    mc = cost(c)
    sav = round(mc - cost(r), 4)
    sets = []
    if "cr" in rec or "mr" in rec:
        sets.append("--requests=" + ",".join(
            ([f"cpu={cpu_text(rec['cr']).split(' ')[0] if rec['cr'] % 1000 else rec['cr'] // 1000}"] if "cr" in rec else []) +
            ([f"memory={mem_text(rec['mr'])}"] if "mr" in rec else [])))
    command = f"kubectl -n {ns} set resources {kind.lower()}/{name} -c {container} {' '.join(sets)}"
    evidence = []
    if "cr" in cur:
        evidence.append({"summary": f"CPU p95 was {max(rec.get('cr', 10) * 100 // 115, 1)}m (highest of {replicas} pods over 14d); "
                                    f"the request is {cpu_text(cur['cr'])} per pod",
                         "metric": "cpu_percentile_millicores", "value": max(rec.get("cr", 10) * 100 // 115, 1),
                         "unit": "millicores", "window": "14d", "samples": 40320, "source": "prometheus"})
    if "mr" in rec:
        evidence.append({"summary": f"Peak memory working set was {mem_text(rec['mr'] * 5 // 6 // Mi * Mi)} "
                                    f"(highest of {replicas} pods over 14d)",
                         "metric": "memory_max_bytes", "value": rec["mr"] * 5 // 6 // Mi * Mi, "unit": "bytes",
                         "window": "14d", "samples": 40320, "source": "prometheus"})
    evidence.append({"summary": "Strategy kopilot-peak-v1: CPU request = p95 x 1.15 (floor 10m), memory request = "
                                "peak x 1.20 (floor 32Mi), never below the peak", "metric": "strategy"})
    f = {
        "id": fid, "category": category, "resource": res, "container": container, "evidence": evidence,
        "current": c, "recommended": r, "monthly_cost": mc, "monthly_savings": sav,
        "confidence": "high", "risk": "LOW",
        "action": {"type": "resize", "destructive": False, "approval_required": False, "blocked": False,
                   "blocked_reason": None, "command": command},
        "explanation": f"{kind} {ns}/{name}, container {container}, reserves more than it uses over 14d; "
                       f"the proposed requests keep a margin above the observed usage.",
        "explained_by": "template",
    }
    if related:
        f["related_changes"] = related
        f["risk"] = "HIGH"
        f["action"].update({"destructive": True, "approval_required": True})
        for rc in related:
            f["action"]["command"] += (
                f"\nkubectl -n {rc['resource']['namespace']} patch horizontalpodautoscaler.v2.autoscaling "
                f"{rc['resource']['name']} --type=json -p '[{{\"op\":\"test\",\"path\":\"{rc['path']}\",\"value\":"
                f"{rc['current']}}},{{\"op\":\"replace\",\"path\":\"{rc['path']}\",\"value\":{rc['recommended']}}}]'")
    e = {"id": fid, "kind": kind, "namespace": ns, "name": name, "container": container}
    e.update(expect)
    return f, e


def hpa(ns, name, path, cur, rec):
    return {"resource": {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "namespace": ns,
                         "name": name},
            "path": path, "current": cur, "recommended": rec, "when": "after",
            "reason": f"keeps HPA {name} scaling at the same CPU load after the request change"}


CPU_TARGET = "/spec/metrics/0/resource/target/averageUtilization"

CASES = {
    "plain-multidoc": [
        finding("Deployment", "orders", "orders-api", "orders-api",
                {"cr": 1000, "mr": 1 * Gi, "ml": 1 * Gi}, {"cr": 250, "mr": 640 * Mi, "ml": 1 * Gi},
                {"edited": "apps/orders/orders-api.yaml"}, replicas=3),
        finding("StatefulSet", "orders", "orders-postgres", "postgres",
                {"cr": 2000, "mr": 4 * Gi, "ml": 4 * Gi}, {"cr": 700, "mr": 2560 * Mi, "ml": 4 * Gi},
                {"edited": "apps/orders/orders-postgres.yaml"}),
        finding("DaemonSet", "logging", "vector", "vector",
                {"cr": 200, "mr": 256 * Mi, "ml": 512 * Mi}, {"cr": 60, "mr": 256 * Mi, "ml": 512 * Mi},
                {"edited": "platform/logging/node-log-shipper.yaml"}, replicas=12),
        # the CPU limit dropped (rightsizing.throttled_cpu_limit: remove)
        finding("CronJob", "batch", "nightly-reports", "report-runner",
                {"cr": 2000, "cl": 2000, "mr": 2 * Gi, "ml": 2 * Gi}, {"cr": 600, "mr": 1200 * Mi, "ml": 2 * Gi},
                {"edited": "apps/batch/nightly-reports.yaml"}, replicas=1),
    ],
    "styles": [
        finding("Deployment", "web", "web-frontend", "web-frontend",
                {"cr": 500, "mr": 1 * Gi, "ml": 1 * Gi}, {"cr": 120, "mr": 400 * Mi, "ml": 1 * Gi},
                {"edited": "apps/web/frontends.yaml"}, replicas=4),
        finding("Deployment", "web", "web-bff", "web-bff",
                {"cr": 500, "mr": 1 * Gi, "ml": 1 * Gi}, {"cr": 150, "mr": 600 * Mi, "ml": 1 * Gi},
                {"edited": "apps/web/frontends.yaml"}),
        finding("Deployment", "web", "asset-sync", "asset-sync",
                {}, {"cr": 100, "mr": 256 * Mi},
                {"edited": "apps/web/asset-sync.yaml"}, replicas=1),
        finding("Deployment", "web", "asset-sync", "cloud-sql-proxy",
                {"cr": 1000, "mr": 1000000000}, {"cr": 250, "mr": 300000000},
                {"edited": "apps/web/asset-sync.yaml"}, replicas=1),
        finding("Deployment", "api", "api-gateway", "api-gateway",
                {}, {"cr": 300, "mr": 384 * Mi, "ml": 384 * Mi},
                {"edited": "apps/api/gateway.yaml"}, replicas=3),
        finding("Deployment", "api", "api-gateway", "rate-limiter",
                {"cr": 2000, "cl": 2000, "mr": 512 * Mi, "ml": 512 * Mi},
                {"cr": 200, "cl": 2000, "mr": 128 * Mi, "ml": 512 * Mi},
                {"edited": "apps/api/gateway.yaml"}, replicas=3),
    ],
    "crlf-utf8": [
        finding("Deployment", "i18n", "translation-api", "translation-api",
                {"cr": 750, "cl": 750, "mr": 1536 * Mi, "ml": 1536 * Mi},
                {"cr": 200, "cl": 750, "mr": 700 * Mi, "ml": 1536 * Mi},
                {"edited": "apps/i18n/translation-api.yaml"}),
        finding("Deployment", "i18n", "glossary-sync", "glossary-sync",
                {"cr": 400, "mr": 768 * Mi, "ml": 768 * Mi}, {"cr": 120, "mr": 512 * Mi, "ml": 768 * Mi},
                {"edited": "apps/i18n/glossary-sync.yaml"}, replicas=1),
        finding("Deployment", "i18n", "glossary-sync", "lokalise-webhook",
                {"cr": 100, "mr": 128 * Mi}, {"cr": 20, "mr": 64 * Mi, "ml": 128 * Mi},
                {"edited": "apps/i18n/glossary-sync.yaml"}, replicas=1),
    ],
    "anchors": [
        finding("Deployment", "billing", "invoice-worker", "worker-priority",
                {"cr": 1500, "mr": 2 * Gi, "ml": 2 * Gi}, {"cr": 400, "mr": 1 * Gi, "ml": 2 * Gi},
                {"refused": ["alias", "anchor"]}, replicas=6),
        finding("Deployment", "billing", "invoice-worker", "worker",
                {"cr": 1500, "mr": 2 * Gi, "ml": 2 * Gi}, {"cr": 500, "mr": 1 * Gi, "ml": 2 * Gi},
                {"refused": ["alias", "anchor"]}, replicas=6),
        finding("Deployment", "billing", "invoice-renderer", "renderer-pdf",
                {"cr": 800, "mr": 3 * Gi}, {"cr": 300, "mr": 2 * Gi},
                {"refused": ["merge"]}),
        finding("Deployment", "billing", "invoice-renderer", "renderer-html",
                {"cr": 800, "mr": 1 * Gi}, {"cr": 200, "mr": 512 * Mi},
                {"refused": ["alias", "anchor"]}),
        finding("Deployment", "billing", "invoice-api", "invoice-api",
                {"cr": 1200, "mr": 1 * Gi, "ml": 1 * Gi}, {"cr": 350, "mr": 700 * Mi, "ml": 1 * Gi},
                {"edited": "apps/billing/invoice-workers.yaml"}, replicas=3),
    ],
    "kustomize-single-overlay": [
        finding("Deployment", "ledger", "ledger-api", "ledger-api",
                {"cr": 600, "cl": 1000, "mr": 1 * Gi, "ml": 1 * Gi}, {"cr": 200, "cl": 1000, "mr": 600 * Mi, "ml": 1 * Gi},
                {"edited": "apps/ledger/base/deployment.yaml"}, replicas=3),
    ],
    "kustomize-overlay-patch": [
        # the patch file sets only requests: the memory limit is added there
        finding("Deployment", "notifications", "notifier", "notifier",
                {"cr": 1000, "mr": 1 * Gi, "ml": 2 * Gi}, {"cr": 300, "mr": 640 * Mi, "ml": 1 * Gi},
                {"edited": "apps/notifications/overlays/prod/resources.yaml"}, replicas=6),
        finding("Deployment", "notifications", "email-relay", "email-relay",
                {"cr": 500, "mr": 512 * Mi, "ml": 512 * Mi}, {"cr": 150, "mr": 256 * Mi, "ml": 512 * Mi},
                {"edited": "apps/notifications/overlays/prod/email-relay-resources.yaml"}, replicas=1),
    ],
    "kustomize-shared-base-new-patch": [
        finding("Deployment", "catalog-eu", "catalog-api", "catalog-api",
                {"cr": 800, "cl": 2000, "mr": 1536 * Mi, "ml": 1536 * Mi},
                {"cr": 300, "cl": 2000, "mr": 900 * Mi, "ml": 1536 * Mi},
                {"edited": "apps/catalog/overlays/eu/kopilot-deployment-catalog-api.yaml",
                 "also": ["apps/catalog/overlays/eu/kustomization.yaml"]}, replicas=3),
        finding("Deployment", "catalog-us", "catalog-api", "catalog-api",
                {"cr": 800, "cl": 2000, "mr": 1536 * Mi, "ml": 1536 * Mi},
                {"cr": 250, "cl": 2000, "mr": 1 * Gi, "ml": 1536 * Mi},
                {"edited": "apps/catalog/overlays/us/kopilot-deployment-catalog-api.yaml",
                 "also": ["apps/catalog/overlays/us/kustomization.yaml"]}, replicas=3),
        finding("Deployment", "catalog-canary", "catalog-api", "catalog-api",
                {"cr": 400, "cl": 2000, "mr": 1536 * Mi, "ml": 1536 * Mi},
                {"cr": 150, "cl": 2000, "mr": 800 * Mi, "ml": 1536 * Mi},
                {"refused": ["6902"]}, replicas=1),
    ],
    "helm": [
        finding("Deployment", "monitoring", "grafana", "grafana",
                {"cr": 500, "mr": 1 * Gi, "ml": 1 * Gi}, {"cr": 100, "mr": 400 * Mi, "ml": 1 * Gi},
                {"edited": "environments/prod/grafana-values.yaml"},
                gitops={"helm_release": "monitoring/grafana"}),
        finding("Deployment", "monitoring", "oauth2-proxy", "oauth2-proxy",
                {"cr": 300, "mr": 256 * Mi, "ml": 256 * Mi}, {"cr": 50, "mr": 128 * Mi, "ml": 256 * Mi},
                {"refused": ["Helm", "template", "not declared"]},
                gitops={"helm_release": "monitoring/oauth2-proxy"}),
    ],
    "argo-multicluster": [
        finding("Deployment", "checkout", "checkout-api", "checkout-api",
                {"cr": 1500, "mr": 2 * Gi, "ml": 2 * Gi}, {"cr": 500, "mr": 1 * Gi, "ml": 2 * Gi},
                {"edited": "clusters/prod/apps/checkout/checkout-api.yaml"}, replicas=4,
                gitops={"argocd_app": "checkout-prod"}),
        # spec.sources[]: the second source is this repository
        finding("Deployment", "payments", "payments-api", "payments-api",
                {"cr": 1000, "mr": 1 * Gi, "ml": 1 * Gi}, {"cr": 300, "mr": 700 * Mi, "ml": 1 * Gi},
                {"edited": "clusters/prod/apps/payments/payments-api.yaml"}, replicas=3,
                gitops={"argocd_app": "payments-prod"}),
        # no hint: prod and staging both declare it
        finding("Deployment", "checkout", "cart-worker", "cart-worker",
                {"cr": 400, "mr": 512 * Mi}, {"cr": 100, "mr": 256 * Mi},
                {"refused": ["declared in 2 places"]}),
    ],
    "flux-multicluster": [
        finding("Deployment", "search", "search-api", "search-api",
                {"cr": 900, "mr": 3 * Gi, "ml": 3 * Gi}, {"cr": 300, "mr": 2 * Gi, "ml": 3 * Gi},
                {"edited": "apps/prod/search-api.yaml"}, replicas=3,
                gitops={"flux_kustomization": "flux-system/apps-prod"}),
        # the namespace comes from spec.targetNamespace
        finding("Deployment", "ingress", "ingress-nginx-controller", "controller",
                {"cr": 1000, "mr": 1 * Gi}, {"cr": 250, "mr": 400 * Mi},
                {"edited": "infrastructure/prod/ingress-controller.yaml"},
                gitops={"flux_kustomization": "flux-system/infra-prod"}),
        finding("Deployment", "search", "search-indexer", "search-indexer",
                {"cr": 500, "mr": 2 * Gi}, {"cr": 150, "mr": 1 * Gi},
                {"refused": ["declared in 2 places"]}, replicas=1),
    ],
    "hpa": [
        finding("Deployment", "shop", "storefront", "storefront",
                {"cr": 500, "mr": 1 * Gi, "ml": 1 * Gi}, {"cr": 150, "mr": 1 * Gi, "ml": 1 * Gi},
                {"edited": "apps/storefront/storefront.yaml"}, replicas=3,
                related=[hpa("shop", "storefront", CPU_TARGET, 70, 233)]),
        finding("Deployment", "shop", "image-resizer", "image-resizer",
                {"cr": 1000, "mr": 512 * Mi}, {"cr": 400, "mr": 512 * Mi},
                {"edited": "apps/storefront/image-resizer.yaml", "also": ["apps/storefront/image-resizer-hpa.yaml"]},
                replicas=2, related=[hpa("shop", "image-resizer", CPU_TARGET, 60, 150)]),
    ],
}


def main():
    for case, items in CASES.items():
        fs = sorted((f for f, _ in items), key=lambda f: (-f["monthly_savings"], f["id"]))
        total_cost = round(sum(f["monthly_cost"] for f in fs), 4)
        total_sav = round(sum(f["monthly_savings"] for f in fs), 4)
        doc = {
            "schema": "kopilot.findings/v1",
            "generated_at": "2026-11-25T06:00:00Z",
            "cluster": {"name": f"corpus-{case}", "context": None, "server": None},
            "window": {"start": "2026-11-11T06:00:00Z", "end": "2026-11-25T06:00:00Z", "step_seconds": 60,
                       "source": "prometheus"},
            "prices": PRICES,
            "totals": {"findings": len(fs), "monthly_cost": total_cost, "monthly_savings": total_sav,
                       "actionable_monthly_savings": total_sav, "blocked_monthly_savings": 0},
            "findings": fs,
            "skipped": [],
            "missing": [],
            "scope": {"namespaces": None},
        }
        d = os.path.join(HERE, case)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "findings.json"), "w") as o:
            json.dump(doc, o, indent=2, ensure_ascii=False)
            o.write("\n")
        with open(os.path.join(d, "expect.json"), "w") as o:
            json.dump({"findings": [e for _, e in items]}, o, indent=2)
            o.write("\n")


if __name__ == "__main__":
    main()
