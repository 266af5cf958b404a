# SPDX-License-Identifier: GPL-2.0-only
#
# forensics-agent and its tests. `make` builds the static agent;
# `make check` runs every test; `make demo` captures a QEMU guest;
# `make bench` measures the pipeline. See README.md.

BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= gcc

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 -Wvla
override CFLAGS += -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -fno-strict-aliasing
CPPFLAGS += -Iagent

LIB_SRCS := $(wildcard agent/lib/*.c)
AGENT_SRCS := $(filter-out $(LIB_SRCS),$(wildcard agent/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/obj/%.o)
LIBCAPTURE := $(BUILD)/libcapture.a

# The agent runs inside initramfs images and on hosts whose libraries we
# cannot know: link everything statically.
STATIC_LIBS := -ljson-c -lzstd -lcrypto -lpthread

AGENT := $(BUILD)/forensics-agent

.PHONY: all agent check unit demo bench install clean
all: agent

agent: $(AGENT)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCAPTURE): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(AGENT): $(AGENT_OBJS) $(LIBCAPTURE)
	$(CC) -static $(LDFLAGS) -o $@ $(AGENT_OBJS) $(LIBCAPTURE) $(STATIC_LIBS)

# ---- tests ----
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: tests/unit/%.c $(LIBCAPTURE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iagent/lib $(CFLAGS) -o $@ $< $(LIBCAPTURE) -lcmocka -ljson-c -lzstd -lcrypto -lpthread

unit: $(UNIT_BINS)

check: agent unit
	BUILD=$(BUILD) bash tests/run.sh

demo: agent
	BUILD=$(BUILD) bash tests/demo.sh

bench: agent
	BUILD=$(BUILD) bash bench/run.sh

install: agent
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(AGENT) $(DESTDIR)$(PREFIX)/bin/forensics-agent

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(AGENT_OBJS:.o=.d)
