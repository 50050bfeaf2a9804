#!/usr/bin/env bash
# The Debian package: `make deb` builds it from HEAD with dpkg-buildpackage,
# dpkg-deb and lintian check it, dpkg -i installs it (as root; removed again
# on exit, so the machine is left as found) and the installed /usr/bin/kopilot
# prints the version and the checkout's commit, has its manual page and gives
# the same findings.json as build/kopilot. Ends with "N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/deb.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
NOW=2026-11-25T06:00:00Z
PKG=kubedevaiops

SUITE=deb
. "$ROOT/tests/e2e/lib.sh"
need "$KOPILOT" "build it with 'make'"
need dpkg-buildpackage dpkg-dev
need dh debhelper
need lintian lintian
need man man-db
need git git
[ "$(id -u)" = 0 ] || { echo "deb: installing the package needs root (dpkg -i)" >&2; exit 1; }
git rev-parse --verify -q HEAD >/dev/null || { echo "deb: needs a git checkout with a commit (make deb packages HEAD)" >&2; exit 1; }

# The machine as found: the package must not be installed, and no other
# package (or a `make install` into /usr) may own /usr/bin/kopilot, which
# dpkg -i would take over and dpkg -r then delete.
if dpkg-query -W -f='${Status}' $PKG 2>/dev/null | grep -q 'install ok installed'; then
	echo "deb: $PKG is already installed: remove it first (dpkg -r $PKG)" >&2; exit 1
fi
if owner=$(dpkg -S /usr/bin/kopilot 2>/dev/null); then
	echo "deb: /usr/bin/kopilot belongs to another package ($owner)" >&2; exit 1
fi
[ -e /usr/bin/kopilot ] && { echo "deb: /usr/bin/kopilot exists and belongs to no package: move it away first" >&2; exit 1; }

T=$(mktemp -d /tmp/kopilot-deb.XXXXXX)
INSTALLED=0
trap '[ $INSTALLED = 1 ] && dpkg -r $PKG >/dev/null 2>&1; rm -rf "$T"' EXIT

# ---------------------------------------------------------------- build
HEAD_COMMIT=$(git describe --always --abbrev=12 --match=NeVeRmAtCh HEAD)
VERSION=$("$KOPILOT" version | sed -n 's/^kopilot \([^ ]*\) .*/\1/p')
STATUS_BEFORE=$(git status --porcelain --untracked-files=all)
# nocheck: the unit tests the package build would run are `make unit`'s
if DEB_BUILD_OPTIONS=nocheck make deb >"$T/make.log" 2>&1; then ok "make deb builds the package"; else not_ok "make deb builds the package" "$(tail -20 "$T/make.log")"; fi
DEB=build/deb/${PKG}_${VERSION}-1_$(dpkg --print-architecture).deb
[ -f "$DEB" ] || { echo "deb: $DEB was not built" >&2; tail -40 "$T/make.log" >&2; exit 1; }
check "make deb leaves the work tree as it was (the build happens in build/deb)" \
	test "$(git status --porcelain --untracked-files=all)" = "$STATUS_BEFORE"
check "the upstream tarball is exactly the committed tree without debian/, plus COMMIT" $PY - \
	"build/deb/${PKG}_$VERSION.orig.tar.gz" "$PKG-$VERSION/" <<EOF
import subprocess, sys, tarfile
names = {m.name[len(sys.argv[2]):] for m in tarfile.open(sys.argv[1]) if m.isfile()}
tree = set(subprocess.run(["git", "ls-tree", "-r", "--name-only", "HEAD"], capture_output=True, text=True, check=True).stdout.split("\n")) - {""}
want = {p for p in tree if not p.startswith("debian/")} | {"COMMIT"}
if names != want:
    sys.exit("extra: %s\nmissing: %s" % (sorted(names - want)[:10], sorted(want - names)[:10]))
EOF
check "the exported tree's COMMIT is the checkout's HEAD" test "$(cat build/deb/COMMIT)" = "$HEAD_COMMIT"

# ---------------------------------------------------------------- inspect
dpkg-deb --info "$DEB" >"$T/info" 2>&1
field() { dpkg-deb --field "$DEB" "$1"; }
check "changelog version is kopilot's version, revision 1 ($VERSION-1)" test "$(field Version)" = "$VERSION-1"
check "package name $PKG, architecture of this machine" test "$(field Package) $(field Architecture)" = "$PKG $(dpkg --print-architecture)"
check "Depends: the shared libraries (dh_shlibdeps) plus ca-certificates and openssh-client" $PY - "$(field Depends)" <<'EOF'
import sys
deps = {d.strip().split(" ")[0] for d in sys.argv[1].split(",")}
need = {"libc6", "libcurl4", "libjson-c5", "libyaml-0-2", "libgit2-1.5", "libxlsxwriter4", "libmicrohttpd12", "libsqlite3-0", "libssl3", "ca-certificates", "openssh-client"}
if not need <= deps:
    sys.exit("missing: %s in %s" % (sorted(need - deps), sys.argv[1]))
EOF
check "Recommends: kubernetes-client" test "$(field Recommends)" = "kubernetes-client"
dpkg-deb --contents "$DEB" >"$T/contents"
awk '$1 !~ /^d/ {print $6}' "$T/contents" | sort >"$T/files"
printf '%s\n' ./usr/bin/kopilot ./usr/share/doc/$PKG/changelog.Debian.gz ./usr/share/doc/$PKG/copyright \
	./usr/share/man/man1/kopilot.1.gz ./usr/share/lintian/overrides/$PKG | sort >"$T/want"
check "contents: the binary, the man page, copyright, changelog, lintian overrides, nothing else" diff "$T/want" "$T/files"
check "/usr/bin/kopilot is executable (0755 root/root)" grep -q '^-rwxr-xr-x root/root .* ./usr/bin/kopilot$' "$T/contents"
mkdir -p "$T/x" && dpkg-deb -x "$DEB" "$T/x"
check "copyright is the LICENSE's MIT (Expat) text" grep -q 'Permission is hereby granted, free of charge' "$T/x/usr/share/doc/$PKG/copyright"
check "the changelog in the package names $VERSION-1" grep -F "($VERSION-1)" <(zcat "$T/x/usr/share/doc/$PKG/changelog.Debian.gz")
# lintian on the .changes (source and binary packages): no error, no warning
check "lintian: no errors or warnings" lintian --fail-on error,warning "build/deb/${PKG}_${VERSION}-1_$(dpkg --print-architecture).changes"

# ---------------------------------------------------------------- install
if dpkg -i "$DEB" >"$T/dpkg.log" 2>&1; then INSTALLED=1; ok "dpkg -i installs the package"; else not_ok "dpkg -i installs the package" "$(cat "$T/dpkg.log")"; fi
check "dpkg -S: /usr/bin/kopilot belongs to $PKG" grep "^$PKG: /usr/bin/kopilot$" <(dpkg -S /usr/bin/kopilot 2>&1)
out=$(/usr/bin/kopilot version 2>&1)
check "installed kopilot version: $VERSION and the checkout's commit $HEAD_COMMIT" \
	test "$out" = "kopilot $VERSION (kubedevaiops, commit $HEAD_COMMIT)"
check "man kopilot finds the packaged page" grep -x /usr/share/man/man1/kopilot.1.gz <(man -aw kopilot 2>&1)
check "man -l renders the page (NAME, SYNOPSIS, the run command)" $PY - "$T" <<'EOF'
import os, subprocess, sys
env = dict(os.environ, MANPAGER="cat", MANWIDTH="100", LANG="C.UTF-8")
out = subprocess.run(["man", "-l", "/usr/share/man/man1/kopilot.1.gz"], capture_output=True, text=True, env=env)
if out.returncode != 0 or "warning" in out.stderr:
    sys.exit("man -l: rc %d: %s" % (out.returncode, out.stderr[:500]))
for w in ("NAME", "SYNOPSIS", "kopilot run", "--snapshot"):
    if w not in out.stdout:
        sys.exit("%r not in the rendered page" % w)
EOF
/usr/bin/kopilot run --snapshot examples/demo-cluster --out "$T/installed" --now $NOW --quiet >/dev/null 2>&1
rc_installed=$?
"$KOPILOT" run --snapshot examples/demo-cluster --out "$T/built" --now $NOW --quiet >/dev/null 2>&1
rc_built=$?
check "installed and built kopilot end alike on the demo (exit $rc_built)" test "$rc_installed" = "$rc_built"
# findings.json carries no run-specific field: the same snapshot and --now
# give the same bytes (as run.sh checks for two runs of one binary)
check "installed kopilot gives the same findings.json as build/kopilot" cmp "$T/installed/findings.json" "$T/built/findings.json"

# ---------------------------------------------------------------- remove
if dpkg -r $PKG >"$T/dpkg.log" 2>&1; then INSTALLED=0; ok "dpkg -r removes the package"; else not_ok "dpkg -r removes the package" "$(cat "$T/dpkg.log")"; fi
check "after dpkg -r: no /usr/bin/kopilot, no man page" test ! -e /usr/bin/kopilot -a ! -e /usr/share/man/man1/kopilot.1.gz

finish
