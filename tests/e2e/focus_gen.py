#!/usr/bin/env python3
"""Writes a FOCUS 1.x cost export (CSV) for a snapshot's nodes and volumes,
for tests/e2e/focus.sh.

  focus_gen.py SNAPSHOT_DIR OUT.csv [--hours N] [--rows N]

Rates are chosen to differ from OpenCost's defaults: m5.2xlarge $0.25 and
m5.xlarge $0.125 per node-hour, gp3 $0.05 and standard $0.03 per GiB-month
(EffectiveCost; BilledCost differs where a savings plan covers the hour).
The file has what real exports have: a UTF-8 BOM, CRLF line ends, columns
in a provider's order with x_ columns, quoted fields holding commas, quotes
and line breaks (Tags), ARNs as ResourceIds, Purchase and Tax rows, data
transfer on an instance (Networking), rows of other resources.
--hours N: only N hours of node data (too little). --rows N: instead, N
rows in all (the size test), hourly rows of the nodes, cycling.
"""
import csv
import json
import sys

RATES_NODE = {"m5.2xlarge": 0.25, "m5.xlarge": 0.125}
RATES_SC = {"gp3": 0.05, "standard": 0.03}
COLS = ["x_ServiceCode", "BillingAccountId", "ChargeCategory", "ChargeDescription", "ChargePeriodStart",
        "ChargePeriodEnd", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency",
        "ResourceId", "ResourceName", "ResourceType", "ServiceName", "ServiceCategory", "SkuId", "SkuPriceId",
        "PricingUnit", "PricingQuantity", "ConsumedUnit", "ConsumedQuantity", "RegionId", "AvailabilityZone",
        "CommitmentDiscountId", "CommitmentDiscountType", "CommitmentDiscountStatus", "Tags"]


def main():
    snap, out = sys.argv[1], sys.argv[2]
    hours = 720
    total_rows = None
    if "--hours" in sys.argv:
        hours = int(sys.argv[sys.argv.index("--hours") + 1])
    if "--rows" in sys.argv:
        total_rows = int(sys.argv[sys.argv.index("--rows") + 1])
    nodes = json.load(open(snap + "/objects/nodes.json"))["items"]
    pvs = json.load(open(snap + "/objects/persistentvolumes.json"))["items"]
    f = open(out, "w", newline="", encoding="utf-8-sig")  # the BOM
    w = csv.DictWriter(f, COLS, lineterminator="\r\n")
    w.writeheader()

    def row(**kw):
        base = {c: "" for c in COLS}
        base.update(BillingAccountId="123456789012", BillingCurrency="USD", RegionId="eu-west-1",
                    Tags='{"kubernetes.io/cluster/demo": "owned", "team": "a, \\"b\\"\nc"}')
        base.update(kw)
        w.writerow(base)

    def ts(h):
        d, hh = divmod(h, 24)
        return "2026-10-%02dT%02d:00:00Z" % (d + 1, hh)

    if total_rows:
        n = 0
        h = 0
        while n < total_rows:
            for nd in nodes:
                if n >= total_rows:
                    break
                t = nd["metadata"]["labels"]["node.kubernetes.io/instance-type"]
                iid = nd["spec"]["providerID"].rsplit("/", 1)[1]
                r = RATES_NODE[t]
                w.writerow({"x_ServiceCode": "AmazonEC2", "ChargeCategory": "Usage", "ChargePeriodStart": ts(h % 720),
                            "ChargePeriodEnd": ts(h % 720 + 1), "BilledCost": r, "EffectiveCost": r,
                            "BillingCurrency": "USD", "ResourceId": iid, "ServiceCategory": "Compute",
                            "PricingUnit": "Hrs", "PricingQuantity": 1})
                n += 1
            h += 1
        f.close()
        return

    for i, nd in enumerate(nodes):
        t = nd["metadata"]["labels"]["node.kubernetes.io/instance-type"]
        iid = nd["spec"]["providerID"].rsplit("/", 1)[1]
        arn = "arn:aws:ec2:eu-west-1:123456789012:instance/" + iid
        r = RATES_NODE[t]
        # daily rows; every other node's odd days covered by a savings plan:
        # BilledCost 0, the commitment amortized into EffectiveCost
        for d in range(0, hours, 24):
            span = min(24, hours - d)
            sp = i % 2 == 1 and (d // 24) % 2 == 1
            row(x_ServiceCode="AmazonEC2", ChargeCategory="Usage", ChargeDescription="%s, on demand" % t,
                ChargePeriodStart=ts(d), ChargePeriodEnd=ts(d + span), BilledCost=0 if sp else r * span,
                EffectiveCost=round(r * span, 10), ListCost=round(r * 1.6 * span, 10), ContractedCost=r * span,
                ResourceId=arn if i % 3 else iid, ResourceName=nd["metadata"]["name"], ResourceType="Instance",
                ServiceName="Amazon Elastic Compute Cloud", ServiceCategory="Compute", SkuId="SKU" + t,
                PricingUnit="Hrs", PricingQuantity=span, ConsumedUnit="Hrs", ConsumedQuantity=span,
                CommitmentDiscountId="arn:aws:savingsplans::123456789012:savingsplan/sp-1" if sp else "",
                CommitmentDiscountType="Spend" if sp else "", CommitmentDiscountStatus="Used" if sp else "")
        # data transfer billed on the instance: not the machine's price
        row(x_ServiceCode="AmazonEC2", ChargeCategory="Usage", ChargePeriodStart=ts(0), ChargePeriodEnd=ts(hours),
            BilledCost=4.5, EffectiveCost=4.5, ResourceId=iid, ServiceCategory="Networking", PricingUnit="GB",
            PricingQuantity=50)
    if hours >= 24:
        for v in pvs:
            sc = v["spec"].get("storageClassName")
            if not sc:
                continue
            gib = int(v["spec"]["capacity"]["storage"][:-2])
            row(x_ServiceCode="AmazonEC2", ChargeCategory="Usage", ChargePeriodStart=ts(0), ChargePeriodEnd=ts(720),
                BilledCost=gib * RATES_SC[sc], EffectiveCost=gib * RATES_SC[sc], ResourceId=v["spec"]["csi"]["volumeHandle"],
                ResourceType="Volume", ServiceCategory="Storage", PricingUnit="GB-Mo", PricingQuantity=gib)
    # the savings plan's own fee, tax, and resources that are not this cluster's
    row(ChargeCategory="Purchase", ChargePeriodStart=ts(0), ChargePeriodEnd=ts(720), BilledCost=500, EffectiveCost=0,
        ResourceId="arn:aws:savingsplans::123456789012:savingsplan/sp-1", ServiceCategory="Compute")
    row(ChargeCategory="Tax", ChargePeriodStart=ts(0), ChargePeriodEnd=ts(720), BilledCost=80, EffectiveCost=80)
    row(x_ServiceCode="AmazonEC2", ChargeCategory="Usage", ChargePeriodStart=ts(0), ChargePeriodEnd=ts(720),
        BilledCost=99, EffectiveCost=99, ResourceId="i-0ffffffffffffffff", ServiceCategory="Compute",
        PricingUnit="Hrs", PricingQuantity=720)
    row(x_ServiceCode="AmazonS3", ChargeCategory="Usage", ChargePeriodStart=ts(0), ChargePeriodEnd=ts(720),
        BilledCost=3, EffectiveCost=3, ResourceId="arn:aws:s3:::backups", ServiceCategory="Storage",
        PricingUnit="GB-Mo", PricingQuantity=130)
    f.close()


main()
