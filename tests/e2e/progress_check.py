#!/usr/bin/python3
"""progress_check.py - reads what kopilot wrote to a terminal (the output of
`script`, whose pty turns each "\\n" into "\\r\\n") and checks the progress
line as a person would see it: the terminal is replayed (carriage return,
erase to the end of the line, characters overwriting), so a log line that
kept the tail of a longer progress line, or a progress line left at the end,
shows.

  progress_check.py tty OUT [--stage S]... [--pattern REGEX]... [--lines N]
      the progress line was drawn in place (\\r ... ESC[K) with each stage S
      and each pattern; every line left on the screen is a clean log line
      (no progress text, no escape); N such lines if given; the screen's
      last line is empty at the end (the progress line erased)
  progress_check.py none OUT
      no progress at all: no carriage return (but the pty's before "\\n"), no
      escape sequence
  progress_check.py json OUT
      no progress, and every line is a JSON object with ts, level and msg
      (and stage "collect" on the lines whose msg starts with "collect:")
"""
import json
import re
import sys

PROGRESS = re.compile(r"lists \d+/\d+|objects \d|Prometheus queries \d")


def replay(text):
    """the finished lines and the last, unfinished one, as a terminal shows them"""
    lines, cur, col = [], [], 0
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("\033[K", i):
            del cur[col:]
            i += 3
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append("".join(cur))
            cur, col = [], 0
        else:
            if col < len(cur):
                cur[col] = ch
            else:
                cur.append(ch)
            col += 1
        i += 1
    return lines, "".join(cur)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    raw = open(path, encoding="utf-8", errors="replace", newline="").read().replace("\r\n", "\n")
    errors = []
    if mode == "tty":
        stages, patterns, want_lines = [], [], None
        args = sys.argv[3:]
        while args:
            flag, value = args[0], args[1]
            args = args[2:]
            if flag == "--stage":
                stages.append(value)
            elif flag == "--pattern":
                patterns.append(value)
            elif flag == "--lines":
                want_lines = int(value)
        # the progress lines: what each "\r" began and "ESC[K" ended
        drawn = re.findall(r"\r(kopilot: [^\r\n\033]*)\033\[K", raw)
        if not drawn:
            errors.append("no progress line drawn in place (\\r ... ESC[K)")
        for s in stages:
            if not any(d == "kopilot: " + s or d.startswith("kopilot: %s: " % s) for d in drawn):
                errors.append("stage %r never shown" % s)
        for p in patterns:
            if not any(re.search(p, d) for d in drawn):
                errors.append("no progress line matches /%s/" % p)
        lines, last = replay(raw)
        for ln in lines:
            if PROGRESS.search(ln) or "\033" in ln or not ln.startswith("kopilot: "):
                errors.append("a line on the screen is not a clean log line: %r" % ln)
        if want_lines is not None and len(lines) != want_lines:
            errors.append("%d lines on the screen, expected %d (as without a terminal): %r" % (len(lines), want_lines, lines))
        if last:
            errors.append("the progress line was not erased at the end: %r" % last)
        if not errors:
            print("%d redraws; longest: %s" % (len(drawn), max(drawn, key=len)))
    elif mode == "none":
        if "\r" in raw or "\033" in raw:
            errors.append("progress output without a terminal: %r" % raw[:300])
        if PROGRESS.search(raw):
            errors.append("progress text without a terminal")
    elif mode == "json":
        if "\r" in raw or "\033" in raw:
            errors.append("progress output in LOG_FORMAT=json: %r" % raw[:300])
        n = 0
        for ln in raw.split("\n"):
            if not ln:
                continue
            n += 1
            try:
                o = json.loads(ln)
            except ValueError as e:
                errors.append("not JSON (%s): %r" % (e, ln[:200]))
                continue
            if not isinstance(o, dict) or not all(isinstance(o.get(k), str) for k in ("ts", "level", "msg")):
                errors.append("no ts, level, msg: %r" % ln[:200])
            elif o["msg"].startswith("collect:") and o.get("stage") != "collect":
                errors.append("a collect message without stage collect: %r" % ln[:200])
        if n == 0:
            errors.append("no log line at all")
    for e in errors[:10]:
        print(e)
    sys.exit(1 if errors else 0)


main()
