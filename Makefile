# ovmm - one hand-written GNU Makefile (see docs/DEVELOPING.md).
#
#   make run       install what is missing, build, start ovmmd on ./var
#   make check     install what is missing, build, run every test tier
#   make lint      style, banned functions, include layering
#   make bench     durable jobs/s against raw SQLite commits/s, a monitoring
#                  cycle against raw bulk stats calls (bench/README.md)
#   make clean
#
# SANITIZE=1 builds into build/san with ASan + UBSan.  V=1 shows commands.

BUILD ?= build
ifeq ($(SANITIZE),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif

CC ?= gcc
PKGS := libmicrohttpd sqlite3 json-c openssl uuid libsodium libvirt libxml-2.0 \
	libcurl libarchive
TEST_PKGS := cmocka
# Recursive (=) so pkg-config runs after install-deps in a sub-make.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) -lpthread
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

OPT ?= -O2 -g
WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wpointer-arith -Wcast-qual -Wformat=2 -Werror
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -MMD -MP -Isrc -Iinclude \
	-I$(BUILD)/gen -DOVMM_VERSION='"$(VERSION)"' \
	-DOVMM_WEB_ROOT='"$(abspath web)"' $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

ifneq ($(V),1)
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

UTIL_SRCS := src/util/alloc.c src/util/err.c src/util/log.c src/util/buf.c \
	src/util/json.c src/util/str.c src/util/lockfile.c src/util/fs.c \
	src/util/notify.c src/util/secret.c src/util/ipmi.c src/util/fetch.c \
	src/util/archive.c src/util/vmcfg.c src/util/ovf.c
CONF_SRCS := src/conf/config.c
MODEL_SRCS := src/model/model.c src/model/types.c
DB_SRCS := src/db/db.c src/db/db_object.c src/db/db_manager.c \
	src/db/db_user.c src/db/db_session.c src/db/db_txn.c src/db/db_job.c \
	src/db/db_event.c src/db/db_server.c src/db/db_pool.c \
	src/db/db_monitor.c src/db/db_row.c src/db/db_vnic.c
JOBS_SRCS := src/jobs/engine.c src/jobs/locks.c src/jobs/ops.c \
	src/jobs/op_event.c src/jobs/op_user.c src/jobs/op_server.c \
	src/jobs/op_pool.c src/jobs/storage_host.c \
	src/jobs/op_storage.c src/jobs/op_fileserver.c \
	src/jobs/op_repository.c src/jobs/op_array.c src/jobs/op_ocfs2.c src/jobs/op_network.c src/jobs/op_netport.c src/jobs/op_vnic.c src/jobs/op_vdisk.c src/jobs/op_import.c \
	src/jobs/storage_template.c
EVENTS_SRCS := src/events/events.c
AUTH_SRCS := src/auth/password.c src/auth/session.c src/auth/authz.c
API_SRCS := src/api/dispatch.c src/api/api_object.c src/api/api_session.c \
	src/api/api_user.c src/api/api_openapi.c src/api/api_job.c \
	src/api/api_event.c src/api/api_update.c src/api/api_server.c \
	src/api/api_pool.c src/api/api_storage.c src/api/api_vdisk.c src/api/api_jobreq.c \
	src/api/api_netport.c src/api/api_network.c \
	src/api/api_vnic.c
HTTP_SRCS := src/http/server.c src/http/request.c src/http/response.c \
	src/http/static.c src/http/cert.c src/http/wait.c
HV_SRCS := src/hv/libvirt.c src/hv/uri.c src/hv/sim.c src/hv/simstore.c \
	src/hv/simnet.c
POLICY_SRCS := src/policy/registry.c src/policy/monitor.c
GEN_SRCS := $(BUILD)/gen/embedded.c $(BUILD)/gen/routes.c

LIB_SRCS := $(UTIL_SRCS) $(CONF_SRCS) $(MODEL_SRCS) $(DB_SRCS) $(AUTH_SRCS) \
	$(JOBS_SRCS) $(EVENTS_SRCS) $(API_SRCS) $(HTTP_SRCS) $(HV_SRCS) \
	$(POLICY_SRCS)
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS)) \
	$(patsubst %.c,%.o,$(GEN_SRCS))
DAEMON_OBJS := $(BUILD)/src/main.o $(BUILD)/src/admin.o

UNIT_TESTS := test_util test_config test_model test_db test_auth test_http \
	test_jobs test_events test_hv test_monitor test_server_ops \
	test_import_util test_hv_storage test_storage_db test_vdisk test_hv_net \
	test_vnic test_netport
UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))
APITEST := $(BUILD)/tests/apitest
JOBLOAD := $(BUILD)/tests/jobload
FIXTURED := $(BUILD)/tests/fixtured
BENCH_JOBS := $(BUILD)/bench/jobs
BENCH_MONITOR := $(BUILD)/bench/monitor

EMBED_FILES := $(sort $(wildcard schema/db/*.sql schema/api/*.json))

.PHONY: all run check test lint clean deps deps-test bench
all: $(BUILD)/ovmmd

$(BUILD)/ovmmd: $(DAEMON_OBJS) $(BUILD)/libovmm.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(BUILD)/libovmm.a $(PKG_LIBS)

$(BUILD)/libovmm.a: $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

# Build-time generators: plain host tools, never sanitized.
$(BUILD)/tools/embed: scripts/embed.c
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O1 -Wall -Werror -o $@ $<
$(BUILD)/tools/genroutes: scripts/genroutes.c
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O1 -Wall -Werror $(shell pkg-config --cflags json-c) \
		-o $@ $< $(shell pkg-config --libs json-c)

$(BUILD)/gen/embedded.c: $(BUILD)/tools/embed $(EMBED_FILES)
	$(call say,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BUILD)/tools/embed $(EMBED_FILES) > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/routes.c: $(BUILD)/tools/genroutes schema/api/routes.json
	$(call say,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BUILD)/tools/genroutes c schema/api/routes.json > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/routes.h: $(BUILD)/tools/genroutes schema/api/routes.json
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BUILD)/tools/genroutes h schema/api/routes.json > $@.tmp && mv $@.tmp $@
# Every object may include the generated header: make it first.
$(LIB_OBJS) $(DAEMON_OBJS): $(BUILD)/gen/routes.h

# ---- tests ----
$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libovmm.a
	$(call say,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(BUILD)/libovmm.a \
		$(PKG_LIBS) $(TEST_LIBS)
$(APITEST): tests/harness/apitest.c
	$(call say,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(PKG_LIBS) $(TEST_LIBS)
$(JOBLOAD): tests/harness/jobload.c
	$(call say,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(PKG_LIBS) $(TEST_LIBS)
# The HTTP server import tests download from (tests/api/run.sh).
$(FIXTURED): tests/harness/fixtured.c
	$(call say,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(PKG_LIBS)

# ---- benchmarks (bench/README.md) ----
$(BENCH_JOBS): bench/jobs.c
	$(call say,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(PKG_LIBS) $(TEST_LIBS)
$(BENCH_MONITOR): bench/monitor.c $(BUILD)/libovmm.a
	$(call say,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libovmm.a $(PKG_LIBS)

deps:
	$(Q)scripts/install-deps.sh build
deps-test:
	$(Q)scripts/install-deps.sh test

# `run`: install, build, start in the foreground on ./var with defaults.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)exec $(BUILD)/ovmmd --foreground --data-dir ./var --simulate 3

check: deps-test
	$(Q)$(MAKE) --no-print-directory test

test: all $(UNIT_BINS) $(APITEST) $(JOBLOAD) $(FIXTURED)
	$(Q)BUILD=$(BUILD) tests/run.sh

# `bench`: measure against the raw building blocks (bench/README.md).
bench: all $(BENCH_JOBS) $(BENCH_MONITOR)
	$(Q)$(BENCH_JOBS) --ovmmd $(BUILD)/ovmmd $(BENCH_ARGS)
	$(Q)$(BENCH_MONITOR) $(BENCH_MONITOR_ARGS)

lint: $(BUILD)/tools/genroutes
	$(Q)BUILD=$(BUILD) scripts/lint.sh

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: docs
docs: $(BUILD)/tools/genroutes
	$(Q)$(BUILD)/tools/genroutes md schema/api/routes.json > docs/API-routes.md
