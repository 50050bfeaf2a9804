# kopilot - build, test, demo.
#
#   make demo    install missing apt packages, build, run the pipeline on examples/demo-cluster
#   make test    install missing apt packages, build, run every test (unit + end-to-end)
#   make asan    the same tests under AddressSanitizer + UBSan
#   make faults  fault-injection build; fail each allocation / file operation of a run in turn
#   make bench   benchmarks, results in bench/results/
#   make fuzz    libFuzzer on the input parsers (FUZZ_SECONDS each)
#
# Everything builds with -Wall -Wextra -Werror. Objects go to $(BUILD)/.

BUILD    ?= build
MAKEFLAGS += --no-print-directory
CC       ?= cc
PKGS     := json-c yaml-0.1 xlsxwriter libcmark-gfm libcurl libgit2 libmicrohttpd sqlite3 libcrypto
SAN      ?=
OPT      ?= -O2
CFLAGS   := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) -g -Wall -Wextra -Werror \
            -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -I. $(SAN) $(EXTRA_CFLAGS)
LDLIBS   := -lcmark-gfm-extensions -lm -pthread

# Debian packages each part needs. `make deps` installs only the missing ones.
DEPS_BUILD := build-essential pkg-config xxd libjson-c-dev libyaml-dev libxlsxwriter-dev \
              libcmark-gfm-dev libcmark-gfm-extensions-dev libcriterion-dev libcurl4-openssl-dev \
              libgit2-dev libmicrohttpd-dev libsqlite3-dev libssl-dev
DEPS_TEST  := python3 python3-openpyxl python3-jsonschema python3-yaml libreoffice-calc-nogui chromium time \
              zsh bsdutils groff-base man-db openssl prometheus curl git openssh-client openssh-server \
              procps prometheus-pushgateway dpkg-dev debhelper lintian
# kubectl for the fake API server's faithfulness test: Debian's kubernetes-client
# unless a kubectl is already installed (another package owns /usr/bin/kubectl then)
DEPS_KUBECTL := kubernetes-client
# Node.js and npm (Debian's nodejs, npm) for the forge fakes' faithfulness
# test (tests/clients: the official @octokit/rest and @gitbeaker/rest from
# npm): checked by command in deps, as NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package
DEPS       := $(DEPS_BUILD) $(DEPS_TEST)

LIB_SRCS := $(wildcard pipeline/*.c stages/*/*.c stages/*/*/*.c)
LIB_SRCS := $(filter-out pipeline/main.c,$(LIB_SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS)) $(BUILD)/gen/templates.o $(BUILD)/gen/skills.o
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(BUILD)/unit-tests

KOPILOT := $(BUILD)/kopilot
MANPAGE := $(BUILD)/kopilot.1

.PHONY: all deps demo test unit e2e forges llmfakes quality rundir layers asan faults fuzz bench clean install check-deps deb

all: $(KOPILOT) $(MANPAGE)

# pkg-config is resolved lazily so `make deps` works before pkg-config exists.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

$(BUILD)/%.o: %.c $(wildcard pipeline/*.h stages/*/*.h stages/*/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# The default report template is compiled in, so a copied binary renders.
$(BUILD)/gen/templates.c: templates/report.md.mustache templates/pr-body.md.mustache \
			  templates/notify-slack.json.mustache templates/notify-webhook.json.mustache
	@mkdir -p $(dir $@)
	{ echo '/* generated from templates/report.md.mustache and pr-body.md.mustache by the Makefile */'; \
	  echo 'static const unsigned char tmpl[] = {'; xxd -i < $<; echo ', 0x00 };'; \
	  echo 'const char *kp_template_builtin(void) { return (const char *)tmpl; }'; \
	  echo 'static const unsigned char pr_tmpl[] = {'; xxd -i < templates/pr-body.md.mustache; echo ', 0x00 };'; \
	  echo 'const char *kp_template_pr_body(void) { return (const char *)pr_tmpl; }'; \
	  echo 'static const unsigned char slack_tmpl[] = {'; xxd -i < templates/notify-slack.json.mustache; echo ', 0x00 };'; \
	  echo 'const char *kp_template_notify_slack(void) { return (const char *)slack_tmpl; }'; \
	  echo 'static const unsigned char hook_tmpl[] = {'; xxd -i < templates/notify-webhook.json.mustache; echo ', 0x00 };'; \
	  echo 'const char *kp_template_notify_webhook(void) { return (const char *)hook_tmpl; }'; } > $@

$(BUILD)/gen/templates.o: $(BUILD)/gen/templates.c
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c $< -o $@

# The built-in skills likewise (stages/analyze/agents/skills.h): the files'
# text, NUL-terminated, and their paths.
SKILL_FILES := $(sort $(wildcard skills/builtin/*.yaml))
$(BUILD)/gen/skills.c: $(SKILL_FILES) Makefile
	@mkdir -p $(dir $@)
	{ echo '/* generated from the files of skills/builtin by the Makefile */'; \
	  echo '#include "stages/analyze/agents/skills.h"'; \
	  i=0; for f in $(SKILL_FILES); do \
	    echo "static const unsigned char s$$i[] = {"; xxd -i < $$f; echo ', 0x00 };'; i=$$((i+1)); done; \
	  echo 'static const kp_builtin_file files[] = {'; \
	  i=0; for f in $(SKILL_FILES); do echo "  {\"$$f\", (const char *)s$$i},"; i=$$((i+1)); done; \
	  echo '  {0, 0}};'; \
	  echo 'const kp_builtin_file *kp_skills_builtin_files(size_t *n) { *n = sizeof(files) / sizeof(files[0]) - 1; return files; }'; \
	} > $@

$(BUILD)/gen/skills.o: $(BUILD)/gen/skills.c
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# The commit the binary was built from (kopilot version): a header
# rewritten only when the commit changes, so a new commit rebuilds one file.
# "-dirty" when the tree had changes; "unknown" outside a git checkout (a
# source tarball). `make deb` writes the commit into its exported tree as the
# file COMMIT, read first: that tree has no .git of its own (and sits inside
# this checkout, whose git would answer for it).
KP_COMMIT := $(or $(shell cat COMMIT 2>/dev/null),$(shell git describe --always --dirty --abbrev=12 --match=NeVeRmAtCh 2>/dev/null),unknown)
$(BUILD)/gen/commit.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define KP_COMMIT "$(KP_COMMIT)"' > $@.tmp && (cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@)
$(BUILD)/pipeline/cmd_version.o $(BUILD)/pipeline/quantity.o: $(BUILD)/gen/commit.h
$(BUILD)/pipeline/cmd_version.o $(BUILD)/pipeline/quantity.o: CFLAGS += -I$(BUILD)/gen
.PHONY: FORCE
FORCE:

$(BUILD)/libkp.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(KOPILOT): $(BUILD)/pipeline/main.o $(BUILD)/libkp.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# The man page is the binary's own help texts as roff (`kopilot help --man`),
# so it cannot drift from --help.
$(MANPAGE): $(KOPILOT)
	./$(KOPILOT) help --man > $@.tmp && mv $@.tmp $@

$(TEST_BIN): $(TEST_SRCS) $(wildcard tests/unit/*.h) $(BUILD)/libkp.a
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(TEST_SRCS) $(BUILD)/libkp.a $(PKG_LIBS) -lcriterion $(LDLIBS)

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	command -v kubectl >/dev/null 2>&1 || missing="$$missing $(DEPS_KUBECTL)"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (or: sudo apt-get install$$missing)" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

demo: deps
	$(MAKE) all
	@rm -rf out/demo
	./$(KOPILOT) run --snapshot examples/demo-cluster --out out/demo --now 2026-11-25T06:00:00Z \
	  --pr --repo examples/demo-manifests --dry-run; \
	  rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 3 ] || exit $$rc

unit: $(TEST_BIN)
	./$(TEST_BIN) --jobs 2

e2e: $(KOPILOT) $(MANPAGE)
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/run.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/inputs.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/missing.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/cli.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/cigate.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/scale.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/history.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/shard.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/focus.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/live.sh
	bash tests/e2e/watchfake.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/prom.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/gitops.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/corpus.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/ask.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/mcp.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/serve.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/operator.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/notify.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/deploy.sh
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/deb.sh

# forges.sh: the GitHub and GitLab fakes proven with the official npm clients
# (npm ci into tests/clients/node_modules the first time; no build needed)
forges: deps
	bash tests/e2e/forges.sh

# llmfakes.sh: the LLM provider fake proven with the official SDKs from npm
# (npm ci into tests/clients/llm/node_modules the first time), and kopilot's
# own request bodies (the unit test's exchanges) checked against their types
llmfakes: deps $(TEST_BIN)
	UNIT_TESTS=$(abspath $(TEST_BIN)) bash tests/e2e/llmfakes.sh

# quality.sh: seeded clusters with every category planted; precision and
# recall must be 1.0 and no recommendation may break a safety invariant.
quality: $(KOPILOT)
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/quality.sh

# rundir.sh: a run directory is all or nothing: killed runs, a full disk
# (tmpfs mounts: needs root), concurrent writers, modes, links, mounts.
rundir: $(KOPILOT)
	KOPILOT=$(abspath $(KOPILOT)) bash tests/e2e/rundir.sh

# layers.sh: the core includes no stage, no stage a later one, and stage
# code never prints or exits.
layers:
	bash tests/e2e/layers.sh

test: deps
	$(MAKE) all $(TEST_BIN)
	$(MAKE) layers
	$(MAKE) forges
	$(MAKE) llmfakes
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) rundir
	$(MAKE) quality
	$(MAKE) faults

# Separate build dir so sanitizer objects never mix with the normal ones.
asan: deps
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  build-asan/kopilot build-asan/unit-tests
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) UBSAN_OPTIONS=print_stacktrace=1 ./build-asan/unit-tests --jobs 2
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/run.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/inputs.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/missing.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/live.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/cli.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/history.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/cigate.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/quality.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/gitops.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/ask.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/mcp.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/serve.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/operator.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/corpus.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/shard.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/focus.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/notify.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/deploy.sh
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) KOPILOT=$(abspath build-asan/kopilot) bash tests/e2e/deb.sh

# Fault injection (pipeline/fault.h): a build where KOPILOT_FAULT=alloc:N or
# io:N fails the Nth allocation or file operation; faults.sh walks N over a
# whole run and checks every failure ends cleanly with the previous run intact.
# Separate build dir, like asan: the counters never reach build/kopilot.
# FAULTS_ALLOC_STRIDE=1: every allocation, so the walk is the same on every
# machine (about 2.5 minutes on 2 cores); unset it for the time-budgeted walk.
FAULTS_ALLOC_STRIDE ?= 1
faults:
	$(MAKE) BUILD=build-fault EXTRA_CFLAGS=-DKP_FAULT_INJECTION build-fault/kopilot
	FAULTS_ALLOC_STRIDE=$(FAULTS_ALLOC_STRIDE) KOPILOT=$(abspath build-fault/kopilot) bash tests/e2e/faults.sh

# Coverage-guided fuzzing of the input parsers (clang's libFuzzer, with
# ASan+UBSan); FUZZ_SECONDS per harness. Not part of `make test`.
FUZZ_SECONDS ?= 60
fuzz:
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: $(KOPILOT)
	KOPILOT=$(abspath $(KOPILOT)) bash bench/run.sh
	KOPILOT=$(abspath $(KOPILOT)) bash bench/live.sh

# make install [PREFIX=/usr/local] [DESTDIR=staging root]: the binary (its
# templates and built-in skills are compiled in) and the manual page.
PREFIX ?= /usr/local
install: $(KOPILOT) $(MANPAGE)
	install -D -m 0755 $(KOPILOT) $(DESTDIR)$(PREFIX)/bin/kopilot
	install -D -m 0644 $(MANPAGE) $(DESTDIR)$(PREFIX)/share/man/man1/kopilot.1

# make deb: build/deb/kubedevaiops_VERSION-1_ARCH.deb, built with
# dpkg-buildpackage from the committed tree (HEAD, exported with git archive
# into build/deb/, so untracked or uncommitted files never get in and
# dpkg-buildpackage's output in .. stays inside build/deb/). The upstream
# tarball (orig) is the tree without debian/, which goes in the Debian tarball.
DEB_VERSION := $(shell sed -n 's/^\#define KP_VERSION "\(.*\)"/\1/p' pipeline/kp.h)
DEB_DIR := build/deb
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
	  { echo "make deb: dpkg-buildpackage and dh are missing: run 'make deps' (Debian packages dpkg-dev debhelper fakeroot)" >&2; exit 1; }
	@git rev-parse --verify -q HEAD >/dev/null || { echo "make deb: needs a git checkout with a commit (it packages HEAD)" >&2; exit 1; }
	@v=$$(dpkg-parsechangelog -S Version); [ "$${v%-*}" = "$(DEB_VERSION)" ] || \
	  { echo "make deb: debian/changelog is at $$v but pipeline/kp.h says KP_VERSION $(DEB_VERSION)" >&2; exit 1; }
	@git diff --quiet HEAD 2>/dev/null || echo "make deb: note: uncommitted changes are not packaged (it builds HEAD)"
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	git describe --always --abbrev=12 --match=NeVeRmAtCh HEAD > $(DEB_DIR)/COMMIT
	git archive --format=tar.gz --prefix=kubedevaiops-$(DEB_VERSION)/ --add-file=$(DEB_DIR)/COMMIT HEAD -- . ':!debian' \
	  > $(DEB_DIR)/kubedevaiops_$(DEB_VERSION).orig.tar.gz
	cd $(DEB_DIR) && tar xzf kubedevaiops_$(DEB_VERSION).orig.tar.gz
	git archive --format=tar --prefix=kubedevaiops-$(DEB_VERSION)/ HEAD debian | tar xf - -C $(DEB_DIR)
	cd $(DEB_DIR)/kubedevaiops-$(DEB_VERSION) && \
	  dpkg-buildpackage -us -uc -j2 > ../build.log 2>&1 || { tail -40 ../build.log >&2; exit 1; }
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build build-asan build-fault out
