# SPDX-License-Identifier: GPL-2.0-only
#
# forensics-agent and its tests. `make` builds the static agent;
# `make check` runs every test; `make demo` captures a QEMU guest;
# `make bench` measures the pipeline; `make modules` builds the capture
# module for a set of kernels; `make dkms-install` installs its DKMS source
# tree; `make deb` packages agent and module sources. See README.md.

BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= gcc

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 -Wvla
override CFLAGS += -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -fno-strict-aliasing
ZSTD_DIR := $(BUILD)/zstd/install
CURL_DIR := $(BUILD)/curl/install
ZSTD_LIB := $(ZSTD_DIR)/lib/libzstd.a
CURL_LIB := $(CURL_DIR)/lib/libcurl.a
# Our static zstd and curl headers come first so they match the archives.
# Libraries are included by folder ("base/log.h", "aws/s3.h"), so a file's
# includes say which layer it reaches into (scripts/check-layers.sh).
CPPFLAGS += -I$(ZSTD_DIR)/include -I$(CURL_DIR)/include -Ilib -Iebpf -I$(BUILD)/ebpf

# The layers, each a static library that depends only on those below it:
#   lib/base      logging, errors, time, encodings, sinks, JSON helpers
#   lib/aws       one AWS client: HTTP, SigV4, credentials, S3, Query/JSON APIs
#   lib/capture   memory sources, LiME, the capture loop, the image reader
#                 (with ebpf/'s loader)
#   lib/response  the controller's orchestration: preserve, snapshot, contain
# and two programs on top: agent/ and controller/.
# ebpf/x.c loads ebpf/x.bpf.c through its generated skeleton (x.skel.h),
# which embeds the BPF object: the agent ships nothing beside itself.
EBPF_SRCS := $(filter-out %.bpf.c,$(wildcard ebpf/*.c))
BASE_SRCS := $(wildcard lib/base/*.c)
AWS_SRCS := $(wildcard lib/aws/*.c)
CAPTURE_SRCS := $(wildcard lib/capture/*.c) $(EBPF_SRCS)
RESPONSE_SRCS := $(wildcard lib/response/*.c)
AGENT_SRCS := $(wildcard agent/*.c)
LIB_SRCS := $(BASE_SRCS) $(AWS_SRCS) $(CAPTURE_SRCS) $(RESPONSE_SRCS)
LIBBASE := $(BUILD)/libbase.a
LIBAWS := $(BUILD)/libaws.a
LIBCAPTURE := $(BUILD)/libcapture.a
LIBRESPONSE := $(BUILD)/libresponse.a
# Link order: higher layers first.
LIBS_ALL := $(LIBRESPONSE) $(LIBCAPTURE) $(LIBAWS) $(LIBBASE)
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/obj/%.o)

# The agent runs inside initramfs images and on hosts whose libraries we
# cannot know: link everything statically. Debian's libzstd.a has no worker
# threads and its libcurl.a needs libraries with no static build, so both
# are built from Debian's sources (scripts/build-*.sh), cached.
CURL_LINK = $(shell cat $(CURL_DIR)/link-flags.txt 2>/dev/null)
# Debian's libbpf-dev and libelf-dev ship libbpf.a and libelf.a.
BPF_LIBS := -lbpf -lelf -lz
STATIC_LIBS = $(CURL_LINK) -lexpat -ljson-c $(ZSTD_LIB) -llzma $(BPF_LIBS) -lcrypto -lpthread
DEPS_LIBS := $(ZSTD_LIB) $(CURL_LIB)

# LINK=dynamic links Debian's shared libraries instead: sanitizers and
# valgrind do not work on a static binary. SANITIZE=address,undefined adds
# the sanitizers. `make asan` and `make dynamic` build so, each in its own
# directory under $(BUILD).
LINK ?= static
SANITIZE ?=
LDSTATIC := -static
ifeq ($(LINK),dynamic)
ZSTD_LIB := -lzstd
CURL_LINK := -lcurl
DEPS_LIBS :=
LDSTATIC :=
endif
ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

AGENT := $(BUILD)/forensics-agent
CONTROLLER_SRCS := $(wildcard controller/*.c)
CONTROLLER_OBJS := $(CONTROLLER_SRCS:%.c=$(BUILD)/obj/%.o)
CONTROLLER := $(BUILD)/forensics-controller

.PHONY: all agent controller check unit fuzz demo bench install modules dkms-install deb clean \
	asan dynamic
all: agent controller

agent: $(AGENT)

controller: $(CONTROLLER)

$(ZSTD_LIB): scripts/build-zstd.sh scripts/fetch-debian-source.sh
	bash scripts/build-zstd.sh $(BUILD)

$(CURL_LIB): scripts/build-curl.sh scripts/fetch-debian-source.sh
	bash scripts/build-curl.sh $(BUILD)

$(BUILD)/obj/%.o: %.c | $(DEPS_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# ---- eBPF: clang -target bpf, bpftool gen object, bpftool gen skeleton ----
BPFTOOL ?= bpftool
BPF_CLANG ?= clang
# The BPF target has no system headers of its own: borrow the host's
# (asm/types.h lives under the multiarch directory), after ours.
BPF_SYS_INCLUDES := $(shell $(BPF_CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wextra -Werror
EBPF_SKELS := $(EBPF_SRCS:ebpf/%.c=$(BUILD)/ebpf/%.skel.h)

$(BUILD)/ebpf/%.bpf.o: ebpf/%.bpf.c ebpf/%.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -Iebpf $(BPF_SYS_INCLUDES) -c -o $@.tmp $<
	$(BPFTOOL) gen object $@ $@.tmp
	@rm -f $@.tmp

$(BUILD)/ebpf/%.skel.h: $(BUILD)/ebpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp
	@mv $@.tmp $@

$(EBPF_SRCS:%.c=$(BUILD)/obj/%.o): $(BUILD)/obj/%.o: $(BUILD)/%.skel.h
.SECONDARY: $(EBPF_SRCS:ebpf/%.c=$(BUILD)/ebpf/%.bpf.o)

$(LIBBASE): $(BASE_SRCS:%.c=$(BUILD)/obj/%.o)
$(LIBAWS): $(AWS_SRCS:%.c=$(BUILD)/obj/%.o)
$(LIBCAPTURE): $(CAPTURE_SRCS:%.c=$(BUILD)/obj/%.o)
$(LIBRESPONSE): $(RESPONSE_SRCS:%.c=$(BUILD)/obj/%.o)
$(LIBS_ALL):
	@rm -f $@
	$(AR) rcs $@ $^

$(AGENT): $(AGENT_OBJS) $(LIBCAPTURE) $(LIBAWS) $(LIBBASE)
	$(CC) $(LDSTATIC) $(LDFLAGS) -o $@ $(AGENT_OBJS) $(LIBCAPTURE) $(LIBAWS) $(LIBBASE) \
		$(STATIC_LIBS)

$(CONTROLLER): $(CONTROLLER_OBJS) $(LIBS_ALL)
	$(CC) $(LDSTATIC) $(LDFLAGS) -o $@ $(CONTROLLER_OBJS) $(LIBS_ALL) $(STATIC_LIBS)

# ---- tests ----
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: tests/unit/%.c $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBS_ALL) -lcmocka \
		$(CURL_LINK) -lexpat -ljson-c $(ZSTD_LIB) -llzma $(BPF_LIBS) -lcrypto -lpthread

# Small drivers that let python tests (against botocore, fake servers) call
# library code directly.
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
$(BUILD)/tools/%: tests/tools/%.c $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBS_ALL) \
		$(CURL_LINK) -lexpat -ljson-c $(ZSTD_LIB) -llzma $(BPF_LIBS) -lcrypto -lpthread

unit: $(UNIT_BINS) $(TOOL_BINS)

# libFuzzer harnesses for every parser of outside input, with ASan + UBSan.
# The libraries are compiled once, instrumented, into one archive that every
# harness links: a harness pulls in only what it calls.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 $(FUZZ_SANITIZE)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_LIB := $(BUILD)/fuzz/libfuzz-libs.a
$(BUILD)/fuzz/obj/%.o: %.c $(EBPF_SKELS) | $(DEPS_LIBS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(CPPFLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(CPPFLAGS) -o $@ $< $(FUZZ_LIB) \
		$(CURL_LINK) -lexpat $(ZSTD_LIB) -llzma -ljson-c $(BPF_LIBS) -lcrypto -lpthread

fuzz: $(FUZZ_BINS)

# The unit and host integration tests under ASan/UBSan, and the agent under
# valgrind (tests/integration/test_sanitizers.sh, test_valgrind.py).
asan:
	$(MAKE) BUILD=$(BUILD)/asan LINK=dynamic SANITIZE=address,undefined agent controller unit

dynamic:
	$(MAKE) BUILD=$(BUILD)/dynamic LINK=dynamic agent

check: agent controller unit fuzz modules asan dynamic
	BUILD=$(BUILD) bash tests/run.sh

demo: agent
	BUILD=$(BUILD) bash tests/demo.sh

# A fresh clone of HEAD built with an empty cache, as on a new machine: zstd
# and curl fetched from Debian and built (minutes, needs the network).
.PHONY: check-cold
check-cold:
	bash tests/cold/test_cold_build.sh

# BENCH_E2E=0 skips the end-to-end guest capture (minutes under TCG).
bench: agent modules $(BUILD)/tools/ebpf-read
	BUILD=$(BUILD) bash bench/run.sh
	[ "$${BENCH_E2E:-1}" = 0 ] || BUILD=$(BUILD) python3 bench/e2e.py

# The agent in $(PREFIX)/sbin, the module's DKMS tree in /usr/src, the docs in
# $(PREFIX)/share/doc/forensics-agent: the packages' layout (PREFIX=/usr).
install: agent
	bash scripts/install-tree.sh $(AGENT) "$(DESTDIR)" $(PREFIX)

# ---- kernel module ----
# KERNEL_TREES: kernel build directories (or fetch-kernel.sh --headers
# directories); empty means the cached Debian 5.10, 6.1 and 6.12 headers.
KERNEL_TREES ?=
KMOD_VERSION = $(shell bash scripts/install-kmod-source.sh --version)

modules:
	BUILD=$(BUILD) bash scripts/build-modules.sh $(KERNEL_TREES)

dkms-install:
	bash scripts/install-kmod-source.sh $(DESTDIR)/usr/src/forensics-mem-$(KMOD_VERSION)

# A Debian package: the agent, the module's DKMS sources, the docs.
deb: agent
	bash delivery/deb/build-deb.sh $(BUILD)

# The same files as an RPM, built with rpmbuild (Debian's rpm package).
.PHONY: rpm
rpm: agent
	bash delivery/rpm/build-rpm.sh $(BUILD)

# The controller's Lambda code (security.yaml): bootstrap and the static controller.
.PHONY: lambda-zip
lambda-zip: controller
	bash delivery/lambda/build-zip.sh $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(LIB_SRCS:%.c=$(BUILD)/obj/%.d) $(AGENT_OBJS:.o=.d) $(CONTROLLER_OBJS:.o=.d) \
	$(FUZZ_LIB_OBJS:.o=.d)
