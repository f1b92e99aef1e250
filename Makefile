# certsentry - passive sensor for misissued and intercepting TLS certificates.
#
#   make            build ./certsentry
#   make test       unit tests (cmocka) and capture tests; ends "N passed, N failed"
#   make golden UPDATE=1   rewrite pcaps/*.expected after a reviewed change
#   make SANITIZE=1 build with ASan/UBSan (build-san/certsentry)
#   make test-asan  the whole test suite under ASan/UBSan
#   make SANITIZE=thread build with TSan (build-tsan/certsentry)
#   make test-tsan  the tests of the threaded paths under TSan
#   make bench      certsentry against libpcap, tshark and ndpiReader (tests/bench)
#   make bench BASE_REV=REV   ... and before/after ratios against REV
#   make bench-ct   --ct-json over 100,000 generated CT entries (tests/bench)
#   make bench-ct-follow   --ct-follow over 1,000,000 entries served on loopback
#   make bench-inputs BASE_REV=REV   the capture readers, this tree against REV
#   make install PREFIX=/usr/local DESTDIR=   (make uninstall: the same, undone)
#   make deb        the Debian package, in build-deb/ (docs/packaging.md)

# Where make install puts things (GNU names; docs/packaging.md has the
# table).  Each can be set on the command line.
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
DOCDIR   = $(PREFIX)/share/doc/certsentry
# The configuration and the rules: /etc for PREFIX=/usr (Debian policy) and
# for /usr/local too, since the sensor is a system service whose units,
# logrotate file and documented paths are all under /etc; GNU's
# $(PREFIX)/etc for any other prefix, so that a private tree
# (PREFIX=$$HOME/cs, /opt/certsentry) stays whole.  Compiled in
# (CERTSENTRY_SYSCONFDIR): the default configuration file is
# $(SYSCONFDIR)/certsentry/certsentry.conf.
SYSCONFDIR = $(if $(filter /usr /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc)
CONFDIR  = $(SYSCONFDIR)/certsentry
# systemd's own directories for the distribution's prefix (pkg-config asks
# systemd: /lib/systemd/system on Debian 12); for another prefix the one
# under it that systemd also searches (/usr/local/lib/systemd/system,
# /usr/local/lib/sysusers.d), never a directory of the distribution's.
systemd_var = $(or $(if $(filter /usr,$(PREFIX)),$(shell pkg-config --variable=$(1) systemd 2>/dev/null)),$(PREFIX)/$(2))
UNITDIR     = $(call systemd_var,systemdsystemunitdir,lib/systemd/system)
SYSUSERSDIR = $(call systemd_var,sysusersdir,lib/sysusers.d)

CC      ?= cc
PKGS     = libpcap openssl libndpi hiredis zlib libbrotlidec libzstd jansson libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -pthread -lm
# Unit tests only: cmocka, and jansson as the reference the EVE writer
# (sensor/core/jsonw.c) is checked against in tests/test_jsonw.c.  Asked
# only when a test is built, so that building the program (make deb, on a
# machine without the test packages) does not ask for them.
TEST_CFLAGS = $(shell pkg-config --cflags cmocka jansson)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka jansson)

WARN     = -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_DEFAULT_SOURCE $(WARN) $(HARDEN) -Iinclude $(PKG_CFLAGS) -MMD -MP \
           -DCERTSENTRY_SYSCONFDIR=\"$(SYSCONFDIR)\"
LDFLAGS += -pie -Wl,-z,relro,-z,now

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BUILD   = build-san
BIN     = $(BUILD)/certsentry
TEST_ENV = SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else ifeq ($(SANITIZE),thread)
CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
BUILD   = build-tsan
BIN     = $(BUILD)/certsentry
TEST_ENV = SANITIZED=thread TSAN_OPTIONS=halt_on_error=1:exitcode=66
else
BUILD   = build
BIN     = certsentry
TEST_ENV =
endif

ifneq ($(V),1)
Q = @
endif

# A build directory made before the sources moved into their stage folders
# holds objects and dependency files that name the old paths, which make
# cannot always see are stale: such a directory is emptied once, before
# anything is read from it (the stamp says which layout built it).
BUILD_LAYOUT := stages-1
# Without a build directory there is nothing stale: a binary already
# there (make install's test copies one into a tree of its own) is kept.
$(shell test "`cat $(BUILD)/.layout 2>/dev/null`" = $(BUILD_LAYOUT) || \
	{ { [ ! -d $(BUILD) ] || rm -rf $(BUILD) $(BIN); } && \
	  mkdir -p $(BUILD) && echo $(BUILD_LAYOUT) > $(BUILD)/.layout; })
# The compiled-in SYSCONFDIR is an input of every object: a stamp holds the
# value they were built with, rewritten only when it changes, so that
# "make install PREFIX=/opt/cs" after a plain make rebuilds instead of
# installing a binary that looks for its configuration under /etc.
$(shell test "`cat $(BUILD)/.sysconfdir 2>/dev/null`" = "$(SYSCONFDIR)" || \
	echo "$(SYSCONFDIR)" > $(BUILD)/.sysconfdir)

# Sources follow the data, one folder a stage (sensor/README.md): every
# sensor/**/*.c is a module, built without a line here (a new transport,
# analyser or sink is its file plus its registration line in C).  Object
# files stay flat in $(BUILD), so a module's name must be unique.
SRCS     := $(shell find sensor -name '*.c' | LC_ALL=C sort)
SRCDIRS  := $(sort $(dir $(SRCS)))
vpath %.c $(SRCDIRS)
DUP_MODS := $(shell printf '%s\n' $(notdir $(SRCS)) | sort | uniq -d)
$(if $(DUP_MODS),$(error two modules share a name: $(DUP_MODS)))
MODULES  := $(filter-out main,$(basename $(notdir $(SRCS))))
OBJS     = $(MODULES:%=$(BUILD)/%.o)
MAINOBJ  = $(BUILD)/main.o
# Every module but main in one archive: a unit test or fuzz harness links
# it and the linker takes only the modules the test reaches.
LIB      = $(BUILD)/libcertsentry.a

TESTS    = $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
FUZZERS  = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BINS = $(FUZZERS:%=$(BUILD)/replay/%)
TESTBINS = $(TESTS:%=$(BUILD)/tests/%)

all: $(BIN)

$(BIN): $(OBJS) $(MAINOBJ)
	@echo "  LD    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(LIB): $(OBJS)
	@echo "  AR    $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/%.o: %.c $(BUILD)/.sysconfdir
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-conversion -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(LIB)
	@echo "  LD    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

unit: $(TESTBINS)

test: $(BIN) $(TESTBINS) $(REPLAY_BINS)
	$(Q)$(TEST_ENV) CERTSENTRY=./$(BIN) bash tests/run_tests.sh $(BUILD)

# The whole suite again, built with AddressSanitizer and UBSan, leak
# checking on.
test-asan:
	$(Q)$(MAKE) SANITIZE=1 test

# The scripts that run threads -- --workers over files, pipes and several
# files (the rings, the pager), live capture's workers, the key log, the
# coverage table and the fingerprint baseline the workers share -- with a
# ThreadSanitizer build; a data race or a lock-order inversion fails the
# run that shows it (exit 66).  The unit tests run one thread: not here.
TSAN_SCRIPTS = t_workers.sh t_capture.sh t_live.sh t_cli.sh t_tls13.sh t_fingerprint.sh t_reload.sh t_quic.sh
test-tsan:
	$(Q)$(MAKE) SANITIZE=thread tsan-scripts

tsan-scripts: $(BIN)
	$(Q)$(TEST_ENV) CERTSENTRY=./$(BIN) SCRIPTS="$(TSAN_SCRIPTS)" bash tests/run_tests.sh $(BUILD)

golden: $(BIN)
	$(Q)UPDATE=$(UPDATE) CERTSENTRY=./$(BIN) bash tests/t_captures.sh

# ---- fuzzing (libFuzzer, clang) -------------------------------------------
# make fuzz [FUZZ_SECONDS=60]   build every tests/fuzz/fuzz_*.c and run each
# A harness links the archive of every module (FUZZ_LIB), built with clang.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD    = build-fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS   = -std=c11 -D_DEFAULT_SOURCE -DCERTSENTRY_SYSCONFDIR=\"$(SYSCONFDIR)\" -g -O1 -fno-omit-frame-pointer \
                -fsanitize=fuzzer-no-link $(FUZZ_SAN) -Iinclude $(PKG_CFLAGS) -MMD -MP
FUZZ_BINS     = $(FUZZERS:%=$(FUZZ_BUILD)/%)
FUZZ_LIB      = $(FUZZ_BUILD)/libcertsentry.a
FUZZ_OBJS     = $(MODULES:%=$(FUZZ_BUILD)/%.o)
# Test code a harness is built with: the shared test PKI.
SRCS_fuzz_rules  = tests/fuzz/pki.c
SRCS_fuzz_chain  = tests/fuzz/pki.c
SRCS_fuzz_engine = tests/fuzz/pki.c
SRCS_fuzz_certnames = tests/fuzz/pki.c

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	@echo "  AR    $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $$(SRCS_fuzz_$$*) tests/fuzz/pki.h $(FUZZ_LIB)
	@echo "  FUZZLD $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter-out %.h,$^) $(PKG_LIBS)

# The same harnesses built with the ordinary compiler around a small main
# (tests/fuzz/replay.c) replay tests/fuzz/regress/NAME/* in make test: every
# crash a fuzzer ever found stays a regression test without needing clang.
$(BUILD)/replay/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $$(SRCS_fuzz_$$*) tests/fuzz/pki.h $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) -Wno-conversion $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(PKG_LIBS)

# Keep every object between builds: make would delete the ones it made as
# intermediates of the test and harness pattern rules (and say so after
# the test summary, which must stay the last line).
.SECONDARY:

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	$(Q)bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# ---- install, uninstall, deb ----------------------------------------------
# What goes where is docs/packaging.md's table; tests/t_systemd.sh checks it
# with PREFIX=/usr and a DESTDIR.  The units get this install's paths
# (@BINDIR@, @SYSCONFDIR@, @DOCDIR@ in sensor/dist/*.service).
UNITS     = certsentry.service certsentry@.service certsentry-ct.service
UNIT_SUBST = -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g'
# Files under SYSCONFDIR are the administrator's once there: $(call
# install_conf,SRC,DEST) installs SRC unless DEST exists and differs from
# it, and then says so and leaves DEST as it is (a copy beside it could be
# read as configuration: logrotate reads every file in logrotate.d).  The
# configuration file is sensor/dist/certsentry.conf, when the tree has it.
install_conf = if [ -e $(2) ] && ! cmp -s $(1) $(2); then \
	echo "  kept  $(2): it differs from $(1), which is not installed"; \
	else install -m 0644 $(1) $(2); fi
# $(call remove_conf,SRC,DEST): uninstall removes DEST only if it is still
# what was shipped; an edited one is left, and said.
remove_conf = if [ -e $(2) ] && ! cmp -s $(1) $(2); then echo "  kept  $(2): edited"; \
	else rm -f $(2); fi
EXAMPLES  = $(shell cd rules/examples && find . -type f | LC_ALL=C sort)

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/docs \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d \
	  $(sort $(dir $(EXAMPLES:./%=$(DESTDIR)$(CONFDIR)/examples/%)))
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/certsentry
	install -m 0644 docs/certsentry.8 $(DESTDIR)$(MANDIR)/man8/certsentry.8
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	for u in $(UNITS); do \
	  sed $(UNIT_SUBST) sensor/dist/$$u > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 sensor/dist/certsentry.sysusers $(DESTDIR)$(SYSUSERSDIR)/certsentry.conf
	$(Q)$(call install_conf,sensor/dist/certsentry.logrotate,$(DESTDIR)$(SYSCONFDIR)/logrotate.d/certsentry)
	$(Q)if [ -f sensor/dist/certsentry.conf ]; then \
	  $(call install_conf,sensor/dist/certsentry.conf,$(DESTDIR)$(CONFDIR)/certsentry.conf); fi
	$(Q)for f in $(EXAMPLES:./%=%); do \
	  $(call install_conf,rules/examples/$$f,$(DESTDIR)$(CONFDIR)/examples/$$f); done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/certsentry $(DESTDIR)$(MANDIR)/man8/certsentry.8 \
	  $(UNITS:%=$(DESTDIR)$(UNITDIR)/%) $(DESTDIR)$(SYSUSERSDIR)/certsentry.conf
	rm -rf $(DESTDIR)$(DOCDIR)
	$(Q)$(call remove_conf,sensor/dist/certsentry.logrotate,$(DESTDIR)$(SYSCONFDIR)/logrotate.d/certsentry)
	$(Q)if [ -f sensor/dist/certsentry.conf ]; then \
	  $(call remove_conf,sensor/dist/certsentry.conf,$(DESTDIR)$(CONFDIR)/certsentry.conf); fi
	$(Q)for f in $(EXAMPLES:./%=%); do \
	  $(call remove_conf,rules/examples/$$f,$(DESTDIR)$(CONFDIR)/examples/$$f); done
	$(Q)for d in $(sort $(dir $(EXAMPLES:./%=$(DESTDIR)$(CONFDIR)/examples/%))) $(DESTDIR)$(CONFDIR)/examples \
	  $(DESTDIR)$(CONFDIR); do rmdir $$d 2>/dev/null || true; done

# The Debian package.  Its packaging lives in sensor/dist/debian/ (the top
# level holds no debian/ directory); it is copied with the sources into
# build-deb/certsentry-VERSION/, whose debian/changelog is written here
# from CS_VERSION, and dpkg-buildpackage builds the binary package there:
# build-deb/certsentry_VERSION_ARCH.deb.  Lintian runs when installed
# (LINTIAN= leaves it out: tests/t_deb.sh runs its own).
DEB_BUILD   = build-deb
LINTIAN     = lintian
DEB_VERSION = $(shell sed -n 's/^\#define CS_VERSION *"\(.*\)"/\1/p' include/run/options.h)
DEB_TREE    = $(DEB_BUILD)/certsentry-$(DEB_VERSION)
DEB_MAINT   = $(shell sed -n 's/^Maintainer: //p' sensor/dist/debian/control)

deb:
	rm -rf $(DEB_BUILD) && mkdir -p $(DEB_TREE)
	cp -a Makefile README.md sensor include rules docs $(DEB_TREE)/
	rm -rf $(DEB_TREE)/sensor/dist/debian && cp -a sensor/dist/debian $(DEB_TREE)/debian
	printf '%s\n' "certsentry ($(DEB_VERSION)) unstable; urgency=medium" "" \
	  "  * Built from $$(git describe --always --dirty 2>/dev/null || echo 'a source tree')." "" \
	  " -- $(DEB_MAINT)  $$(date -R)" > $(DEB_TREE)/debian/changelog
	cd $(DEB_TREE) && DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS-parallel=2}" dpkg-buildpackage -b -us -uc
	$(Q)if [ -n "$(LINTIAN)" ] && command -v $(LINTIAN) >/dev/null; then \
	  $(LINTIAN) --fail-on error $(DEB_BUILD)/*.changes; fi
	@ls -1 $(DEB_BUILD)/*.deb

clean:
	rm -rf build build-san build-tsan build-fuzz build-fuzz2 build-deb certsentry

# Benchmark (issue 6): generates a 1 GB span-like capture and a 1M-flow one
# in /var/tmp (removed afterwards), times certsentry against a libpcap
# counter, tshark and ndpiReader; BENCH_ARGS e.g. "--size-mb 256 --keep".
bench: $(BIN) $(BUILD)/bench/pcapcount $(BUILD)/bench/mkct
	BIN=./$(BIN) PCAPCOUNT=$(BUILD)/bench/pcapcount bash tests/bench/bench.sh \
	  $(if $(BASE_REV),--base-rev $(BASE_REV)) $(BENCH_ARGS); \
	a=$$?; BIN=./$(BIN) MKCT=$(BUILD)/bench/mkct bash tests/bench/bench_ct.sh; b=$$?; \
	BIN=./$(BIN) MKCT=$(BUILD)/bench/mkct bash tests/bench/bench_ct_follow.sh; c=$$?; \
	[ $$a -eq 0 ] && [ $$b -eq 0 ] && [ $$c -eq 0 ]

# --ct-follow alone: 1,000,000 entries served on loopback (tests/ctlog),
# followed end to end with every check (issue 31).
bench-ct-follow: $(BIN) $(BUILD)/bench/mkct
	BIN=./$(BIN) MKCT=$(BUILD)/bench/mkct bash tests/bench/bench_ct_follow.sh $(BENCH_ARGS)

# The capture readers against another revision's (make bench-inputs
# BASE_REV=REV): pcap and pcapng, files and standard input, ratios new/old.
bench-inputs: $(BIN)
	BIN=./$(BIN) bash tests/bench/bench_inputs.sh --base-rev $(or $(BASE_REV),HEAD~1) $(BENCH_ARGS)

# --ct-json alone (issue 16): 100,000 generated CT entries from 1,000 issuers.
bench-ct: $(BIN) $(BUILD)/bench/mkct
	BIN=./$(BIN) MKCT=$(BUILD)/bench/mkct bash tests/bench/bench_ct.sh $(BENCH_CT_ARGS)

$(BUILD)/bench/mkct: tests/bench/mkct.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) -O2 -Wall -Wextra $(shell pkg-config --cflags openssl) -o $@ $< $(shell pkg-config --libs openssl)

$(BUILD)/bench/pcapcount: tests/bench/pcapcount.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) -O2 -Wall -Wextra $(shell pkg-config --cflags libpcap) -o $@ $< $(shell pkg-config --libs libpcap)

.PHONY: all unit test test-asan test-tsan tsan-scripts golden fuzz fuzz-build install uninstall deb clean bench bench-ct bench-ct-follow bench-inputs
-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d $(FUZZ_BUILD)/*.d)
