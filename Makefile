# certsentry - passive sensor for misissued and intercepting TLS certificates.
#
#   make            build ./certsentry
#   make test       unit tests (cmocka) and capture tests; ends "N passed, N failed"
#   make golden UPDATE=1   rewrite pcaps/*.expected after a reviewed change
#   make SANITIZE=1 build with ASan/UBSan
#   make install PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
DATADIR  = $(PREFIX)/share/certsentry

CC      ?= cc
PKGS     = libpcap openssl jansson libndpi
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

WARN     = -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_DEFAULT_SOURCE $(WARN) $(HARDEN) -Iinclude $(PKG_CFLAGS) -MMD -MP
LDFLAGS += -pie -Wl,-z,relro,-z,now

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BUILD   = build-san
else
BUILD   = build
endif

ifneq ($(V),1)
Q = @
endif

# Pipeline order: capture -> decode -> flow -> reasm -> tls -> x509 -> policy -> output
MODULES  = stats digest capture decode flow reasm tls x509 rules policy classify output engine
OBJS     = $(MODULES:%=$(BUILD)/%.o)
MAINOBJ  = $(BUILD)/main.o

TESTS    = $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
TESTBINS = $(TESTS:%=$(BUILD)/tests/%)

# Each unit test links only the modules it exercises, so one module's test
# builds while another module is being written.
DEPS_test_buf     =
DEPS_test_decode  = decode stats
DEPS_test_reasm   = reasm stats
DEPS_test_flow    = flow reasm tls digest stats
DEPS_test_tls     = tls digest stats
DEPS_test_x509    = x509 digest stats
DEPS_test_rules   = rules policy x509 digest stats
DEPS_test_policy  = rules policy x509 digest stats
DEPS_test_output  = output x509 policy rules digest tls stats

all: certsentry

certsentry: $(OBJS) $(MAINOBJ)
	@echo "  LD    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/%.o: sensor/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -Wno-conversion -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(DEPS_test_$$*)))
	@echo "  LD    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

unit: $(TESTBINS)

test: certsentry $(TESTBINS)
	$(Q)bash tests/run_tests.sh $(BUILD)

golden: certsentry
	$(Q)UPDATE=$(UPDATE) bash tests/t_captures.sh

install: certsentry
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/rules/examples
	install -m 0755 certsentry $(DESTDIR)$(BINDIR)/certsentry
	cp -r rules/examples/. $(DESTDIR)$(DATADIR)/rules/examples/

clean:
	rm -rf build build-san certsentry

.PHONY: all unit test golden install clean
-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
