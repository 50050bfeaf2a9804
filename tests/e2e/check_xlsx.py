#!/usr/bin/python3
"""check_xlsx.py REPORT.xlsx FINDINGS.json - read report.xlsx back the way a
reviewer's spreadsheet would, and check it against findings.json.

Run with Debian's /usr/bin/python3 (needs python3-openpyxl) and LibreOffice
(libreoffice-calc-nogui) for recalculation.

What it proves:
  1. LibreOffice recalculates the workbook. A copy has every cached formula
     value replaced by a poison number before conversion, and the profile
     forces "always recalculate on load" (LibreOffice otherwise trusts the
     cached values of files that say they come from Excel, as libxlsxwriter's
     do); no poison may survive.
  2. The recalculated numbers match findings.json: row count, per-row monthly
     cost and savings, the Summary breakdown (cost today, savings needing no
     approval, needing approval, reliability fixes, net = totals.
     actionable_monthly_savings, blocked = totals.blocked_monthly_savings:
     shown apart, never in the net), by-category and by-namespace tables
     (savings without the blocked ones, blocked in a column of their own).
     The cached values kopilot wrote match the recalculated ones (viewers
     that never recalculate show the same numbers). Savings cells are
     formulas over the price names; panes frozen; autofilter set; cluster
     text written as text, never as a formula.
  3. Doubling the CPU price on the Prices sheet (openpyxl, then recalc)
     changes the net savings by exactly the CPU part computed from
     findings.json, counting only the rows priced at the global CPU price
     (rows with a finding-specific "price" keep their own rate) and not
     blocked.
  4. Each row's price cells: =CpuCoreHour / =MemoryGiBHour /
     =StorageGiBMonth by default, or exactly the finding's "price" values.
  5. The Findings sheet prints: landscape, one page wide, the header row
     repeated, a print area from ID to Explanation; every data row is at
     most 45 pt tall (the XML's row heights); LibreOffice turns the sheet
     alone into a PDF of at most ceil(findings / 15) + 1 pages (77 pages
     for the 31-finding demo before).

Prints one "ok - ..." / "not ok - ..." line per check and exits 1 on any
failure, 2 on bad usage or a missing tool.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

TOL = 0.01
POISON = -987654.321
PRICE_NAMES = ["CpuCoreHour", "MemoryGiBHour", "StorageGiBMonth", "LoadBalancerHour", "HoursPerMonth"]
NO_NAMESPACE = "(cluster)"  # as findings_json.h KP_CLUSTER_SCOPED_LABEL
GIB = float(1 << 30)

try:
    import openpyxl
    import openpyxl.utils
except ImportError:
    sys.stderr.write("check_xlsx.py: openpyxl is missing: apt-get install python3-openpyxl "
                     "(and run with /usr/bin/python3)\n")
    sys.exit(2)

RESULTS = []


def check(ok, what, detail=""):
    RESULTS.append(bool(ok))
    line = ("ok - " if ok else "not ok - ") + what
    if not ok and detail:
        line += ": " + detail
    print(line, flush=True)
    return ok


def close(a, b):
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= TOL


# ---- LibreOffice ----

RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def find_soffice():
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    for p in ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice"):
        if os.access(p, os.X_OK):
            return p
    return None


def recalc(soffice, src, workdir, tag):
    """Converts src to xlsx with LibreOffice in a fresh profile that always
    recalculates on load; returns the converted path."""
    profile = os.path.join(workdir, "lo-" + tag)
    os.makedirs(os.path.join(profile, "user"), exist_ok=True)
    with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w") as f:
        f.write(RECALC_XCU)
    indir = os.path.join(workdir, "in-" + tag)
    outdir = os.path.join(workdir, "out-" + tag)
    os.makedirs(indir, exist_ok=True)
    copy = os.path.join(indir, "report.xlsx")
    shutil.copyfile(src, copy)
    cmd = [soffice, "--headless", "--norestore", "-env:UserInstallation=file://" + profile,
           "--convert-to", "xlsx", "--outdir", outdir, copy]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RuntimeError("LibreOffice did not finish within 180 s")
    out = os.path.join(outdir, "report.xlsx")
    if p.returncode != 0 or not os.path.exists(out):
        raise RuntimeError("LibreOffice conversion failed (exit %d): %s"
                           % (p.returncode, p.stdout.decode("utf-8", "replace").strip()[-500:]))
    return out


def poison_cached_values(src, dst):
    """Copies src replacing every cached formula result with POISON, so a
    value read after conversion can only have come from a recalculation."""
    pat = re.compile(r"(<f>[^<]*</f>|<f [^>]*>[^<]*</f>|<f [^>]*/>)<v>[^<]*</v>")
    n = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/") and item.filename.endswith(".xml"):
                text, k = pat.subn(lambda m: m.group(1) + "<v>%r</v>" % POISON, data.decode("utf-8"))
                n += k
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return n


# ---- reading the workbook ----

def header_map(ws):
    cols = {}
    for cell in ws[1]:
        if isinstance(cell.value, str):
            cols[cell.value] = cell.column
    return cols


def col_starting(cols, prefix):
    for name, c in cols.items():
        if name.startswith(prefix):
            return c
    return None


def summary_value(ws, label_prefix):
    for row in ws.iter_rows(min_col=1, max_col=2):
        a = row[0].value
        if isinstance(a, str) and a.startswith(label_prefix):
            return row[1].value
    return None


def summary_table(ws, title):
    """Rows of the "By ..." block: {key: (count, cost, savings, blocked)}."""
    rows = list(ws.iter_rows(values_only=True))
    for i, r in enumerate(rows):
        if r and r[0] == title:
            out = {}
            for r2 in rows[i + 2:]:
                if not r2 or r2[0] is None or r2[0] == "(no findings)":
                    break
                out[r2[0]] = (r2[1], r2[2], r2[3], r2[4] if len(r2) > 4 else None)
            return out
    return None


def defined_name_dest(wb, name):
    """(sheet title, cell coordinate) a workbook-level defined name points
    at; works with openpyxl 3.0 (DefinedNameList) and 3.1 (dict)."""
    dn = None
    names = wb.defined_names
    if hasattr(names, "get"):
        try:
            dn = names.get(name)
        except TypeError:
            dn = None
    if dn is None and hasattr(names, "definedName"):
        for d in names.definedName:
            if d.name == name and d.localSheetId is None:
                dn = d
    if dn is None:
        return None
    for sheet, coord in dn.destinations:
        return sheet, coord.replace("$", "")
    return None


# ---- expectations from findings.json ----

def size(sizes, key, dflt=0.0):
    if not sizes or sizes.get(key) is None:
        return dflt
    return float(sizes[key])


RATE_COLS = (("CPU price", "cpu_core_hour", "CpuCoreHour"),
             ("Memory price", "memory_gib_hour", "MemoryGiBHour"),
             ("Storage price", "storage_gib_month", "StorageGiBMonth"))


def cpu_part(doc):
    """Savings due to CPU alone at the document's CPU price, over the rows
    priced at the global CPU price."""
    p = doc["prices"]
    total = 0.0
    for f in doc["findings"]:
        if "cpu_core_hour" in (f.get("price") or {}) or f["action"]["blocked"]:
            continue
        cur, rec, node = f.get("current") or {}, f.get("recommended"), f.get("node")
        v = size(cur, "replicas", 1) * size(cur, "cpu_request_millicores") / 1000.0
        if node:  # a node is priced at its capacity (allocatable without one), it has no requests
            v += (node.get("cpu_capacity_millicores") or node.get("cpu_allocatable_millicores") or 0) / 1000.0
        if rec is not None:
            v -= size(rec, "replicas", 1) * size(rec, "cpu_request_millicores") / 1000.0
        total += v * p["cpu_core_hour"] * p["hours_per_month"]
    return total


def namespace_of(f):
    ns = (f.get("resource") or {}).get("namespace")
    return ns if ns else NO_NAMESPACE


def groups(doc, keyf):
    """{key: (count, cost, savings of actions not blocked, blocked savings)}."""
    g = {}
    for f in doc["findings"]:
        k = keyf(f)
        c, cost, sav, blk = g.get(k, (0, 0.0, 0.0, 0.0))
        s = f["monthly_savings"]
        if f["action"]["blocked"]:
            blk += s
        else:
            sav += s
        g[k] = (c + 1, cost + f["monthly_cost"], sav, blk)
    return g


# Summary rows, by label prefix, and what findings.json says they hold:
# the split report.md's Summary table has (stages/render/savings.c).
KEY_FIGURES = (
    ("Cost today", lambda d, sp: d["totals"]["monthly_cost"]),
    ("Savings that need no approval", lambda d, sp: sp["no_approval"]),
    ("Savings that need approval", lambda d, sp: sp["approval"]),
    ("Extra cost of reliability fixes", lambda d, sp: -sp["reliability"]),
    ("Net potential savings", lambda d, sp: d["totals"].get("actionable_monthly_savings")),
    ("Blocked, review only", lambda d, sp: d["totals"].get("blocked_monthly_savings")),
)


def split(doc):
    sp = {"no_approval": 0.0, "approval": 0.0, "reliability": 0.0, "blocked": 0.0}
    for f in doc["findings"]:
        s, a = f["monthly_savings"], f["action"]
        if a["blocked"]:
            sp["blocked"] += s
        elif s < 0:
            sp["reliability"] -= s
        elif a["approval_required"]:
            sp["approval"] += s
        else:
            sp["no_approval"] += s
    return sp


# ---- checks ----

def check_static(wb_f, doc, n):
    """Checks on the workbook as written (formulas, layout, text cells)."""
    ws = wb_f["Findings"] if "Findings" in wb_f.sheetnames else None
    if not check(ws is not None, "Findings sheet exists"):
        return
    for s in ("Summary", "Prices", "Skipped"):
        check(s in wb_f.sheetnames, "%s sheet exists" % s)
    check(wb_f.sheetnames[0] == "Summary", "Summary is the first sheet", str(wb_f.sheetnames))

    check(ws.freeze_panes == "A2", "Findings header row frozen", "freeze_panes=%r" % ws.freeze_panes)
    ref = ws.auto_filter.ref
    want_last = max(n, 1) + 1
    m = re.match(r"^A1:[A-Z]+(\d+)$", ref or "")
    check(m is not None and int(m.group(1)) == want_last,
          "Findings autofilter covers the table", "ref=%r, want A1:..%d" % (ref, want_last))

    for name in PRICE_NAMES:
        d = defined_name_dest(wb_f, name)
        check(d is not None and d[0] == "Prices", "defined name %s points at the Prices sheet" % name, repr(d))

    cols = header_map(ws)
    c_cost, c_sav = col_starting(cols, "Monthly cost"), col_starting(cols, "Monthly savings")
    if not check(c_cost and c_sav, "Findings has Monthly cost and Monthly savings columns", str(list(cols))):
        return
    rate_cols = [(col_starting(cols, hdr), key, name) for hdr, key, name in RATE_COLS]
    if not check(all(c for c, _, _ in rate_cols), "Findings has CPU, memory and storage price columns",
                 str(list(cols))):
        return
    rate_letters = [openpyxl.utils.get_column_letter(c) for c, _, _ in rate_cols]
    bad = []
    for r in range(2, n + 2):
        sav = ws.cell(row=r, column=c_sav).value
        cost = ws.cell(row=r, column=c_cost).value
        refs = ["%s%d" % (L, r) for L in rate_letters]
        if not (isinstance(sav, str) and sav.startswith("=") and "HoursPerMonth" in sav
                and all(k in sav for k in refs)):
            bad.append("row %d savings %r" % (r, sav))
        if not (isinstance(cost, str) and cost.startswith("=")
                and all(k in cost for k in ("HoursPerMonth", "LoadBalancerHour")) and all(k in cost for k in refs)):
            bad.append("row %d cost %r" % (r, cost))
    check(not bad, "every cost and savings cell is a formula over the row's price cells and the price names",
          "; ".join(bad[:3]))
    bad = []
    for i, f in enumerate(doc["findings"]):
        r = i + 2
        price = f.get("price") or {}
        for c, key, name in rate_cols:
            v = ws.cell(row=r, column=c).value
            if key in price:
                if not close(v, price[key]):
                    bad.append("row %d %s %r != price %r" % (r, key, v, price[key]))
            elif v != "=" + name:
                bad.append("row %d %s %r != =%s" % (r, key, v, name))
    check(not bad, "row price cells are =%s.. by default and the finding's own price where it has one"
          % PRICE_NAMES[0], "; ".join(bad[:3]))

    # A node has no requests: its row leaves the request columns blank and
    # holds its capacity in the node columns (priced like findings.json).
    c_req, c_ncpu = col_starting(cols, "CPU request now"), col_starting(cols, "Node CPU capacity")
    c_nmem = col_starting(cols, "Node memory capacity")
    bad = []
    if not (c_req and c_ncpu and c_nmem):
        bad.append("columns missing: %s" % list(cols))
    else:
        for i, f in enumerate(doc["findings"]):
            node, r = f.get("node"), i + 2
            if f["category"] != "underutilized-node":
                continue
            got = (ws.cell(row=r, column=c_req).value, ws.cell(row=r, column=c_ncpu).value, ws.cell(row=r, column=c_nmem).value)
            want_cpu = (node.get("cpu_capacity_millicores") or node.get("cpu_allocatable_millicores")) / 1000.0
            want_mem = (node.get("memory_capacity_bytes") or node.get("memory_allocatable_bytes")) / GIB
            if got[0] is not None or not close(got[1], want_cpu) or not close(got[2], want_mem):
                bad.append("row %d: %r" % (r, got))
    check(not bad, "node rows: no CPU request, the node's capacity in the node columns", "; ".join(bad[:3]))

    # Cluster-provided text must come back exactly, as text (a name like
    # "=cmd|..." must not have become a formula).
    c_id, c_name, c_ns = cols.get("ID"), cols.get("Name"), cols.get("Namespace")
    bad = []
    for i, f in enumerate(doc["findings"]):
        r = i + 2
        for c, want in ((c_id, f["id"]), (c_name, f["resource"]["name"]), (c_ns, namespace_of(f))):
            cell = ws.cell(row=r, column=c) if c else None
            if cell is None or cell.data_type != "s" or cell.value != want[:32767] and not (
                    len(want) > 32767 and isinstance(cell.value, str) and cell.value.endswith("[truncated]")):
                bad.append("row %d: %r" % (r, None if cell is None else cell.value))
    check(not bad, "IDs, names and namespaces are written as plain text", "; ".join(bad[:3]))

    summ = wb_f["Summary"] if "Summary" in wb_f.sheetnames else None
    if summ is not None:
        bad = [label for label, _ in KEY_FIGURES
               if not (isinstance(summary_value(summ, label), str) and summary_value(summ, label).startswith("="))]
        check(not bad, "Summary key figures (cost, no approval, approval, reliability, net, blocked) are formulas",
              ", ".join(bad))
        tab = summary_table(summ, "By category")
        formulas_ok = tab is not None and all(
            isinstance(v[0], str) and "COUNTIF" in v[0] and isinstance(v[2], str) and "SUMIFS" in v[2]
            and isinstance(v[3], str) and "SUMIFS" in v[3] for v in tab.values())
        check(formulas_ok, "Summary by-category figures are COUNTIF/SUMIFS formulas, blocked apart")


def check_values(wb_v, doc, n, what):
    """Checks on the recalculated values."""
    ws = wb_v["Findings"]
    cols = header_map(ws)
    c_id = cols.get("ID")
    c_cost, c_sav = col_starting(cols, "Monthly cost"), col_starting(cols, "Monthly savings")
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=c_id).value not in (None, "")]
    check(len(rows) == n, "%s: Findings has one row per finding" % what, "%d rows, %d findings" % (len(rows), n))

    poisoned = [c.coordinate for wsx in wb_v.worksheets for row in wsx.iter_rows() for c in row
                if isinstance(c.value, (int, float)) and abs(c.value - POISON) < 1e-6]
    check(not poisoned, "%s: every formula was recalculated" % what, "stale cells " + ", ".join(poisoned[:5]))

    by_id = {ws.cell(row=r, column=c_id).value: r for r in rows}
    bad = []
    for f in doc["findings"]:
        r = by_id.get(f["id"])
        if r is None:
            bad.append("%s missing" % f["id"])
            continue
        cost, sav = ws.cell(row=r, column=c_cost).value, ws.cell(row=r, column=c_sav).value
        if not close(cost, f["monthly_cost"]):
            bad.append("%s cost %r != %r" % (f["id"], cost, f["monthly_cost"]))
        if not close(sav, f["monthly_savings"]):
            bad.append("%s savings %r != %r" % (f["id"], sav, f["monthly_savings"]))
    check(not bad, "%s: per-row monthly cost and savings match findings.json" % what, "; ".join(bad[:3]))

    summ = wb_v["Summary"]
    t = doc.get("totals", {})
    cnt = summary_value(summ, "Total findings")
    check(cnt == t.get("findings", n) == n, "%s: Summary finding count" % what,
          "%r vs totals %r, %d in list" % (cnt, t.get("findings"), n))
    sp = split(doc)
    bad = []
    for label, want in KEY_FIGURES:
        got, w = summary_value(summ, label), want(doc, sp)
        if not close(got, w):
            bad.append("%s: %r != %r" % (label, got, w))
    check(not bad, "%s: Summary breakdown matches findings.json (net = actionable, blocked apart)" % what,
          "; ".join(bad[:3]))
    parts = [summary_value(summ, label) for label, _ in KEY_FIGURES[1:4]]
    net = summary_value(summ, "Net potential savings")
    check(all(isinstance(v, (int, float)) for v in parts) and close(sum(parts), net)
          and close(net + summary_value(summ, "Blocked, review only"), t["monthly_savings"]),
          "%s: no approval + approval + reliability = net; net + blocked = totals.monthly_savings" % what,
          "%r, net %r" % (parts, net))

    for title, keyf in (("By category", lambda f: f["category"]), ("By namespace", namespace_of)):
        want = groups(doc, keyf)
        got = summary_table(summ, title)
        bad = []
        if got is None:
            bad.append("table missing")
        else:
            if set(got) != set(want):
                bad.append("keys %s != %s" % (sorted(got), sorted(want)))
            for k, (c, cost, sav, blk) in want.items():
                g = got.get(k)
                if g and not (g[0] == c and close(g[1], cost) and close(g[2], sav) and close(g[3], blk)):
                    bad.append("%s: %r != %r" % (k, g, (c, round(cost, 4), round(sav, 4), round(blk, 4))))
        check(not bad, "%s: Summary %s totals" % (what, title.lower()), "; ".join(bad[:3]))


def check_cached(wb_cached, wb_v):
    """Cached values as written by kopilot equal LibreOffice's results."""
    bad = []
    for name in ("Findings", "Summary"):
        a, b = wb_cached[name], wb_v[name]
        for row in a.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    w = b[c.coordinate].value
                    if not close(v, w):
                        bad.append("%s!%s %r != %r" % (name, c.coordinate, v, w))
    check(not bad, "cached values in the file equal the recalculated ones", "; ".join(bad[:3]))


FINDINGS_ROW_MAX_PT = 45


def check_print(soffice, report, n, workdir):
    """Print setup and row heights of the Findings sheet, and its page
    count when LibreOffice prints it to PDF."""
    wb = openpyxl.load_workbook(report)
    ws = wb["Findings"]
    cols = header_map(ws)
    ps = ws.page_setup
    fit = ws.sheet_properties.pageSetUpPr
    check(ps.orientation == "landscape" and fit is not None and fit.fitToPage
          and (ps.fitToWidth in (None, 1, "1")) and ps.fitToHeight in (0, "0"),
          "Findings prints landscape, one page wide",
          "orientation %r fitToPage %r fitToWidth %r fitToHeight %r" % (
              ps.orientation, fit and fit.fitToPage, ps.fitToWidth, ps.fitToHeight))
    check(ws.print_title_rows in ("1:1", "$1:$1"), "Findings repeats its header row on every printed page",
          repr(ws.print_title_rows))
    area = ws.print_area if isinstance(ws.print_area, str) else ",".join(ws.print_area or [])
    c_expl = cols.get("Explanation")
    want = "$A$1:$%s$%d" % (openpyxl.utils.get_column_letter(c_expl or 1), max(n, 1) + 1)
    check(c_expl and area.replace("'Findings'!", "").replace("Findings!", "") == want,
          "Findings print area is ID to Explanation", "%r, want %r" % (area, want))
    with zipfile.ZipFile(report) as z:  # the sheet's own XML: workbook.xml names it, its rels give the file
        rid = re.search(r'<sheet name="Findings" sheetId="\d+" r:id="(rId\d+)"', z.read("xl/workbook.xml").decode())
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        target = rid and re.search(r'Id="%s"[^>]*Target="([^"]+)"' % rid.group(1), rels)
        if not check(target, "the Findings sheet's XML is found through workbook.xml"):
            return
        xml = z.read("xl/" + target.group(1).lstrip("/").replace("xl/", "", 1)).decode("utf-8")
    heights = {int(r): float(h) for r, h in re.findall(r'<row r="(\d+)"[^>]*? ht="([0-9.]+)"', xml)}
    tall = ["row %d: %g pt" % (r, h) for r, h in sorted(heights.items()) if r > 1 and h > FINDINGS_ROW_MAX_PT]
    check(not tall, "every Findings data row is at most %d pt tall" % FINDINGS_ROW_MAX_PT, "; ".join(tall[:3]))

    # The sheet alone, so the page count is the Findings sheet's.
    alone = os.path.join(workdir, "findings-only.xlsx")
    for sname in list(wb.sheetnames):
        if sname != "Findings":
            del wb[sname]
    wb.save(alone)
    profile = os.path.join(workdir, "lo-pdf")
    cmd = [soffice, "--headless", "--norestore", "-env:UserInstallation=file://" + profile,
           "--convert-to", "pdf", "--outdir", workdir, alone]
    try:
        subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        check(False, "LibreOffice prints the Findings sheet to PDF", "timed out")
        return
    pdf = os.path.join(workdir, "findings-only.pdf")
    if not check(os.path.exists(pdf), "LibreOffice prints the Findings sheet to PDF"):
        return
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", open(pdf, "rb").read()))
    bound = -(-n // 15) + 1
    check(1 <= pages <= bound, "the Findings sheet prints on %d page(s) (at most %d for %d findings)" % (pages, bound, n),
          "%d pages" % pages)


def check_price_sensitivity(soffice, report, doc, workdir, base_savings):
    wb = openpyxl.load_workbook(report)
    d = defined_name_dest(wb, "CpuCoreHour")
    if not check(d is not None, "CPU price cell found through CpuCoreHour"):
        return
    cell = wb[d[0]][d[1]]
    old = cell.value
    if not check(isinstance(old, (int, float)) and close(old, doc["prices"]["cpu_core_hour"]),
                 "CPU price cell holds findings.prices.cpu_core_hour", repr(old)):
        return
    cell.value = old * 2
    edited = os.path.join(workdir, "edited.xlsx")
    wb.save(edited)
    try:
        out = recalc(soffice, edited, workdir, "price")
    except RuntimeError as e:
        check(False, "recalculate after doubling the CPU price", str(e))
        return
    wb_v = openpyxl.load_workbook(out, data_only=True)
    got = summary_value(wb_v["Summary"], "Net potential savings")
    delta = cpu_part(doc)
    want = base_savings + delta
    check(close(got, want), "doubling the CPU price changes the net savings by exactly the CPU part (%+.2f)" % delta,
          "got %r, want %r" % (got, want))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: check_xlsx.py REPORT.xlsx FINDINGS.json\n")
        return 2
    report, findings = argv[1], argv[2]
    soffice = find_soffice()
    if not soffice:
        sys.stderr.write("check_xlsx.py: soffice not found: apt-get install libreoffice-calc-nogui\n")
        return 2
    with open(findings, encoding="utf-8") as f:
        doc = json.load(f)
    n = len(doc.get("findings", []))

    check(zipfile.is_zipfile(report), "%s is a zip (xlsx) file" % report)
    wb_f = openpyxl.load_workbook(report)
    wb_cached = openpyxl.load_workbook(report, data_only=True)
    check_static(wb_f, doc, n)

    workdir = tempfile.mkdtemp(prefix="check_xlsx.")
    try:
        poisoned = os.path.join(workdir, "poisoned.xlsx")
        npois = poison_cached_values(report, poisoned)
        check(npois > 0, "workbook has cached formula values (%d poisoned for the recalc test)" % npois)
        try:
            out = recalc(soffice, poisoned, workdir, "base")
        except RuntimeError as e:
            check(False, "LibreOffice recalculation", str(e))
            return 1
        wb_v = openpyxl.load_workbook(out, data_only=True)
        check_values(wb_v, doc, n, "recalculated")
        check_cached(wb_cached, wb_v)
        check_print(soffice, report, n, workdir)
        base = summary_value(wb_v["Summary"], "Net potential savings")
        if isinstance(base, (int, float)):
            check_price_sensitivity(soffice, report, doc, workdir, base)
        else:
            check(False, "price sensitivity", "no recalculated total savings to start from")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    failed = RESULTS.count(False)
    print("check_xlsx: %d passed, %d failed" % (len(RESULTS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
