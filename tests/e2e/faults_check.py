#!/usr/bin/env python3
"""One batch of tests/e2e/faults.sh's cases: for each KIND:N, copy the
previous run, run the new run into the copy with KOPILOT_FAULT=KIND:N and
check what it left (see the checks listed at the top of faults.sh).

    faults_check.py RESULTS KOPILOT SNAPSHOT NOW PREV NEW SCRATCH SPEC...

Appends "ok SPEC" or "fail SPEC<TAB>reason; reason" to RESULTS, one line per
case. Kept in one process per batch because starting a process per
comparison (cmp) would cost more than the kopilot runs themselves.
"""
import json
import os
import re
import shutil
import subprocess
import sys

SKIP = {"audit.jsonl", "run.json"}  # rewritten by every run: checked on their own
MODEL = "snapshot/model.bin"
MESSAGE = re.compile(r"^kopilot( [a-z]+)?: ", re.M)


def run_files(root):
    """Regular files of a run directory, relative, without temp files."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            if ".tmp." not in name:
                out[rel] = os.path.join(dirpath, name)
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def temp_files(root):
    return sorted(os.path.relpath(os.path.join(d, n), root)
                  for d, _, names in os.walk(root) for n in names if ".tmp." in n)


def check_case(spec, args, prev, new):
    """Returns the list of reasons the case failed (empty: it passed)."""
    kopilot, snapshot, now, prev_dir, scratch = args
    kind, n = spec.split(":")
    d = os.path.join(scratch, f"{kind[0]}{int(n):06d}")  # as long as NEW's path (see faults.sh)
    shutil.copytree(prev_dir, d, symlinks=True)
    why = []
    try:
        env = dict(os.environ, KOPILOT_FAULT=spec)
        try:
            p = subprocess.run([kopilot, "run", "--snapshot", snapshot, "--out", d, "--now", now, "--quiet"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        except subprocess.TimeoutExpired:
            return ["hung (killed after 120 s)"]
        rc, err = p.returncode, p.stderr.decode("utf-8", "replace")
        # a. no crash; a failure says so in one "kopilot ...:" message
        if rc < 0:
            why.append(f"killed by signal {-rc}: {err.strip()[-300:]}")
        elif rc == 4:
            if not MESSAGE.search(err):
                why.append(f"exit 4 without a 'kopilot ...:' message: {err.strip()[:200]!r}")
            elif len(err.splitlines()) > 3:
                why.append(f"exit 4 with {len(err.splitlines())} lines on stderr: {err.strip()[:300]!r}")
        elif rc not in (0, 3):
            why.append(f"exit {rc}: {err.strip()[-300:]}")
        # c. no temp files
        tmps = temp_files(d)
        if tmps:
            why.append("temp files left: " + " ".join(tmps[:5]))
        # b. every file the previous or the new run's, whole
        got = run_files(d)
        state = {}
        for rel in sorted(set(prev) | set(new)):
            if rel in SKIP:
                continue
            if rel not in got:
                if rel != MODEL:  # a cache: a run whose cache write failed is complete without it
                    why.append(f"{rel}: missing")
                continue
            data = read(got[rel])
            if rel == MODEL:
                # records the copied files' mtimes, so never byte-equal to
                # NEW's: the previous one, or a whole new one (same size;
                # the header with the magic is written last)
                if data == prev.get(rel):
                    state[rel] = "old"
                elif rel in new and len(data) == len(new[rel]) and data[:8] == new[rel][:8]:
                    state[rel] = "new"
                else:
                    why.append(f"{rel}: neither the previous run's nor a whole new one")
                continue
            if data == new.get(rel):
                state[rel] = "same" if data == prev.get(rel) else "new"
            elif data == prev.get(rel):
                state[rel] = "old"
            else:
                why.append(f"{rel}: neither the previous run's nor the new run's version ({len(data)} bytes)")
        extra = sorted(set(got) - set(prev) - set(new))
        if extra:
            why.append("unexpected files: " + " ".join(extra[:5]))
        # b. all or nothing: every file the previous run's, or every file
        # the new run's; a failed run never replaces the previous one
        kinds = {v for v in state.values() if v != "same"}
        if len(kinds) > 1:
            olds = sorted(r for r, v in state.items() if v == "old")
            news = sorted(r for r, v in state.items() if v == "new")
            why.append(f"two runs mixed: old {' '.join(olds[:4])}; new {' '.join(news[:4])}")
        elif rc in (0, 3) and kinds != {"new"}:
            why.append(f"exit {rc} but the directory still holds the previous run")
        elif rc not in (0, 3) and kinds == {"new"}:
            why.append(f"exit {rc} but the failed run replaced the previous one")
        if kinds == {"old"} and "run.json" in got and read(got["run.json"]) != prev.get("run.json"):
            why.append("run.json is not the previous run's while every other file is")
        # c'. nothing left beside it: staging directories, the lock
        base = os.path.basename(d)
        beside = sorted(n for n in os.listdir(os.path.dirname(d)) if n.startswith(f".{base}."))
        if beside:
            why.append("left beside the run directory: " + " ".join(beside[:5]))
        # d. audit.jsonl keeps the previous events and is JSON line by line
        if "audit.jsonl" not in got:
            why.append("audit.jsonl: missing")
        else:
            audit = read(got["audit.jsonl"])
            if not audit.startswith(prev["audit.jsonl"]):
                why.append("audit.jsonl lost the previous run's events")
            for i, line in enumerate(audit.split(b"\n")[:-1], 1):
                try:
                    json.loads(line)
                except ValueError as e:
                    why.append(f"audit.jsonl line {i}: not JSON: {e}")
                    break
            if audit and not audit.endswith(b"\n"):
                why.append("audit.jsonl: last line cut short")
            if rc in (0, 3):
                events = [json.loads(l).get("event") for l in audit[len(prev["audit.jsonl"]):].split(b"\n")[:-1]]
                # out of memory exactly when recording the end, after the
                # switch: a warning, the run stands
                end_lost = "its end could not be recorded" in err
                if events[:1] != ["command.start"] or (events[-1:] != ["command.end"] and not end_lost):
                    why.append(f"exit {rc} but audit.jsonl does not record the command's start and end: {events[:2]}...{events[-1:]}")
        if "run.json" in got:
            try:
                json.loads(read(got["run.json"]))
            except ValueError as e:
                why.append(f"run.json: not JSON: {e}")
        return why
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    results, kopilot, snapshot, now, prev_dir, new_dir, scratch = sys.argv[1:8]
    prev = {rel: read(p) for rel, p in run_files(prev_dir).items()}
    new = {rel: read(p) for rel, p in run_files(new_dir).items()}
    args = (kopilot, snapshot, now, prev_dir, scratch)
    fd = os.open(results, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for spec in sys.argv[8:]:
        try:
            why = check_case(spec, args, prev, new)
        except Exception as e:  # the checker's own failure is a failed case, not a lost one
            why = [f"checker error: {type(e).__name__}: {e}"]
        line = f"ok {spec}\n" if not why else f"fail {spec}\t{'; '.join(why)}\n"
        os.write(fd, line.replace("\n", " ").rstrip().encode() + b"\n")  # one write: lines never interleave
    os.close(fd)


if __name__ == "__main__":
    main()
