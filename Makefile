# SPDX-License-Identifier: MIT
#
# ksync's Makefile, in the Kbuild manner: quiet "  CC      src/mutex.o" lines (V=1 shows the
# full commands), outputs under O= (default build/), one object list per folder (src/Kbuild),
# and each folder's extra targets in its own fragment (bench/Kbuild, tools/Kbuild).
#
#   make                  build/libksync.a, build/libksync.so, build/ksync.pc
#   make check            build and run every TAP test under prove
#   make SANITIZE=thread check        (or address,undefined) into build/san-<name>/
#   make install PREFIX=/usr/local
#   make deps             install the Debian packages the project needs
#   make help

VERSION   := 0.1.0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include

comma     := ,
SANITIZE  ?=
KS_INJECT ?=
ifeq ($(SANITIZE),)
O         ?= build$(if $(KS_INJECT),/inject)
else
O         ?= build/san-$(subst $(comma),-,$(SANITIZE))$(if $(KS_INJECT),-inject)
endif

CC        ?= cc
CXX       ?= c++
OPT       ?= -O2 -g
WERROR    ?= -Werror
KS_CFLAGS := -std=gnu11 -Wall -Wextra $(WERROR) -pthread -fPIC -D_GNU_SOURCE \
             -Iinclude -MMD -MP $(OPT)
KS_CXXFLAGS := -std=c++17 -Wall -Wextra $(WERROR) -pthread -Iinclude -MMD -MP $(OPT)
KS_LDFLAGS  := -pthread
ifneq ($(KS_INJECT),)
KS_CFLAGS   += -DKS_INJECT=1
endif
ifneq ($(SANITIZE),)
KS_CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
KS_CXXFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
KS_LDFLAGS  += -fsanitize=$(SANITIZE)
endif
KS_CFLAGS   += $(CFLAGS) $(CPPFLAGS)
KS_CXXFLAGS += $(CXXFLAGS) $(CPPFLAGS)
KS_LDFLAGS  += $(LDFLAGS)

ifeq ($(V),1)
Q    :=
say  := @:
else
Q    := @
say  := @printf '  %-7s %s\n'
endif

# Debian packages: the compilers, prove, and the peers and tools around the library.
DEB_PACKAGES := gcc g++ clang make perl python3 pkg-config libbenchmark-dev liburcu-dev libck-dev \
                libcurl4-openssl-dev gnuplot-nox

.DEFAULT_GOAL := all

# ---- the library ------------------------------------------------------------------------------
obj-y :=
include src/Kbuild
LIB_OBJS := $(addprefix $(O)/src/,$(obj-y))
LIB_A    := $(O)/libksync.a
LIB_SO   := $(O)/libksync.so
LIB_PC   := $(O)/ksync.pc
HEADERS  := include/ksync.h $(wildcard include/ksync/*.h)

all: $(LIB_A) $(LIB_SO) $(LIB_PC)

$(O)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(say) CC $@
	$(Q)$(CC) $(KS_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(say) LD $@
	$(Q)$(CC) -shared -Wl,-soname,libksync.so -o $@ $^ $(KS_LDFLAGS)

$(LIB_PC): Makefile
	@mkdir -p $(@D)
	$(say) GEN $@
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
		'Name: ksync' 'Description: Kernel-style synchronization primitives on futex(2)' \
		'Version: $(VERSION)' 'Cflags: -I$${includedir} -pthread' \
		'Libs: -L$${libdir} -lksync -pthread' > $@

# ---- tests: every tests/t-*.c is one TAP program ------------------------------------------------
TEST_SRCS := $(filter-out tests/t-strict-c.c,$(wildcard tests/t-*.c))
TEST_BINS := $(patsubst tests/%.c,$(O)/tests/%,$(TEST_SRCS))

$(O)/tests/%: tests/%.c tests/tap.h $(LIB_A)
	@mkdir -p $(@D)
	$(say) CC $@
	$(Q)$(CC) $(KS_CFLAGS) -Isrc -o $@ $< $(LIB_A) $(KS_LDFLAGS)

# The headers as users compile them (include/ksync/common.h says how they are written): strict C11
# (tests/t-strict-c.c) and C++17/20/23 (tests/t-cxx.cc), with gcc and g++, and with clang and
# clang++ when installed (not in sanitizer builds: the library's sanitizer runtime is gcc's).
CLANG      := $(if $(SANITIZE),,$(shell command -v clang 2>/dev/null))
CLANGXX    := $(if $(SANITIZE),,$(shell command -v clang++ 2>/dev/null))
USER_FLAGS := -Wall -Wextra -Wcast-qual -pedantic-errors $(WERROR) -pthread -Iinclude -MMD -MP \
              $(OPT) $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)
CXX_STDS   := 17 20 2b
HEADER_TESTS := $(O)/tests/t-strict-c-gcc $(addprefix $(O)/tests/t-cxx-g++-,$(CXX_STDS)) \
                $(if $(CLANG),$(O)/tests/t-strict-c-clang) \
                $(if $(CLANGXX),$(addprefix $(O)/tests/t-cxx-clang++-,$(CXX_STDS)))

$(O)/tests/t-strict-c-gcc: tests/t-strict-c.c tests/use-all.h $(LIB_A)
	@mkdir -p $(@D)
	$(say) CC $@
	$(Q)$(CC) -std=c11 $(USER_FLAGS) -o $@ $< $(LIB_A) $(KS_LDFLAGS)

$(O)/tests/t-strict-c-clang: tests/t-strict-c.c tests/use-all.h $(LIB_A)
	@mkdir -p $(@D)
	$(say) CC $@
	$(Q)$(CLANG) -std=c11 $(USER_FLAGS) -o $@ $< $(LIB_A) $(KS_LDFLAGS)

$(O)/tests/layout.o: tests/layout.c tests/layout.h
	@mkdir -p $(@D)
	$(say) CC $@
	$(Q)$(CC) -std=c11 $(USER_FLAGS) -c -o $@ $<

$(addprefix $(O)/tests/t-cxx-g++-,$(CXX_STDS)): $(O)/tests/t-cxx-g++-%: tests/t-cxx.cc tests/use-all.h tests/layout.h $(O)/tests/layout.o $(LIB_A)
	$(say) CXX $@
	$(Q)$(CXX) -std=c++$* $(USER_FLAGS) -DKSYNC_INCLUDE_DIR='"$(abspath include)"' -o $@ $< \
		$(O)/tests/layout.o $(LIB_A) $(KS_LDFLAGS)

$(addprefix $(O)/tests/t-cxx-clang++-,$(CXX_STDS)): $(O)/tests/t-cxx-clang++-%: tests/t-cxx.cc \
		tests/use-all.h tests/layout.h $(O)/tests/layout.o $(LIB_A)
	$(say) CXX $@
	$(Q)$(CLANGXX) -std=c++$* $(USER_FLAGS) -DKSYNC_INCLUDE_DIR='"$(abspath include)"' -o $@ $< \
		$(O)/tests/layout.o $(LIB_A) $(KS_LDFLAGS)

tests: $(TEST_BINS) $(HEADER_TESTS)

# ---- folder fragments: benchmarks, tools, demo ---------------------------------------------------
# A fragment may add test programs of its own to CHECK_EXTRA (built by its own rules).
CHECK_EXTRA :=
-include $(wildcard bench/Kbuild tools/Kbuild tools/*/Kbuild)

# KS_STRESS_MS bounds each stress phase by wall-clock time (default in tests/tap.h).
check: deps all tests $(CHECK_EXTRA)
	$(say) PROVE $(O)/tests
	$(Q)prove --exec '' $(if $(V),-v) $(TEST_BINS) $(HEADER_TESTS) $(CHECK_EXTRA)

# ---- install, deps, clean, help ------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(INCDIR)/ksync $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 include/ksync.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(wildcard include/ksync/*.h) $(DESTDIR)$(INCDIR)/ksync/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(LIB_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
			|| printf '%s ' $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "ksync needs these Debian packages; install them with:"; \
		echo "  sudo apt-get install -y $$missing"; exit 1; fi; \
	echo "  DEPS    $$missing"; \
	DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing

clean:
	rm -rf $(O) build

help:
	@echo 'Targets:'
	@echo '  all (default)  $(O)/libksync.a, $(O)/libksync.so, $(O)/ksync.pc'
	@echo '  check          build and run all TAP tests with prove'
	@echo '  demo           the seed tour, the workloads and a short contention table'
	@echo '  tools          ksync-fetch, ksync-imgserver, ksync-matrix, ksync-tour'
	@echo '  bench          the full benchmark suite (FILTER=regex); bench-quick: one minute'
	@echo '  install        PREFIX=$(PREFIX) (DESTDIR honoured)'
	@echo '  deps           install the Debian packages ksync needs (root), or print the line'
	@echo '  clean          remove build outputs'
	@echo 'Variables: V=1 (verbose), O=dir (outputs), SANITIZE=thread|address,undefined,'
	@echo '           KS_STRESS_MS=n (wall-clock length of each stress phase), WERROR= (no -Werror),'
	@echo '           KS_INJECT=1 (race-widening delays at the windows marked in src/, into'
	@echo '           $$(O)=build/inject; KS_INJECT_RATE, KS_INJECT_US tune them at run time)'

.PHONY: all tests check install deps clean help

-include $(shell find $(O) -name '*.d' 2>/dev/null)
