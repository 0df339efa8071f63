# Thoughts Backend in C.
#
#   make            build build/thoughts-backend (installs Debian packages
#                   first when any is missing)
#   make run        build and start the server on :8000 with SQLite
#   make test       build, then run the unit tests and the API tests on
#                   SQLite and on a throwaway PostgreSQL cluster, then the
#                   documentation checks (OpenAPI lint, headless Chromium)
#   make SANITIZE=address,undefined test
#                   the same in build-sanitize/ with ASan and UBSan
#   make WERROR=1   treat warnings as errors (CI does)
#   make format-check   compare the C sources with .clang-format
#   make fuzz-smoke     build the libFuzzer harnesses and run each briefly
#   make container-check  build the images and run the compose stack
#                   (Podman; see README "Containers")

CC      ?= cc
SANITIZE ?=
WERROR  ?=

# BUILD picks the build directory (parallel builds each take their own).
ifeq ($(SANITIZE),)
BUILD   ?= build
else
BUILD   ?= build-sanitize
endif

PKGS    := libmicrohttpd jansson openssl sqlite3 libutf8proc libpq
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Isrc \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
ifneq ($(WERROR),)
CFLAGS  += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=$(SANITIZE)
endif

SRC     := $(wildcard src/*/*.c)
OBJ     := $(SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/*/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)

BIN     := $(BUILD)/thoughts-backend

.PHONY: all deps test-deps run test unit api api-sqlite api-postgresql docs-test format \
        format-check container-check bench bench-short clean

all: deps $(BIN)

deps:
	@./scripts/install-deps build

test-deps:
	@./scripts/install-deps test

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# Files that src/api/assets.c builds into the binary.
$(BUILD)/obj/api/assets.o: docs/openapi.json $(wildcard third_party/swagger-ui/*)

$(BUILD)/libthoughts.a: $(OBJ)
	$(AR) rcs $@ $^

$(BIN): src/main.c $(BUILD)/libthoughts.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libthoughts.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $^ $(LDLIBS) -lcmocka

run: all
	$(BIN) serve

unit: test-deps $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

api: api-sqlite api-postgresql

api-sqlite: test-deps $(BIN)
	scripts/test-api $(abspath $(BIN)) sqlite

api-postgresql: test-deps $(BIN)
	scripts/test-api $(abspath $(BIN)) postgresql

# The OpenAPI validator and the browser test of Swagger UI (npm packages
# pinned in tests/docs/package-lock.json, Debian's Chromium).
docs-test: $(BIN)
	@./scripts/install-deps docs
	cd tests/docs && npm ci --no-audit --no-fund --loglevel=error
	cd tests/docs && npx redocly lint --config redocly.yaml \
	    ../../docs/openapi.json
	cd tests/docs && THOUGHTS_BIN=$(abspath $(BIN)) node --test

test: unit api docs-test

FORMAT_FILES := src/*.c src/*/*.c src/*/*.h tests/unit/*/*.c tests/unit/*.h \
                fuzz/*.c fuzz/*.h

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

# The benchmark suite (see README "Performance"); bench-short for a quick look.
bench:
	bench/run

bench-short:
	bench/run --short

# The container images and the compose stack, run for real with Podman.
container-check:
	scripts/container-check

clean:
	rm -rf build build-sanitize build-fuzz build-bench

-include $(OBJ:.o=.d)

# make fuzz, make fuzz-smoke, make fuzz-run FUZZER=NAME (after the rules
# above, so that the default goal stays `all`; optional, since the
# container build copies no fuzz/ folder).
-include fuzz/fuzz.mk
