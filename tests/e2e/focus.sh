#!/usr/bin/env bash
# Prices from a FOCUS cost export: the demo cluster with a generated export
# (tests/e2e/focus_gen.py: rates deliberately unlike the defaults), findings'
# money checked against figures computed here from those rates, the price
# sources in findings.json (schema-valid) and in report.md, report.html and
# report.xlsx (read back with openpyxl), precedence of configured prices,
# the too-little-data fallback, bad files (exit 2, file, line and column,
# nothing written), and a 1,000,000-row export read in bounded memory (peak
# RSS from /usr/bin/time -v, a generous bound: memory, not timing).
# Ends with "N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/focus.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
DEMO=$ROOT/examples/demo-cluster
NOW=2026-11-25T06:00:00Z
T=$(mktemp -d /tmp/kopilot-focus.XXXXXX)
trap 'rm -rf "$T"' EXIT

SUITE=focus
. "$ROOT/tests/e2e/lib.sh"
need "$KOPILOT" "build it with 'make'"
need $PY python3
need /usr/bin/time time
$PY -c 'import jsonschema, openpyxl' 2>/dev/null || { echo "focus: python3-jsonschema and python3-openpyxl are missing: run 'make deps'" >&2; exit 1; }

GEN=$ROOT/tests/e2e/focus_gen.py
$PY "$GEN" "$DEMO" "$T/focus.csv" || { echo "focus: the generator failed" >&2; exit 1; }

# ------------------------------------------------------------ priced at the bill
"$KOPILOT" run --snapshot "$DEMO" --out "$T/base" --now $NOW --quiet >/dev/null 2>&1
"$KOPILOT" run --snapshot "$DEMO" --out "$T/run" --now $NOW --focus "$T/focus.csv" >/dev/null 2>"$T/run.err"
rc=$?
if [ $rc -eq 3 ]; then ok "run --focus on the demo exits 3 (degraded by design, as without)"; else not_ok "run --focus exits 3 (got $rc)" "$(cat "$T/run.err")"; fi

check "every finding's money equals the figure computed from the export's rates" $PY - "$T/run/findings.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
GIB = 1024 ** 3
node = {"m5.2xlarge": 0.25, "m5.xlarge": 0.125}   # what focus_gen.py bills per node-hour
sc = {"gp3": 0.05, "standard": 0.03}             # per GiB-month
CPU, MEM, STO, LB, H = 0.031611, 0.004237, 0.04, 0.025, 730
def split(hourly, cores, gib):  # OpenCost's split of a node price, at the default CPU:RAM ratio
    r = CPU / MEM
    ram = hourly / (r * cores + gib)
    return r * ram, ram
def cost(s, cpu, mem, sto):
    rep = s.get("replicas", 1)
    return rep * (s.get("cpu_request_millicores", 0) / 1000 * cpu + s.get("memory_request_bytes", 0) / GIB * mem) * H \
        + s.get("storage_bytes", 0) / GIB * sto
bad = []
for f in doc["findings"]:
    p = f.get("pricing") or {}
    cpu, mem, sto = CPU, MEM, STO
    now = dict(f["current"])
    if "node_types" in p:
        pods = cs = ms = 0
        for g in p["node_types"]:
            c, m = split(node[g["instance_type"]], g["cpu_millicores"] / 1000, g["memory_bytes"] / GIB)
            pods += g["pods"]; cs += g["pods"] * c; ms += g["pods"] * m
        el = p.get("pods_elsewhere", 0)
        cpu, mem = (cs + el * CPU) / (pods + el), (ms + el * MEM) / (pods + el)
    elif "node" in p:
        n = f["node"]
        cores = (n.get("cpu_capacity_millicores") or n["cpu_allocatable_millicores"]) / 1000
        gib = (n.get("memory_capacity_bytes") or n["memory_allocatable_bytes"]) / GIB
        cpu, mem = split(node[p["instance_type"]], cores, gib)
        now = {"replicas": 1, "cpu_request_millicores": cores * 1000, "memory_request_bytes": gib * GIB}
    elif "storage_class" in p:
        sto = sc.get(p["storage_class"], STO)
    elif "storage_classes" in p:
        tot = sum(p["storage_classes"].values())
        sto = sum(b * sc.get(k, STO) for k, b in p["storage_classes"].items()) / tot
    c = cost(now, cpu, mem, sto) + f.get("load_balancers", 0) * LB * H
    s = c - (cost(f["recommended"], cpu, mem, sto) if f["recommended"] else 0)
    if abs(c - f["monthly_cost"]) > 1e-3 or abs(s - f["monthly_savings"]) > 1e-3:
        bad.append("%s %s: cost %s savings %s, computed %.4f %.4f" % (f["category"], f["resource"]["name"],
                   f["monthly_cost"], f["monthly_savings"], c, s))
byname = {(f["category"], f["resource"]["name"]): f for f in doc["findings"]}
# two by hand: the m5.xlarge node at $0.125/h, the 100 GiB gp3 claim at $0.05
n = byname[("underutilized-node", "ip-10-0-77-31.eu-west-1.compute.internal")]
if n["monthly_savings"] != 91.25: bad.append("node: %s, expected 0.125 x 730 = 91.25" % n["monthly_savings"])
p = byname[("orphaned-pvc", "scratch-jdoe")]
if p["monthly_savings"] != 5: bad.append("scratch-jdoe: %s, expected 100 GiB x 0.05 = 5" % p["monthly_savings"])
if len(doc["findings"]) < 25: bad.append("only %d findings" % len(doc["findings"]))
print("\n".join(bad)); sys.exit(1 if bad else 0)
EOF

check "the same findings as without the export (money aside; none new)" $PY - "$T/base/findings.json" "$T/run/findings.json" <<'EOF'
import json, sys
a = {f["id"] for f in json.load(open(sys.argv[1]))["findings"]}
b = {f["id"] for f in json.load(open(sys.argv[2]))["findings"]}
print(sorted(b - a), len(a), len(b)); sys.exit(0 if b <= a and len(a - b) <= 2 else 1)
EOF

check "findings.json says where every rate came from" $PY - "$T/run/findings.json" "$T/focus.csv" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1])); p = doc["prices"]; bad = []
fo = p["focus"]
if fo["file"] != sys.argv[2]: bad.append("file %s" % fo["file"])
if (fo["period_start"], fo["period_end"]) != ("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z"): bad.append("period %s" % fo)
# 7 nodes x 30 daily rows + 7 networking + 30 volumes + 4 others
if (fo["rows"], fo["usage_rows"], fo["matched_rows"], fo["unmatched_rows"], fo["networking_rows"]) != (251, 249, 240, 2, 7):
    bad.append("counts %s" % fo)
nt = {n["name"]: n for n in fo["node_types"]}
if nt["m5.2xlarge"]["hourly"] != 0.25 or nt["m5.2xlarge"]["node_hours"] != 3600 or nt["m5.2xlarge"]["nodes"] != 5: bad.append(str(nt))
rs = {(r["kind"], r["name"]): r for r in p["rate_sources"]}
for k, rate in ((("node_type", "m5.2xlarge"), 0.25), (("node_type", "m5.xlarge"), 0.125),
                (("storage_class", "gp3"), 0.05), (("storage_class", "standard"), 0.03)):
    if rs[k]["rate"] != rate or rs[k]["source"] != "focus": bad.append("%s: %s" % (k, rs[k]))
if rs[("global", "cpu")]["source"] != "default": bad.append("global source %s" % rs[("global", "cpu")])
if p["source"] != "default": bad.append("prices.source %s: naming the file sets no price" % p["source"])
priced = [f for f in doc["findings"] if "price" in f]
if len(priced) < 20: bad.append("only %d findings have a price" % len(priced))
for f in priced:
    if f["price"]["source"] != "focus" or any(i["source"] != "focus" for i in f["price"]["items"]):
        bad.append("%s: %s" % (f["resource"]["name"], f["price"]))
    if not any("FOCUS bill" in e["summary"] for e in f["evidence"]): bad.append("%s: no evidence line" % f["resource"]["name"])
print("\n".join(bad)); sys.exit(1 if bad else 0)
EOF
check "findings.json with prices.focus and price sources follows findings.schema.json" \
	schema_valid "$ROOT/docs/contracts/findings.schema.json" "$T/run/findings.json"

check "report.md shows the price sources and the export" $PY - "$T/run/report.md" <<'EOF'
import sys
md = open(sys.argv[1]).read()
want = ["### Price sources", "| Instance type m5.2xlarge | $0.25 per node-hour | focus | FOCUS bill: 5 nodes, 3600 node-hours, 150 rows |",
        "| StorageClass gp3 | $0.05 per GiB-month | focus |", "| Global cpu | $0.031611 per core-hour | default |",
        "2026-10-01 00:00 UTC to 2026-10-31 00:00 UTC: 251 rows", "| m5.xlarge | $0.125 |", "with effective rates from the FOCUS cost export"]
miss = [w for w in want if w not in md]; print(miss); sys.exit(1 if miss else 0)
EOF
check "report.html shows the price sources" grep -q 'Instance type m5.2xlarge</td>' "$T/run/report.html"
check "report.xlsx lists the price sources on its Prices sheet" $PY - "$T/run/report.xlsx" <<'EOF'
import sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1])["Prices"]
rows = [[c.value for c in r] for r in ws.iter_rows()]
head = [i for i, r in enumerate(rows) if r[0] == "Price sources"]
ok = head and any(r[0] == "Instance type m5.2xlarge" and r[1] == 0.25 and r[3] == "focus" for r in rows[head[0]:]) \
    and any(r[0] == "StorageClass standard" and r[1] == 0.03 and r[3] == "focus" for r in rows[head[0]:])
print(rows[head[0]:] if head else rows); sys.exit(0 if ok else 1)
EOF
check "the terminal says which export, which period, how many rows matched" \
	grep -q 'prices: FOCUS export .*focus.csv, 2026-10-01T00:00:00Z to 2026-10-31T00:00:00Z: 251 rows, 249 usage rows, 240 matched' "$T/run.err"

# ------------------------------------------------------------ precedence, env, fallback
printf 'prices:\n  node_types:\n    m5.xlarge: {hourly: 0.2}\n' >"$T/cfg.yaml"
cp -r "$T/run" "$T/prec"
KOPILOT_PRICES_FOCUS_FILE="$T/focus.csv" "$KOPILOT" recommend "$T/prec" --config "$T/cfg.yaml" --quiet >/dev/null 2>&1
check "configured prices.node_types win over the bill; the environment names the export" $PY - "$T/prec/findings.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
f = [f for f in doc["findings"] if f["category"] == "underutilized-node"][0]
rs = {(r["kind"], r["name"]): r for r in doc["prices"]["rate_sources"]}
x = rs[("node_type", "m5.xlarge")]
ok = abs(f["monthly_savings"] - 146) < 1e-9 and f["price"]["source"] == "config" and x["source"] == "config" \
    and "wins over the FOCUS bill's effective $0.125/h" in x["basis"] and rs[("node_type", "m5.2xlarge")]["source"] == "focus" \
    and doc["prices"]["focus"]["matched_rows"] == 240
print(f["monthly_savings"], f["price"], x); sys.exit(0 if ok else 1)
EOF

$PY "$GEN" "$DEMO" "$T/short.csv" --hours 4
cp -r "$T/run" "$T/short"
"$KOPILOT" recommend "$T/short" --focus "$T/short.csv" --quiet >/dev/null 2>"$T/short.err"
check "under 24 hours of data: no rate, a warning, the next source (the defaults)" $PY - "$T/short/findings.json" "$T/base/findings.json" "$T/short.err" <<'EOF'
import json, sys
doc, base, err = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), open(sys.argv[3]).read()
rs = {(r["kind"], r["name"]): r for r in doc["prices"]["rate_sources"]}
x = rs[("node_type", "m5.xlarge")]
money = lambda d: {f["id"]: f["monthly_savings"] for f in d["findings"]}
ok = x["rate"] is None and x["source"] == "default" and "only 8 node-hours" in x["basis"] \
    and "prices: FOCUS instance type m5.xlarge: only 8 node-hours of data in the export (under 24): not used; the next price source applies" in err \
    and "FOCUS instance type m5.2xlarge: only 20 node-hours" in err and money(doc) == money(base)
print(x, err); sys.exit(0 if ok else 1)
EOF

# ------------------------------------------------------------ bad files
bad() { # bad NAME PATTERN CONTENT: a run with the file exits 2 naming it, and writes no
	# output: the run directory holds only audit.jsonl, which records the failure
	printf '%b' "$3" >"$T/bad.csv"
	expect_exit "$1" 2 "$2" -- "$KOPILOT" run --snapshot "$DEMO" --out "$T/badrun" --now $NOW --focus "$T/bad.csv" --quiet
	local left
	left=$(ls -A "$T/badrun" 2>/dev/null | grep -vx audit.jsonl)
	if [ -z "$left" ] && grep -q 'bad.csv' "$T/badrun/audit.jsonl" 2>/dev/null; then
		ok "$1: no output written, the audit log records why"
	else
		not_ok "$1: no output written, the audit log records why" "$left"
	fi
	rm -rf "$T/badrun"
}
H='ChargeCategory,ChargePeriodStart,ChargePeriodEnd,EffectiveCost,BillingCurrency,ResourceId,PricingUnit,PricingQuantity\r\n'
R='Usage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,6,USD,i-090836751ad38f643,Hrs,24\r\n'
bad "a missing column is named" "bad.csv:1: required FOCUS column EffectiveCost is missing" \
	'ChargeCategory,ChargePeriodStart,ChargePeriodEnd,BillingCurrency,ResourceId,PricingUnit,PricingQuantity\r\n'
bad "a bad number names the line and column" 'bad.csv:3: column EffectiveCost: expected a number, got "6,00"' \
	"$H$R"'Usage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,"6,00",USD,i-090836751ad38f643,Hrs,24\r\n'
bad "an unterminated quote names the line" 'bad.csv:2: field 6: unterminated quoted field' \
	"$H"'Usage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,6,USD,"i-090836751ad38f643,Hrs,24\r\n'
bad "another currency is refused" 'bad.csv:2: column BillingCurrency: the export bills in "EUR" but prices.currency is USD' \
	"$H"'Usage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,6,EUR,i-090836751ad38f643,Hrs,24\r\n'
expect_exit "a missing export is a configuration error" 2 "nope.csv" -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/badrun" --now $NOW --focus "$T/nope.csv" --quiet
printf '%b' "$H"'Usage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,x,USD,i-1,Hrs,24\r\n' >"$T/bad.csv"
before=$(sha256sum "$T/run/findings.json")
expect_exit "recommend with a bad export exits 2" 2 "bad.csv:2: column EffectiveCost" -- \
	"$KOPILOT" recommend "$T/run" --focus "$T/bad.csv" --quiet
check "... and leaves the run's findings.json as it was" test "$before" = "$(sha256sum "$T/run/findings.json")"

# ------------------------------------------------------------ size: bounded memory
$PY "$GEN" "$DEMO" "$T/big.csv" --rows 1000000
cp -r "$T/run" "$T/big"
/usr/bin/time -v "$KOPILOT" recommend "$T/big" --focus "$T/big.csv" --quiet >/dev/null 2>"$T/big.err"
rc=$?
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/big.err")
size=$(stat -c %s "$T/big.csv")
if [ $rc -eq 3 ] && [ -n "$rss" ] && [ "$rss" -lt 65536 ]; then
	ok "a 1,000,000-row export ($((size / 1048576)) MB) is read in bounded memory (peak RSS ${rss} kB < 64 MB)"
else
	not_ok "a 1,000,000-row export is read in bounded memory (exit $rc, peak RSS ${rss:-?} kB)" "$(tail -30 "$T/big.err")"
fi
check "... and all of it is read" $PY -c '
import json, sys
fo = json.load(open(sys.argv[1]))["prices"]["focus"]
print(fo["rows"], fo["matched_rows"]); sys.exit(0 if fo["rows"] == fo["matched_rows"] == 1000000 else 1)' "$T/big/findings.json"

finish
