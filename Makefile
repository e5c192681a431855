# SPDX-License-Identifier: MIT
#
# ksync's Makefile, in the Kbuild manner: quiet "  CC      src/mutex.o" lines (V=1 shows the
# full commands, make -s nothing), outputs under O= (default build/), and for each folder a
# Kbuild fragment that only lists what the folder builds. Every rule lives here, once.
#
#   make                  the library: $(O)/libksync.a, $(O)/libksync.so.$(VERSION) and its links
#   make check            build and run every TAP test under prove
#   make SANITIZE=thread check        (or address,undefined) into build/san-<name>/
#   make install PREFIX=/usr/local    (DESTDIR, LIBDIR, INCDIR, … honoured); make uninstall
#   make deps             install the Debian packages the project needs
#   make help             every target and variable
#
# What a Kbuild fragment may set. Paths are relative to the fragment's folder, outputs go to
# $(O)/<folder>/, and each list is emptied before the next fragment is read:
#
#   obj-y            objects of libksync (src/Kbuild only)
#   progs-y          programs: <name>-objs (default <name>.o), linked with the library
#   tools-y          programs for users, into $(O)/tools/ (make tools builds them)
#   tests-y          TAP programs that make check runs
#   custom-tests-y   TAP programs the fragment builds by a rule of its own
#   install-files    files built by a rule of the fragment's own that make install needs (full
#                    paths; never emptied: scripts/install.sh says where each one goes)
#   ccflags-y        flags for every object of the folder
#
# An entry of progs-y, tools-y or tests-y that ends in .sh is a script: it is copied without
# the suffix and made executable. For a program <name>: <name>-objs, <name>-ldlibs (libraries
# after libksync), <name>-deps (what must be built first: full paths). For an object <obj>:
# CFLAGS_<obj> (added), CFLAGS_REMOVE_<obj> (patterns removed from the others), SRC_<obj>
# (the source, when it is not <obj>.c or <obj>.cc), CC_<obj> (another compiler). A source
# ending in .cc is C++ (KS_CXXFLAGS; the program is then linked by $(CXX)).

# ---- configuration ------------------------------------------------------------------------------
# One version, in include/ksync/version.h; the soname's number is its major.
version-part = $(shell sed -n 's/^\#define KSYNC_VERSION_$(1)[[:space:]]*\([0-9]*\).*/\1/p' \
		 include/ksync/version.h)
VERSION   := $(call version-part,MAJOR).$(call version-part,MINOR).$(call version-part,PATCH)
SOVERSION := $(call version-part,MAJOR)

PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCDIR       ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR     ?= $(LIBDIR)/cmake/ksync
MANDIR       ?= $(PREFIX)/share/man
DOCDIR       ?= $(PREFIX)/share/doc/ksync
DESTDIR      ?=

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

# Quiet lines unless V=1; nothing at all under make -s (GNU make puts s in the first word).
ifeq ($(V),1)
Q    :=
say  := @:
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q    := @
say  := @:
silent := 1
else
Q    := @
say  := @printf '  %-7s %s\n'
endif

# Debian packages: the compilers, prove, the peers and tools around the library, and what the
# install and ABI checks use (pkg-config, cmake, abidiff).
DEB_PACKAGES := gcc g++ clang make perl python3 pkg-config cmake abigail-tools \
                libbenchmark-dev liburcu-dev libck-dev libcurl4-openssl-dev gnuplot-nox \
                libabsl-dev libtbb-dev

.DEFAULT_GOAL := all

LIB_A       := $(O)/libksync.a
LIB_SO_REAL := $(O)/libksync.so.$(VERSION)
LIB_SONAME  := libksync.so.$(SOVERSION)
LIB_SO      := $(O)/libksync.so
LIB_PC      := $(O)/ksync-uninstalled.pc
HEADERS     := include/ksync.h $(sort $(wildcard include/ksync/*.h))

# Compilers the header tests (tests/Kbuild) try besides CC and CXX, when installed; not in
# sanitizer builds, whose runtime is the one of the compiler that built the library.
CLANG   := $(if $(SANITIZE),,$(shell command -v clang 2>/dev/null))
CLANGXX := $(if $(SANITIZE),,$(shell command -v clang++ 2>/dev/null))

# ---- the Kbuild fragments -----------------------------------------------------------------------
# Every folder listed must have its Kbuild: a missing one is an error, not a silent skip.
KBUILD_DIRS := src tests tools tools/fetch bench preload man

kb-lists     := obj-y progs-y tools-y tests-y custom-tests-y ccflags-y
kb-prog-vars := objs ldlibs deps
kb-obj-vars  := CFLAGS_ CFLAGS_REMOVE_ SRC_ CC_

kb-progs = $(progs-y) $(tools-y) $(tests-y)
kb-objs  = $(sort $(obj-y) $(foreach p,$(filter-out %.sh,$(kb-progs)),$(or $($(p)-objs),$(p).o)))

# After a fragment: file its lists and settings under "<folder>@" (with <folder>@objs, all its
# objects, and each program's -objs defaulted), and clear them for the next fragment. A setting
# left over names no program or object of the folder (a typo): that is an error.
define kb-collect
$(eval $(1)@objs := $(kb-objs))
$(foreach p,$(filter-out %.sh,$(kb-progs)),$(eval $(p)-objs := $(or $($(p)-objs),$(p).o)))
$(foreach o,$(kb-objs),$(foreach v,$(kb-obj-vars),\
	$(eval $(1)@$(v)$(o) := $$($(v)$(o)))$(eval undefine $(v)$(o))))
$(foreach p,$(kb-progs:.sh=),$(foreach v,$(kb-prog-vars),\
	$(eval $(1)@$(p)-$(v) := $$($(p)-$(v)))$(eval undefine $(p)-$(v))))
$(foreach v,$(kb-lists),$(eval $(1)@$(v) := $$($(v)))$(eval $(v) :=))
$(if $(strip $(kb-leftovers)),$(error $(1)/Kbuild: $(strip $(kb-leftovers)): no such program \
	or object here))
endef

kb-leftovers = $(foreach v,$(filter-out kb-%,$(filter $(addprefix %-,$(kb-prog-vars)) \
	$(addsuffix %,$(kb-obj-vars)),$(.VARIABLES))),$(if $(findstring @,$(v)),,$(if \
	$(filter file,$(origin $(v))),$(v))))

define kb-include
include $(1)/Kbuild
$$(call kb-collect,$(1))
endef

$(foreach v,$(kb-lists),$(eval $(v) :=))
$(foreach d,$(KBUILD_DIRS),$(eval $(call kb-include,$(d))))

# ---- the rules, once ----------------------------------------------------------------------------
# The source of object $(2) of folder $(1), and whether it is C++.
kb-src = $(if $($(1)@SRC_$(2)),$(1)/$($(1)@SRC_$(2)),$(or \
	 $(wildcard $(1)/$(2:.o=.cc)),$(1)/$(2:.o=.c)))
kb-cxx = $(filter %.cc,$(call kb-src,$(1),$(2)))

# An object: compiled from its source by its compiler (C or C++), with the language's flags and
# the folder's ccflags-y (less CFLAGS_REMOVE_<obj>), then its own CFLAGS_<obj>.
define kb-object
kb-t := $(O)/$(1)/$(2)
kb-all-objs += $$(kb-t)
$$(kb-t): $(call kb-src,$(1),$(2))
$$(kb-t): private kb-say := $(if $(call kb-cxx,$(1),$(2)),CXX,CC)
$$(kb-t): private kb-cc := $(or $($(1)@CC_$(2)),$(if $(call kb-cxx,$(1),$(2)),$(CXX),$(CC)))
$$(kb-t): private kb-flags := $(filter-out $($(1)@CFLAGS_REMOVE_$(2)),$(if \
	$(call kb-cxx,$(1),$(2)),$(KS_CXXFLAGS),$(KS_CFLAGS)) $($(1)@ccflags-y)) $($(1)@CFLAGS_$(2))
endef

# Where program $(2) of list $(3) of folder $(1) goes: tools-y into $(O)/tools/, the rest into
# the folder's output; a script loses its .sh.
kb-out = $(if $(filter tools-y,$(3)),$(O)/tools/$(notdir $(2:.sh=)),$(O)/$(1)/$(2:.sh=))

# A program: its objects and the library, linked by $(CXX) if one object is C++.
define kb-program
kb-t := $(call kb-out,$(1),$(2),$(3))
kb-all-progs += $$(kb-t)
kb-$(3) += $$(kb-t)
$$(kb-t): $(addprefix $(O)/$(1)/,$($(1)@$(2)-objs)) $(LIB_A) $($(1)@$(2)-deps)
$$(kb-t): private kb-objs := $(addprefix $(O)/$(1)/,$($(1)@$(2)-objs))
$$(kb-t): private kb-ld := $(if $(strip $(foreach o,$($(1)@$(2)-objs),$(call \
	kb-cxx,$(1),$(o)))),$(CXX),$(CC))
$$(kb-t): private kb-ldlibs := $($(1)@$(2)-ldlibs)
endef

# A script: copied, executable (the rule is below).
define kb-script
kb-t := $(call kb-out,$(1),$(2),$(3))
kb-all-scripts += $$(kb-t)
kb-$(3) += $$(kb-t)
$$(kb-t): $(1)/$(2) $($(1)@$(2:.sh=)-deps)
endef

kb-all-objs    :=
kb-all-progs   :=
kb-all-scripts :=
kb-progs-y     :=
kb-tools-y     :=
kb-tests-y     :=
$(foreach d,$(KBUILD_DIRS),\
	$(foreach o,$($(d)@objs),$(eval $(call kb-object,$(d),$(o))))\
	$(foreach l,progs-y tools-y tests-y,$(foreach p,$($(d)@$(l)),\
		$(eval $(call $(if $(filter %.sh,$(p)),kb-script,kb-program),$(d),$(p),$(l))))))

$(kb-all-objs):
	@mkdir -p $(@D)
	$(say) $(kb-say) $@
	$(Q)$(kb-cc) $(kb-flags) -c -o $@ $<

$(kb-all-progs):
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(kb-ld) -o $@ $(kb-objs) $(LIB_A) $(kb-ldlibs) $(KS_LDFLAGS)

$(kb-all-scripts):
	@mkdir -p $(@D)
	$(say) GEN $@
	$(Q)install -m 755 $< $@

TOOLS := $(kb-tools-y)
TESTS := $(kb-tests-y) $(foreach d,$(KBUILD_DIRS),$(addprefix $(O)/$(d)/,$($(d)@custom-tests-y)))

# ---- the library --------------------------------------------------------------------------------
LIB_OBJS := $(addprefix $(O)/src/,$(src@obj-y))

all: $(LIB_A) $(LIB_SO) $(O)/$(LIB_SONAME) $(LIB_PC)

$(LIB_A): $(LIB_OBJS)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO_REAL): $(LIB_OBJS)
	$(say) LD $@
	$(Q)$(CC) -shared -Wl,-soname,$(LIB_SONAME) -o $@ $^ $(KS_LDFLAGS)

# The links a program finds the library by: the soname at run time, libksync.so at link time.
$(O)/$(LIB_SONAME): $(LIB_SO_REAL)
	$(Q)ln -sf $(notdir $<) $@
$(LIB_SO): $(O)/$(LIB_SONAME)
	$(Q)ln -sf $(notdir $<) $@

# pkg-config for the build tree, used without installing (PKG_CONFIG_PATH=$(O) finds it first).
$(LIB_PC): ksync.pc.in Makefile include/ksync/version.h
	$(say) GEN $@
	$(Q)sed -e 's|@prefix@|$(CURDIR)|' -e 's|@libdir@|$(abspath $(O))|' \
		-e 's|@includedir@|$(CURDIR)/include|' -e 's|@VERSION@|$(VERSION)|' $< > $@

tests: $(TESTS)
tools: $(TOOLS)

# KS_STRESS_MS bounds each stress phase by wall-clock time (default in tests/tap.h).
check: deps all tests
	$(say) PROVE $(O)
	$(Q)prove --exec '' $(if $(V),-v) $(TESTS)

# ---- install, uninstall, and their check ------------------------------------------------------
# scripts/install.sh generates ksync.pc and the CMake package from PREFIX, LIBDIR and INCDIR at
# install time, and records what it installed so that uninstall removes exactly that.
INSTALL_VARS = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' BINDIR='$(BINDIR)' LIBDIR='$(LIBDIR)' \
	       INCDIR='$(INCDIR)' PKGCONFIGDIR='$(PKGCONFIGDIR)' CMAKEDIR='$(CMAKEDIR)' \
	       MANDIR='$(MANDIR)' DOCDIR='$(DOCDIR)' VERSION='$(VERSION)' \
	       SOVERSION='$(SOVERSION)' O='$(O)' SILENT='$(silent)'

# install-files: what a Kbuild fragment builds for install.sh besides the library (full paths).
install: all $(install-files)
	$(Q)$(INSTALL_VARS) sh scripts/install.sh install

uninstall:
	$(Q)$(INSTALL_VARS) sh scripts/install.sh uninstall

# Install into fresh prefixes, build and run programs against them with pkg-config and CMake,
# uninstall, and check that nothing is left (scripts/t-install.sh).
check-install: deps all
	$(say) TEST install
	$(Q)MAKE='$(MAKE)' O='$(O)' prove --exec '' $(if $(V),-v) scripts/t-install.sh

# ---- the ABI: libksync.so against the committed baseline -------------------------------------
# abi/libksync.abi describes every exported function and variable and every type they reach
# (the structs the inline fast paths build into applications). check-abi fails on any change;
# a deliberate one updates the baseline with make abi-update, in the same commit (docs/abi.md).
ABI_BASELINE := abi/libksync.abi
ABIDW_FLAGS  := --no-show-locs --no-comp-dir-path --no-corpus-path \
		--headers-dir include --drop-private-types

abi-plain = $(if $(SANITIZE)$(KS_INJECT),$(error the ABI baseline is the plain build's: no \
	    SANITIZE=, no KS_INJECT=))

check-abi: deps $(LIB_SO_REAL)
	$(abi-plain)
	$(say) ABIDIFF $(LIB_SO_REAL)
	$(Q)abidw $(ABIDW_FLAGS) --out-file $(O)/libksync.abi $(LIB_SO_REAL)
	$(Q)abidiff --no-show-locs $(ABI_BASELINE) $(O)/libksync.abi || { \
		echo "check-abi: libksync's ABI differs from $(ABI_BASELINE) (above)."; \
		echo "If the change is deliberate: make abi-update, and say so in the commit."; \
		exit 1; }

abi-update: $(LIB_SO_REAL)
	$(abi-plain)
	$(say) ABIDW $(ABI_BASELINE)
	$(Q)abidw $(ABIDW_FLAGS) --out-file $(ABI_BASELINE) $(LIB_SO_REAL)

# ---- deps, clean, help --------------------------------------------------------------------------
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

# make clean removes build/ (every flavour); with O=dir, only dir.
clean:
	rm -rf $(if $(filter command line environment,$(origin O)),$(O),build)

help:
	@echo 'Targets:'
	@echo '  all (default)  the library: $(O)/libksync.a, $(O)/libksync.so.$(VERSION) and'
	@echo '                 its links $(LIB_SONAME) (the soname) and libksync.so;'
	@echo '                 $(O)/ksync-uninstalled.pc (pkg-config without installing)'
	@echo '  check          build and run every TAP test with prove'
	@echo '  tests          build the tests only'
	@echo '  tools          ksync-fetch, ksync-imgserver, ksync-matrix, ksync-tour, into'
	@echo '                 $(O)/tools/'
	@echo '  fetch          ksync-fetch and ksync-imgserver only'
	@echo '  demo           the seed tour, the workloads and a short contention table'
	@echo '  torture        ksync-torture for DURATION (default 10m; make check runs 10s of it),'
	@echo '                 TORTURE_FLAGS= for its options (docs/torture.md)'
	@echo '  bench          the full benchmark suite (FILTER=regex); bench-quick: one minute;'
	@echo '                 bench-build: the benchmark program only'
	@echo '  install        headers, libraries, ksync.pc, the CMake package, man pages, LICENSE,'
	@echo '                 ksync-run and its interposer libksync-preload.so'
	@echo '  uninstall      removes what install installed (same variables)'
	@echo '  check-install  install into temporary prefixes, build against them, uninstall'
	@echo '  check-abi      compare the ABI of libksync.so with $(ABI_BASELINE) (abidiff)'
	@echo '  abi-update     write the current ABI to $(ABI_BASELINE) (a deliberate change)'
	@echo '  deps           install the Debian packages ksync needs (root), or print the line'
	@echo '  clean          remove build/ (with O=dir: dir only)'
	@echo '  help           this text'
	@echo 'Variables:'
	@echo '  PREFIX=$(PREFIX)  BINDIR=$(BINDIR)  LIBDIR=$(LIBDIR)  INCDIR=$(INCDIR)'
	@echo '  PKGCONFIGDIR=$(PKGCONFIGDIR)  CMAKEDIR=$(CMAKEDIR)'
	@echo '  MANDIR=$(MANDIR)  DOCDIR=$(DOCDIR)  DESTDIR= (a staging root)'
	@echo '  V=1 (full commands), O=dir (outputs; now $(O)), SANITIZE=thread|address,undefined'
	@echo '  (into build/san-<name>), KS_INJECT=1 (race-widening delays at the windows marked'
	@echo '  in src/, into build/inject; KS_INJECT_RATE, KS_INJECT_US tune them at run time),'
	@echo '  KS_STRESS_MS=n (wall-clock length of each stress phase), WERROR= (no -Werror),'
	@echo '  CC, CXX, OPT, CFLAGS, CXXFLAGS, CPPFLAGS, LDFLAGS'

FORCE:

.PHONY: FORCE all tests tools check install uninstall check-install check-abi abi-update deps clean help

-include $(shell find $(O) -name '*.d' 2>/dev/null)
