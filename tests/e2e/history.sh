#!/usr/bin/env bash
# History for FinOps: several real runs into one --state-dir, with different
# --now times and different waste (--set options that change the findings),
# then: pruning to history.keep_runs (only kopilot's complete runs, never the
# one just written, nothing else in the directory), the per-run summaries
# and the trend (history.json) agreeing with each run's findings.json, a
# corrupt summary costing a warning and not the run, a run of another scope
# kept off the trend, report.html's SVG trend read back in headless Chromium
# (one point per run, values as in the summaries, nothing blocked by a
# strict Content-Security-Policy), and report.xlsx's History sheet and
# native chart read back with openpyxl and through LibreOffice. A 365-run
# state directory checks the chart stays readable. Ends with "N passed, N
# failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/history.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
DEMO=$ROOT/examples/demo-cluster
T=$(mktemp -d /tmp/kopilot-history.XXXXXX)
trap 'rm -rf "$T"' EXIT

SUITE=history
. "$ROOT/tests/e2e/lib.sh"
need "$KOPILOT" "build it with 'make'"
need $PY python3
need soffice libreoffice-calc-nogui
need chromium chromium
$PY -c 'import openpyxl' 2>/dev/null || { echo "history: python3-openpyxl is missing: run 'make deps'" >&2; exit 1; }

chrome() { # chrome PROFILE ARGS...: headless, no network chatter, bounded in time
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome-$1" "${@:2}"
}

STATE=$T/state
mkdir -p "$STATE/notes" "$T/elsewhere"
echo "mine" >"$STATE/notes/README.md"                        # someone's directory
echo "x" >"$STATE/file.txt"
# a link to a complete run somewhere else: its target is not the state directory's
"$KOPILOT" run --snapshot "$DEMO" --out "$T/elsewhere/run" --now 2026-10-01T06:00:00Z --quiet 2>/dev/null
ln -s "$T/elsewhere/run" "$STATE/linked"

# Six nightly runs, the waste changing from night to night; keep 4.
margins=(0.15 0.10 0.30 0.50 0.25 0.60)
export KOPILOT_HISTORY_KEEP_RUNS=4
for i in 1 2 3 4 5 6; do
	"$KOPILOT" run --snapshot "$DEMO" --state-dir "$STATE" --now "2026-11-0${i}T06:00:00Z" \
		--set rightsizing.cpu_margin=${margins[$((i - 1))]} --set rightsizing.min_monthly_savings=$((i * 2)) \
		>"$T/run$i.out" 2>"$T/run$i.err"
	echo $? >"$T/run$i.rc"
done
check "six runs into one state directory finish (exit 3: the demo is degraded on purpose)" \
	bash -c "for i in 1 2 3 4 5 6; do [ \$(cat $T/run\$i.rc) -eq 3 ] || { echo run \$i: \$(cat $T/run\$i.rc); cat $T/run\$i.err; exit 1; }; done"
runs() { find "$STATE" -mindepth 1 -maxdepth 1 -type d -name '2*' | sort; }
check "history.keep_runs=4: four runs are left" test "$(runs | wc -l)" -eq 4
check "runs 5 and 6 each removed the oldest run, and said so" bash -c \
	"grep -q 'removed the old run $STATE/' '$T/run5.err' && grep -q 'removed the old run $STATE/' '$T/run6.err' && ! grep -q 'removed the old run' '$T/run4.err'"
check "the runs left are the newest four (--now 03 to 06)" $PY - "$STATE" <<'EOF'
import json, os, sys
st = sys.argv[1]
got = sorted(json.load(open(os.path.join(st, d, "findings.json")))["generated_at"] for d in os.listdir(st)
             if d.startswith("2") and os.path.isdir(os.path.join(st, d)))
assert got == ["2026-11-0%dT06:00:00Z" % i for i in (3, 4, 5, 6)], got
EOF
check "nothing that is not a run was touched (a directory, a file, a symlink to a run and its target)" bash -c \
	"[ -f '$STATE/notes/README.md' ] && [ -f '$STATE/file.txt' ] && [ -L '$STATE/linked' ] && [ -f '$T/elsewhere/run/findings.json' ]"
check "no lock, staging or pruned directory left behind" bash -c "! ls -a '$STATE' | grep -E 'pruned|\\.new\\.|^\\.2.*\\.lock'"
LAST=$(runs | tail -1)
check "the removal is in the run's audit.jsonl (history.prune)" grep -q '"history.prune"' "$LAST/audit.jsonl"

# The summaries and the trend agree with each run's findings.json.
check "summary.json of each run = its findings.json totals; history.json = the four summaries in date order" \
	$PY - "$STATE" "$LAST" <<'EOF'
import json, os, sys
st, last = sys.argv[1], sys.argv[2]
sums = {}
for d in sorted(os.listdir(st)):
    p = os.path.join(st, d)
    if not d.startswith("2") or not os.path.isdir(p): continue
    s, f = json.load(open(p + "/summary.json")), json.load(open(p + "/findings.json"))
    assert s["schema"] == "kopilot.summary/v1"
    assert abs(s["monthly_savings"] - f["totals"]["actionable_monthly_savings"]) < 0.005, (d, s["monthly_savings"])
    assert s["findings"] == len(f["findings"]) == f["totals"]["findings"], d
    assert abs(sum(c["monthly_savings"] for c in s["categories"].values()) - s["monthly_savings"]) < 0.01, d
    for cat, c in s["categories"].items():
        want = sum(x["monthly_savings"] for x in f["findings"] if x["category"] == cat and not x["action"]["blocked"])
        assert abs(c["monthly_savings"] - want) < 0.01, (d, cat)
    assert s["generated_at"] == f["generated_at"]
    sums[d] = s
h = json.load(open(last + "/history.json"))
assert h["schema"] == "kopilot.history/v1" and h["currency"] == "USD"
runs = h["runs"]
assert [r["run"] for r in runs] == sorted(sums), [r["run"] for r in runs]
assert [r["generated_at"] for r in runs] == sorted(r["generated_at"] for r in runs)
for r in runs:
    s = sums[r["run"]]
    assert r["monthly_savings"] == s["monthly_savings"] and r["findings"] == s["findings"], r["run"]
assert runs[-1]["current"] and not any(r["current"] for r in runs[:-1])
vals = [r["monthly_savings"] for r in runs]
assert len(set(vals)) > 1, "the waste did not change from run to run: %r" % vals
EOF
check "report.md has the trend table, one row per run, the last one this run" $PY - "$LAST" <<'EOF'
import json, sys
run = sys.argv[1]
h, md = json.load(open(run + "/history.json")), open(run + "/report.md").read()
sec = md[md.index("## Savings trend"):md.index("## Summary")]
for r in h["runs"]:
    row = "| %s %s UTC%s | ${:,.2f} | %d |".format(r["monthly_savings"]) % (
        r["generated_at"][:10], r["generated_at"][11:16], " (this run)" if r["current"] else "", r["findings"])
    assert row in sec, (row, sec)
assert "4 runs from 2026-11-03 06:00 UTC to 2026-11-06 06:00 UTC" in sec, sec
EOF

# Chromium: the SVG is in the page as rendered, one point per run, values as in the summaries.
chrome dom --dump-dom "file://$LAST/report.html" >"$T/dom.html" 2>"$T/dom.err"
check "Chromium's DOM has the trend SVG with one point per run and the summaries' values" $PY - "$T/dom.html" "$LAST" <<'EOF'
import json, re, sys
dom, run = open(sys.argv[1]).read(), sys.argv[2]
h = json.load(open(run + "/history.json"))
m = re.search(r'<svg [^>]*class="trend-chart"[^>]*>(.*?)</svg>', dom, re.S)
assert m, "no trend svg in the DOM"
svg = m.group(0)
assert 'role="img"' in svg and '<title id="trend-title">' in svg and '<desc id="trend-desc">' in svg
pts = re.findall(r'<circle [^>]*data-date="([^"]+)" data-savings="([^"]+)" data-findings="(\d+)"', svg)
assert len(pts) == len(h["runs"]) == 4, pts
for (at, sav, n), r in zip(pts, h["runs"]):
    assert at == r["generated_at"] and abs(float(sav) - r["monthly_savings"]) < 0.005 and int(n) == r["findings"], (at, sav, r)
assert svg.count("<polyline") == 1
assert dom.index("Savings trend") < dom.index('class="trend-chart"') < dom.index("## Summary" if "## Summary" in dom else ">Summary</h2>")
EOF
# The report under a strict policy: no script, no image, no connection; the
# page's own inline <style> allowed (as it must be for the rest of it).
sed 's|<head>|<head>\n<meta http-equiv="Content-Security-Policy" content="default-src '"'"'none'"'"'; style-src '"'"'unsafe-inline'"'"'">|' \
	"$LAST/report.html" >"$T/csp.html"
if chrome csp --enable-logging=stderr --v=0 --window-size=1280,1600 --screenshot="$T/trend.png" "file://$T/csp.html" \
	>"$T/csp.out" 2>"$T/csp.err" && [ -s "$T/trend.png" ]; then
	if grep -qiE 'Content.Security.Policy|CONSOLE' "$T/csp.err"; then not_ok "report.html with its trend renders under a strict CSP with nothing refused" "$(grep -iE 'Content.Security|CONSOLE' "$T/csp.err")"
	else ok "report.html with its trend renders under a strict CSP with nothing refused"; fi
else
	not_ok "report.html renders in Chromium under a strict CSP" "$(tail -5 "$T/csp.err")"
fi

# report.xlsx: History sheet and its chart, read with openpyxl and through LibreOffice.
check "report.xlsx History: one row per run, real dates, money and counts as numbers, a column per category" \
	$PY - "$LAST/report.xlsx" "$LAST/history.json" <<'EOF'
import json, sys, datetime
from openpyxl import load_workbook
h = json.load(open(sys.argv[2]))
ws = load_workbook(sys.argv[1])["History"]
hdr = [c.value for c in ws[23]]
assert hdr[:4] == ["Date (UTC)", "Run", "Net potential savings (USD/month)", "Findings"], hdr
cats = list(h["runs"][-1]["categories"])
assert hdr[4:4 + len(cats)] == ["%s (USD/month)" % c for c in cats], hdr
rows = list(ws.iter_rows(min_row=24, values_only=False))
rows = [r for r in rows if r[0].value is not None]
assert len(rows) == len(h["runs"]), len(rows)
for r, p in zip(rows, h["runs"]):
    assert r[0].is_date and isinstance(r[0].value, datetime.datetime), r[0].value
    assert r[0].value.strftime("%Y-%m-%dT%H:%M:%SZ") == p["generated_at"]
    assert isinstance(r[2].value, (int, float)) and abs(r[2].value - p["monthly_savings"]) < 1e-6
    assert "$" in r[2].number_format, r[2].number_format
    assert isinstance(r[3].value, int) and r[3].value == p["findings"]
    for k, c in enumerate(cats):
        assert abs(r[4 + k].value - p["categories"][c]["monthly_savings"]) < 1e-6, (c, r[4 + k].value)
EOF
check "report.xlsx has a native line chart over the History sheet's ranges (xl/charts/chart1.xml)" \
	$PY - "$LAST/report.xlsx" "$LAST/history.json" <<'EOF'
import json, re, sys, zipfile
n = len(json.load(open(sys.argv[2]))["runs"])
z = zipfile.ZipFile(sys.argv[1])
c = z.read("xl/charts/chart1.xml").decode()
assert "<c:lineChart>" in c, "not a line chart"
refs = re.findall(r"<c:f>([^<]*)</c:f>", c)
assert "History!$A$24:$A$%d" % (23 + n) in refs and "History!$C$24:$C$%d" % (23 + n) in refs, refs
EOF
check "LibreOffice reads the History sheet and its chart back (converted headless, read with openpyxl)" \
	$PY - "$LAST/report.xlsx" "$LAST/history.json" "$T/lo" <<'EOF'
import json, os, re, shutil, subprocess, sys, zipfile
from openpyxl import load_workbook
src, h, work = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
os.makedirs(work + "/in"); shutil.copy(src, work + "/in/report.xlsx")
p = subprocess.run(["soffice", "--headless", "--norestore", "-env:UserInstallation=file://" + work + "/profile",
                    "--convert-to", "xlsx", "--outdir", work + "/out", work + "/in/report.xlsx"],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180, stdin=subprocess.DEVNULL)
out = work + "/out/report.xlsx"
assert p.returncode == 0 and os.path.exists(out), p.stdout.decode()[-500:]
ws = load_workbook(out)["History"]
rows = [r for r in ws.iter_rows(min_row=24, values_only=True) if r[0] is not None]
assert len(rows) == len(h["runs"]), rows
for r, q in zip(rows, h["runs"]):
    assert r[0].strftime("%Y-%m-%dT%H:%M:%SZ") == q["generated_at"], r[0]
    assert abs(r[2] - q["monthly_savings"]) < 1e-6 and r[3] == q["findings"], r
z = zipfile.ZipFile(out)
charts = [n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)]
assert charts, "LibreOffice dropped the chart: %r" % z.namelist()
c = z.read(charts[0]).decode()
assert "lineChart" in c and re.search(r"History!\$C\$24:\$C\$%d" % (23 + len(h["runs"])), c), re.findall(r"<c:f>([^<]*)</c:f>", c)
EOF

# A corrupt summary costs a warning and that run's point, never the run.
PREV=$(runs | sed -n 2p)
echo '{"schema": "kopilot.summary/v1", "generated_at": ' >"$PREV/summary.json"
"$KOPILOT" run --snapshot "$DEMO" --state-dir "$STATE" --now 2026-11-07T06:00:00Z >"$T/run7.out" 2>"$T/run7.err"
rc=$?
check "a corrupt summary.json in the state directory: the run still finishes (exit $rc)" test $rc -eq 3
check "... with a warning naming the file" grep -q "history: $PREV/summary.json: .*left off the trend" "$T/run7.err"
LAST=$(runs | tail -1)
check "... and the trend leaves that run out (3 points: two others and this run)" $PY - "$LAST/history.json" "$(basename "$PREV")" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))
assert [r["run"] for r in h["runs"]].count(sys.argv[2]) == 0 and len(h["runs"]) == 3, h["runs"]
assert h["left_out"]["unreadable"] == 1, h["left_out"]
EOF
# A run deleted by hand is simply gone from the next trend.
DELETED=$(runs | grep -v "^$PREV\$" | head -1)
rm -rf "$DELETED"
"$KOPILOT" run --snapshot "$DEMO" --state-dir "$STATE" --now 2026-11-08T06:00:00Z --quiet 2>"$T/run8.err"
rc=$?
LAST=$(runs | tail -1)
check "a run deleted by hand: the next run finishes (exit $rc)" test $rc -eq 3
check "... and its trend has the runs that are there" \
	$PY - "$STATE" "$LAST/history.json" "$(basename "$DELETED")" "$(basename "$PREV")" <<'EOF'
import json, os, sys
st, h, deleted, corrupt = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
there = sorted(d for d in os.listdir(st) if d.startswith("2"))
names = [r["run"] for r in h["runs"]]
assert deleted not in names, names
assert names == [d for d in there if d != corrupt], (names, there)   # the corrupt one stays off
EOF

# Another scope is not on the whole cluster's trend.
"$KOPILOT" run --snapshot "$DEMO" --state-dir "$STATE" --now 2026-11-09T06:00:00Z -n checkout --quiet 2>/dev/null
rc=$?
LAST=$(runs | tail -1)
check "a --namespace run finishes (exit $rc: its scope has no gap)" test $rc -eq 0
check "... and has a trend of its own scope only: itself" $PY - "$LAST/history.json" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))
assert len(h["runs"]) == 1 and h["runs"][0]["current"], h["runs"]
assert h["left_out"]["other_scope"] >= 2, h["left_out"]
assert h["scope"]["namespaces"] == ["checkout"]
EOF
check "... and its report says so in one sentence, with no line to draw" bash -c \
	"grep -q 'The first run of this scope in the state directory' '$LAST/report.md' && grep -q 'of another cluster, currency or scope' '$LAST/report.md'"

# kopilot render RUN on a copy elsewhere: the trend comes with the run (history.json).
cp -r "$(runs | sed -n 2p)" "$T/copied"
rm -f "$T/copied/report.html"
check "kopilot render on a copied run keeps its trend" bash -c \
	"'$KOPILOT' render '$T/copied' --quiet 2>/dev/null; [ \$? -eq 3 ] && grep -q 'class=\"trend-chart\"' '$T/copied/report.html'"
# history.keep_runs=0 keeps every run; a bad value is a usage error.
n_before=$(runs | wc -l)
KOPILOT_HISTORY_KEEP_RUNS=0 "$KOPILOT" run --snapshot "$DEMO" --state-dir "$STATE" --now 2026-11-10T06:00:00Z --quiet 2>/dev/null
check "history.keep_runs=0 removes nothing" test "$(runs | wc -l)" -eq $((n_before + 1))
expect_exit "history.keep_runs=-1 is refused, naming the key" 2 'history.keep_runs' -- \
	"$KOPILOT" run --snapshot "$DEMO" --state-dir "$STATE" --set history.keep_runs=-1

# A year of nightly runs: 364 made from one real run's files, then a real one.
BIG=$T/big
"$KOPILOT" run --snapshot "$DEMO" --out "$T/seed" --now 2025-12-01T06:00:00Z --quiet 2>/dev/null
$PY - "$T/seed" "$BIG" <<'EOF'
import json, math, os, shutil, sys, datetime
seed, big = sys.argv[1], sys.argv[2]
s0, r0 = json.load(open(seed + "/summary.json")), json.load(open(seed + "/run.json"))
start = datetime.datetime(2025, 12, 1, 6, 0, 0)
for i in range(364):
    t = start + datetime.timedelta(days=i)
    d = os.path.join(big, t.strftime("%Y%m%dT%H%M%SZ"))
    os.makedirs(d)
    shutil.copy(seed + "/findings.json", d)
    r = dict(r0, finished_at=t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    json.dump(r, open(d + "/run.json", "w"))
    s = dict(s0, generated_at=t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    s["monthly_savings"] = round(s0["monthly_savings"] * (1 + 0.3 * math.sin(i / 20.0)) - i * 0.5, 2)
    json.dump(s, open(d + "/summary.json", "w"))
EOF
"$KOPILOT" run --snapshot "$DEMO" --state-dir "$BIG" --now 2026-11-30T06:00:00Z --set history.keep_runs=365 --quiet 2>/dev/null
BLAST=$(find "$BIG" -mindepth 1 -maxdepth 1 -type d -newer "$T/seed/run.json" | sort | tail -1)
check "365 runs: nothing pruned at history.keep_runs=365" test "$(find "$BIG" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 365
chrome big --dump-dom "file://$BLAST/report.html" >"$T/big-dom.html" 2>/dev/null
check "365 runs: Chromium's DOM has 365 points and at most 9 date labels" $PY - "$T/big-dom.html" <<'EOF'
import re, sys
svg = re.search(r'<svg [^>]*class="trend-chart".*?</svg>', open(sys.argv[1]).read(), re.S).group(0)
assert svg.count("<circle") == 365, svg.count("<circle")
xl = re.search(r'<g class="x-axis".*?</g>', svg, re.S).group(0)
labels = re.findall(r">(\d{4}-\d\d-\d\d)</text>", xl)
assert 2 <= len(labels) <= 9 and labels[-1] == "2026-11-30", labels
EOF
chrome bigshot --window-size=1280,1400 --screenshot="$T/trend365.png" "file://$BLAST/report.html" >/dev/null 2>&1
check "365 runs: Chromium renders the page" test -s "$T/trend365.png"
# for a person to look at: KEEP_SHOTS=DIR keeps the two screenshots
[ -n "${KEEP_SHOTS:-}" ] && cp "$T/trend.png" "$T/trend365.png" "$KEEP_SHOTS/" 2>/dev/null

finish
