#!/usr/bin/env python3
"""Which run a run directory holds, file by file (tests/e2e/rundir.sh).

    rundir_state.py OLD NEW DIR

OLD and NEW are complete reference runs of the two versions. Prints one
word and exits 0 when DIR holds exactly one of them:
    old   every file byte-identical to OLD's (run.json included), no other file
    new   every file byte-identical to NEW's (run.json: same counts and "now")
    none  DIR holds no run file (only audit.jsonl, or DIR is absent)
otherwise prints "mixed: <why>" and exits 1. audit.jsonl is checked apart:
every line JSON, none torn, and OLD's lines all kept at its start.
snapshot/model.bin records the files' mtimes: it is compared by size and
magic. Temp files (".tmp.") anywhere are an error.
"""
import json
import os
import sys

SKIP = {"audit.jsonl", "run.json", "snapshot/model.bin"}


def files(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = p
    return out


def read(p):
    with open(p, "rb") as f:
        return f.read()


def same_run_json(a, b):
    x, y = json.loads(a), json.loads(b)
    return x.get("now") == y.get("now") and x.get("counts") == y.get("counts")


def main():
    old_dir, new_dir, d = sys.argv[1:4]
    old, new = files(old_dir), files(new_dir)
    got = files(d) if os.path.isdir(d) else {}
    why = []
    tmps = [r for r in got if ".tmp." in r]
    if tmps:
        why.append("temp files: " + " ".join(tmps[:3]))
    if "audit.jsonl" in got:
        audit = read(got["audit.jsonl"])
        for i, line in enumerate(audit.split(b"\n")[:-1], 1):
            try:
                json.loads(line)
            except ValueError:
                why.append(f"audit.jsonl line {i} is not JSON")
                break
        if audit and not audit.endswith(b"\n"):
            why.append("audit.jsonl: last line torn")
        if "audit.jsonl" in old and not audit.startswith(read(old["audit.jsonl"])):
            why.append("audit.jsonl lost the old run's lines")
    verdict = None
    run_files = set(got) - {"audit.jsonl"}
    if not run_files:
        verdict = "none"
    for name, ref in (("old", old), ("new", new)):
        cache = {"audit.jsonl", "snapshot/model.bin"}  # model.bin: a cache, may be missing
        if verdict or set(ref) - cache != run_files - cache:
            continue
        ok = True
        for rel in run_files:
            a, b = read(got[rel]), read(ref[rel])
            if rel == "snapshot/model.bin":
                ok = ok and len(a) == len(b) and a[:8] == b[:8]
            elif rel == "run.json":
                ok = ok and (a == b if name == "old" else same_run_json(a, b))
            else:
                ok = ok and a == b
        if ok:
            verdict = name
    if not verdict:
        olds = sorted(r for r in run_files if r in old and r not in SKIP and read(got[r]) == read(old[r]))
        news = sorted(r for r in run_files if r in new and r not in SKIP and read(got[r]) == read(new[r]))
        why.append(f"neither run: {len(olds)} files as old ({' '.join(olds[:3])}), "
                   f"{len(news)} as new ({' '.join(news[:3])}), {len(run_files)} files")
    if why:
        print("mixed: " + "; ".join(why))
        return 1
    print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
