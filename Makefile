# xlb - XDP L4 load balancer. `make` builds everything into build/.
# V=1 prints full commands.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD := build

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH_INC := /usr/include/$(shell uname -m)-linux-gnu

# Capacities (include/xlb.h) for both sides at once, e.g.
# make XLB_DEFS=-DXLB_MAX_FLOWS=4194304
XLB_DEFS ?=
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter -std=gnu11 \
	  -Iinclude -Iuser -I$(BUILD) -D_GNU_SOURCE $(XLB_DEFS)
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
	      -Wall -Werror -Iinclude -Ibpf -I$(ARCH_INC) $(XLB_DEFS)
# Lazy (=): `make test` installs the packages before anything links.
LIBS = $(shell pkg-config --libs libbpf libxdp json-c libconfig libmicrohttpd libsystemd libcurl) \
	-lelf -lz -lm

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := $(wildcard bpf/*.h) $(wildcard include/*.h)
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
TEST_BPF_SRCS := $(wildcard tests/bpf/*.bpf.c)
TEST_SKELS := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/%.skel.h,$(TEST_BPF_SRCS))

LIB_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))
USER_HDRS := $(wildcard user/*.h) $(wildcard include/*.h)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
PROG_SRCS := $(wildcard tests/prog/*.c)
PROG_BIN := $(if $(PROG_SRCS),$(BUILD)/tests/prog_test)
MODEL_SRCS := $(wildcard tests/model/*.c)
MODEL_BIN := $(if $(MODEL_SRCS),$(BUILD)/tests/model_test)
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/tests/%,$(BENCH_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/%,$(FUZZ_SRCS))

all: $(BUILD)/xlb $(BUILD)/xlb.8 $(UNIT_BINS) $(PROG_BIN) $(MODEL_BIN) $(BENCH_BINS)

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: tests/bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libxlb.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

# The commit `xlb --version` names (a tarball without .git says unknown);
# the header changes only when the commit does.
GIT_COMMIT = $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)

$(BUILD)/version.h: FORCE | $(BUILD)
	$(Q)echo '#define XLB_COMMIT "$(GIT_COMMIT)"' >$@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/xlb: user/main.c $(BUILD)/libxlb.a $(USER_HDRS) $(BUILD)/version.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(BUILD)/libxlb.a $(LIBS) -o $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libxlb.a $(USER_HDRS) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(BUILD)/libxlb.a $(LIBS) -lcmocka -o $@

$(BUILD)/tests/prog_test: $(PROG_SRCS) $(wildcard tests/prog/*.h) $(BUILD)/libxlb.a $(TEST_SKELS) $(USER_HDRS) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/prog $(PROG_SRCS) $(BUILD)/libxlb.a $(LIBS) -lcmocka -lpthread -o $@

$(BUILD)/tests/model_test: $(MODEL_SRCS) $(BUILD)/libxlb.a $(USER_HDRS) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(MODEL_SRCS) $(BUILD)/libxlb.a $(LIBS) -lcmocka -lpthread -o $@

$(BUILD)/tests/bench_%: tests/bench/bench_%.c $(BUILD)/libxlb.a $(TEST_SKELS) $(USER_HDRS) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(BUILD)/libxlb.a $(LIBS) -lpthread -o $@

# libFuzzer harnesses (clang); built by `make fuzz` and the test suite.
$(BUILD)/tests/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS) $(USER_HDRS) $(SKELS) | $(BUILD)/tests
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Iuser \
		-I$(BUILD) -D_GNU_SOURCE $< $(LIB_SRCS) $(LIBS) -o $@

# xlb(8): its commands from the help table the binary prints.
$(BUILD)/xlb.8: docs/man/xlb.8.in $(BUILD)/xlb
	$(call msg,MAN,$@)
	$(Q)$(BUILD)/xlb help --roff >$@.cmds
	$(Q)sed -e '/^@COMMANDS@$$/{r $@.cmds' -e 'd}' \
		-e "s/@VERSION@/$$($(BUILD)/xlb --version | cut -d' ' -f2)/" $< >$@
	$(Q)rm -f $@.cmds

fuzz: $(FUZZ_BINS)

$(BUILD) $(BUILD)/user $(BUILD)/tests:
	$(Q)mkdir -p $@

# The whole suite, as root: installs what it needs, builds, runs every tier.
test:
	$(Q)bash scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all fuzz
	$(Q)bash tests/run.sh

# The long tier: the kill-point sweep over every bpf() call of each commit
# (tests/cli/crash.sh; the default suite takes 35 points per commit).
test-long:
	$(Q)bash scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)CRASH_ALL=1 bash tests/cli/crash.sh

bench:
	$(Q)bash scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/bench/run.sh

demo:
	$(Q)bash scripts/demo.sh

install: $(BUILD)/xlb $(BUILD)/xlb.8
	install -D -m 0755 $(BUILD)/xlb $(DESTDIR)$(PREFIX)/sbin/xlb
	install -D -m 0644 $(BUILD)/xlb.8 $(DESTDIR)$(PREFIX)/share/man/man8/xlb.8
	install -D -m 0644 docs/man/xlb.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/xlb.conf.5
	install -D -m 0644 scripts/xlb.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/xlb
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/sbin/xlb|$(PREFIX)/sbin/xlb|' scripts/xlb.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/xlb.service
	# A sample configuration, never over one that exists.
	install -d $(DESTDIR)/etc/xlb
	test -e $(DESTDIR)/etc/xlb/xlb.conf || \
		install -m 0644 scripts/xlb.conf.sample $(DESTDIR)/etc/xlb/xlb.conf

format:
	clang-format -i $(wildcard bpf/*.c bpf/*.h user/*.c user/*.h include/*.h tests/*/*.c tests/*/*.h)

clean:
	rm -rf $(BUILD)

.PHONY: FORCE all test test-long bench demo install clean fuzz format
