#!/usr/bin/python3
"""image_check.py - cron/Containerfile against what the binary needs, with
no container runtime: the packages its stages install, read from the file.

  image_check.py CONTAINERFILE MAKEFILE BINARY

1. runtime stage (the last): every library `ldd BINARY` resolves is mapped
   to its Debian package with `dpkg -S`; that package must be installed by
   the stage's `apt-get install` by name (a package that depends on it does
   not count), or be one of BASE, which debian:12-slim ships. No container
   runtime runs here to ask the image with dpkg-query, so BASE is a
   documented list: libc6 (Priority: required, in every Debian image),
   libgcc-s1 and libstdc++6 (apt, in the image, depends on them). Every
   package the stage lists must be one a library maps to, or one of TOOLS:
   the list stays exact both ways. Each listed package must be known to apt.
2. build stage (the first): installs exactly the Makefile's DEPS_BUILD
   but TEST_ONLY (libcriterion-dev: the unit tests, not `make all`); and
   DEPS_BUILD holds the package of each pkg-config module of PKGS (its .pc
   file, dpkg -S), by name.
Prints one line per problem and exits 1 when there is any.
"""
import os
import re
import subprocess
import sys

BASE = {"libc6", "libgcc-s1", "libstdc++6"}
TOOLS = {"ca-certificates": "the CA certificates HTTPS needs",
         "openssh-client": "ssh-keygen: git host key checks",
         "kubernetes-client": "kubectl for the LLM agents"}
TEST_ONLY = {"libcriterion-dev"}
# a sanitizer build (make asan runs this check on it) also loads its
# runtime, which `make all`, the image's build, does not link
SANITIZER_LIBS = ("libasan.so", "libubsan.so", "liblsan.so", "libtsan.so", "libhwasan.so")


def logical_lines(text):
    """The lines with backslash continuations joined, comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        out.append(cur + line)
        cur = ""
    if cur:
        out.append(cur)
    return out


def stages(path):
    """[(name, [packages of its apt-get install])], in order."""
    res = []
    for line in logical_lines(open(path, encoding="utf-8").read()):
        words = line.split()
        if not words:
            continue
        if words[0].upper() == "FROM":
            name = words[3] if len(words) >= 4 and words[2].upper() == "AS" else ""
            res.append((name, []))
        elif words[0].upper() == "RUN" and res:
            for cmd in re.split(r"&&|;|\|\|", line[3:]):
                w = cmd.split()
                if len(w) >= 2 and w[0] == "apt-get" and "install" in w:
                    res[-1][1].extend(x for x in w[w.index("install") + 1:] if not x.startswith("-"))
    return res


def make_var(path, var):
    for line in logical_lines(open(path, encoding="utf-8").read()):
        m = re.match(r"\s*%s\s*:?=(.*)" % re.escape(var), line)
        if m:
            return m.group(1).split()
    raise SystemExit("image_check: %s: no %s" % (path, var))


def packages_of(libs):
    """{lib: its package or None}. dpkg knows a file by one of: the path as
    ldd prints it, its real path, the other side of the /usr merge; all of
    them are asked in one dpkg -S (a call reads the whole database)."""
    cands = {}
    for lib in libs:
        c = [lib, os.path.realpath(lib)]
        c += [p[4:] if p.startswith("/usr/") else "/usr" + p for p in list(c)]
        cands[lib] = c
    r = subprocess.run(["dpkg", "-S"] + sorted({p for c in cands.values() for p in c}), capture_output=True, text=True)
    owner = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion by") or ": " not in line:
            continue
        pkgs, path = line.split(": ", 1)
        owner[path.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    return {lib: next((owner[p] for p in c if p in owner), None) for lib, c in cands.items()}


def apt_known(pkgs):
    """The packages apt has a candidate version of (one apt-cache policy)."""
    r = subprocess.run(["apt-cache", "policy"] + sorted(pkgs), capture_output=True, text=True)
    known, cur = set(), None
    for line in r.stdout.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            cur = line[:-1].split(":")[0]
        elif cur and line.strip().startswith("Candidate:") and line.split(":", 1)[1].strip() != "(none)":
            known.add(cur)
    return known


def main():
    containerfile, makefile, binary = sys.argv[1:4]
    problems = []
    st = stages(containerfile)
    if len(st) < 2:
        raise SystemExit("image_check: %s: expected a build stage and a runtime stage, found %d" % (containerfile, len(st)))
    build, runtime = set(st[0][1]), set(st[-1][1])

    # 1. runtime
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if ldd.returncode != 0:
        raise SystemExit("image_check: ldd %s failed: %s" % (binary, ldd.stderr.strip()))
    libs = []
    for line in ldd.stdout.splitlines():
        line = line.strip()
        if "=> not found" in line:
            problems.append("%s: not found by ldd on this machine" % line.split()[0])
        elif "=>" in line and "/" in line.split("=>", 1)[1]:
            libs.append(line.split("=>", 1)[1].split("(")[0].strip())
        elif line.startswith("/"):
            libs.append(line.split("(")[0].strip())  # the dynamic loader
    libs = [lib for lib in libs if not os.path.basename(lib).startswith(SANITIZER_LIBS)]
    used = {}
    owners = packages_of(libs)
    for lib in libs:
        pkg = owners[lib]
        if pkg is None:
            problems.append("%s: dpkg -S knows no package for it" % lib)
            continue
        used.setdefault(pkg, []).append(os.path.basename(lib))
        if pkg not in runtime and pkg not in BASE:
            problems.append("%s: its package %s is not installed by the runtime stage of %s"
                            % (lib, pkg, containerfile))
    for pkg in sorted(runtime - set(used) - set(TOOLS)):
        problems.append("%s: listed in the runtime stage, but build/kopilot loads no library of it" % pkg)
    for pkg in sorted(TOOLS):
        if pkg not in runtime:
            problems.append("%s (%s): missing from the runtime stage" % (pkg, TOOLS[pkg]))
    known = apt_known(runtime | build)
    for pkg in sorted((runtime | build) - known):
        problems.append("%s: apt knows no such package (apt-cache policy: no candidate)" % pkg)

    # 2. build
    deps = set(make_var(makefile, "DEPS_BUILD"))
    for pkg in sorted(deps - TEST_ONLY - build):
        problems.append("%s: in the Makefile's DEPS_BUILD but not installed by the build stage" % pkg)
    for pkg in sorted(build - deps):
        problems.append("%s: installed by the build stage but not in the Makefile's DEPS_BUILD" % pkg)
    # and DEPS_BUILD names the -dev package of every pkg-config module the
    # Makefile's PKGS builds with, itself (not through another's dependency)
    for mod in make_var(makefile, "PKGS"):
        r = subprocess.run(["pkg-config", "--path", mod], capture_output=True, text=True)
        pc = r.stdout.strip()
        pkg = packages_of([pc])[pc] if r.returncode == 0 and pc else None
        if pkg is None:
            problems.append("pkg-config module %s: no .pc file of a Debian package here" % mod)
        elif pkg not in deps:
            problems.append("pkg-config module %s (%s): its package %s is not in the Makefile's DEPS_BUILD"
                            % (mod, pc, pkg))

    for p in problems:
        print("image_check: " + p)
    if not problems:
        print("image_check: %d libraries from %d packages, all installed by the runtime stage (%d listed) "
              "or in debian:12-slim (%s); the build stage installs DEPS_BUILD but %s"
              % (len(libs), len(used), len(runtime), ", ".join(sorted(BASE & set(used))), ", ".join(sorted(TEST_ONLY))))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
