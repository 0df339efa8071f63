# libFuzzer harnesses (fuzz/fuzz_*.c), built with clang under ASan and
# UBSan.  Included from the main Makefile (after its own rules), or run
# alone with `make -f fuzz/fuzz.mk fuzz`.
#
#   make fuzz              build every harness in $(FUZZ_BUILD)/
#   make fuzz-smoke        run each harness for FUZZ_SECONDS (20) on its
#                          seed corpus in fuzz/corpus/<name>/
#   make fuzz-run FUZZER=jwt FUZZ_SECONDS=600
#                          one harness, longer

FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZERS      := query form request json_body route jwt envfile

FUZZ_PKGS    := libmicrohttpd jansson openssl sqlite3 libutf8proc libpq
FUZZ_SAN     := address,undefined
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
                -Wall -Wextra -Wshadow -Wstrict-prototypes \
                -Wmissing-prototypes -Werror -Isrc \
                -fno-sanitize-recover=undefined \
                $(shell pkg-config --cflags $(FUZZ_PKGS) 2>/dev/null)
FUZZ_LDLIBS  := $(shell pkg-config --libs $(FUZZ_PKGS) 2>/dev/null) -lpthread

FUZZ_SRC     := $(wildcard src/*/*.c)
FUZZ_OBJ     := $(FUZZ_SRC:src/%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS    := $(FUZZERS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-smoke fuzz-run fuzz-clean

fuzz: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
	    -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/obj/api/assets.o: docs/openapi.json \
    $(wildcard third_party/swagger-ui/*)

$(FUZZ_BUILD)/libthoughts.a: $(FUZZ_OBJ)
	$(AR) rcs $@ $^

# Harnesses that include src/http/server.c define its symbols themselves;
# the archive's copy is then never pulled in.
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_BUILD)/libthoughts.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -MMD -MP \
	    -o $@ $< $(FUZZ_BUILD)/libthoughts.a $(FUZZ_LDLIBS)

fuzz-smoke: fuzz
	scripts/fuzz-smoke $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZERS)

fuzz-run: fuzz
	scripts/fuzz-smoke $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZER)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BINS:=.d)
