#!/bin/sh
# SPDX-License-Identifier: MIT
#
# t-install (make check-install): TAP (version 13) test of make install and make uninstall, as a
# user meets them. For fresh prefixes, and a staged multiarch install (DESTDIR, LIBDIR):
#  - the files land where PREFIX, LIBDIR, INCDIR say, with the soname's links, and the generated
#    ksync.pc and CMake package name those paths (never the build tree, a staging root or
#    another prefix);
#  - a C and a C++ program build with `cc app.c $(pkg-config --cflags --libs ksync)` and run
#    against the installed shared library (NEEDED libksync.so.<major>);
#  - a CMake project finds the package (find_package(ksync 0.1)) and links ksync::ksync and
#    ksync::ksync_static; a request for a newer version is refused;
#  - ksync-run is installed into BINDIR and runs programs with the interposer of the same
#    install (LIBDIR/libksync-preload.so), also when LIBDIR is not PREFIX/lib;
#  - the man pages of man/, if that folder exists, are installed and found by man -M, under
#    each name their NAME section lists;
#  - make uninstall leaves nothing behind, also after installing twice;
#  - a relative PREFIX (with a trailing slash) is installed and described by its absolute path.
# MAKE and O come from the Makefile (the library must be built).

make=${MAKE:-make}
O=${O:-build}
n=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log

echo "TAP version 13"

result() {	# result STATUS NAME: STATUS 0 passes; otherwise the log is shown
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		sed 's/^/# /' "$log"
	fi
}

check() {	# check NAME COMMAND...: the command succeeds (its output goes to the log)
	name=$1
	shift
	"$@" > "$log" 2>&1
	result $? "$name"
}

# nothing_left DIR: no file, link or directory under DIR (DIR itself may be gone)
nothing_left() {
	[ ! -e "$1" ] || [ -z "$(find "$1" -mindepth 1 | tee "$log")" ]
}

install_ksync() {
	"$make" -s --no-print-directory O="$O" install "$@"
}

uninstall_ksync() {
	"$make" -s --no-print-directory O="$O" uninstall "$@"
}

cat > "$tmp/app.c" <<'EOF'
#include <ksync.h>
#include <stdio.h>

static struct ks_mutex lock = KS_MUTEX_INIT;
static struct ks_event done = KS_EVENT_INIT;

static void *worker(void *arg)
{
	ks_mutex_lock(&lock);
	++*(int *)arg;
	ks_mutex_unlock(&lock);
	ks_event_set(&done);
	return NULL;
}

int main(void)
{
	struct ks_thread t;
	int n = 0;

	if (ks_thread_start(&t, worker, &n) || ks_event_wait_timeout(&done, KS_NSEC_PER_SEC * 10) ||
	    ks_thread_join(&t, NULL) || n != 1)
		return 1;
	printf("ksync %s\n", KSYNC_VERSION_STRING);
	return 0;
}
EOF
cp "$tmp/app.c" "$tmp/app.cc"
version=$(sed -n 's/^Version: //p' "$O/ksync-uninstalled.pc")

# ---- a fresh prefix: pkg-config, C and C++, CMake, man pages, uninstall -------------------------
P=$tmp/prefix
check "make install PREFIX=P" install_ksync PREFIX="$P"
check "the library, its soname link and its development link" \
	test -f "$P/lib/libksync.so.$version" -a -L "$P/lib/libksync.so.${version%%.*}" \
	     -a -L "$P/lib/libksync.so" -a -f "$P/lib/libksync.a"
check "the headers, the LICENSE" test -f "$P/include/ksync.h" -a -f "$P/include/ksync/mutex.h" \
	-a -f "$P/share/doc/ksync/LICENSE"
check "ksync.pc names P" grep -qx "prefix=$P" "$P/lib/pkgconfig/ksync.pc"

pc() {
	PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config "$@" ksync
}
check "cc app.c \$(pkg-config --cflags --libs ksync)" \
	sh -c 'cc -o "$1/app" "$1/app.c" $2' - "$tmp" "$(pc --cflags --libs)"
check "... and it runs against P's libksync.so" \
	sh -c 'LD_LIBRARY_PATH="$1" "$2/app" | grep -qx "ksync $3"' - "$P/lib" "$tmp" "$version"
check "... which it needs by its soname" \
	sh -c 'readelf -d "$1/app" | grep -q "NEEDED.*\[libksync\.so\.$2\]"' - \
	"$tmp" "${version%%.*}"
check "c++ app.cc \$(pkg-config --cflags --libs ksync), and it runs" \
	sh -c 'c++ -std=c++17 -o "$1/appxx" "$1/app.cc" $2 && LD_LIBRARY_PATH="$3" "$1/appxx"' \
	- "$tmp" "$(pc --cflags --libs)" "$P/lib"

# ksync_run_uses KSYNC_RUN LIB: KSYNC_RUN runs a program with LIB first in LD_PRELOAD, and that
# program's pthread calls reach ksync (the interposer's ksync_preload_mode() says 1).
ksync_run_uses() {
	[ "$("$1" sh -c 'echo "${LD_PRELOAD%%:*}"')" = "$2" ] &&
		[ "$("$1" "$tmp/pthread-app")" = "mode 1" ]
}

cat > "$tmp/pthread-app.c" <<'EOF'
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

int main(void)
{
	int (*mode)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "ksync_preload_mode");
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

	if (pthread_mutex_lock(&m) || pthread_mutex_unlock(&m))
		return 1;
	printf("mode %d\n", mode ? mode() : 0);
	return 0;
}
EOF
cc -o "$tmp/pthread-app" "$tmp/pthread-app.c" -pthread -ldl
check "ksync-run in P/bin, libksync-preload.so in P/lib" \
	test -x "$P/bin/ksync-run" -a -f "$P/lib/libksync-preload.so"
check "P/bin/ksync-run runs a program on P/lib/libksync-preload.so" \
	ksync_run_uses "$P/bin/ksync-run" "$P/lib/libksync-preload.so"

if command -v cmake > /dev/null; then
	mkdir -p "$tmp/cmake"
	cat > "$tmp/cmake/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.13)
project(app C CXX)
find_package(ksync ${version%.*} REQUIRED)
add_executable(app "$tmp/app.c")
target_link_libraries(app PRIVATE ksync::ksync)
add_executable(app_static "$tmp/app.cc")
target_link_libraries(app_static PRIVATE ksync::ksync_static)
EOF
	check "cmake: find_package(ksync ${version%.*}) with CMAKE_PREFIX_PATH=P" \
		cmake -S "$tmp/cmake" -B "$tmp/cmake/build" -DCMAKE_PREFIX_PATH="$P"
	check "cmake: ksync::ksync and ksync::ksync_static build" \
		cmake --build "$tmp/cmake/build"
	check "cmake: both programs run" \
		sh -c '"$1/app" && "$1/app_static" &&
		       ! readelf -d "$1/app_static" | grep -q ksync' \
		- "$tmp/cmake/build"
	sed "s/find_package(ksync [^ ]* REQUIRED)/find_package(ksync 99.0 REQUIRED)/" \
		"$tmp/cmake/CMakeLists.txt" > "$tmp/cmake/newer.txt"
	mkdir -p "$tmp/cmake-newer"
	cp "$tmp/cmake/newer.txt" "$tmp/cmake-newer/CMakeLists.txt"
	check "cmake: find_package(ksync 99.0) is refused" \
		sh -c '! cmake -S "$1" -B "$1/build" -DCMAKE_PREFIX_PATH="$2"' - \
		"$tmp/cmake-newer" "$P"
else
	echo "# cmake is not installed: the CMake package is not tried"
fi

pages=$(ls man/*.[1-9] 2> /dev/null)
if [ -n "$pages" ]; then
	missing=
	for page in $pages; do
		[ -f "$P/share/man/man${page##*.}/${page##*/}" ] || missing="$missing $page"
	done
	echo "missing:$missing" > "$log"
	result "$([ -z "$missing" ]; echo $?)" "every page of man/ is installed"
	if command -v man > /dev/null; then
		check "man -M P/share/man ks_cond_wait shows ks_cond(3), by its link" \
			sh -c 'MANPAGER=cat man -M "$1" 3 ks_cond_wait 2> /dev/null |
			       grep -q "ks_cond_broadcast"' - "$P/share/man"
		check "man -M P/share/man ksync-run shows ksync-run(1)" \
			sh -c 'MANPAGER=cat man -M "$1" 1 ksync-run 2> /dev/null |
			       grep -q "passthrough"' - "$P/share/man"
	fi
fi

install_ksync PREFIX="$P" > "$log" 2>&1
check "make uninstall PREFIX=P, after installing twice" uninstall_ksync PREFIX="$P"
check "... leaves nothing behind" nothing_left "$P"

# ---- LIBDIR elsewhere than PREFIX/lib: the installed ksync-run still finds its interposer ----
L=$tmp/lib64prefix
check "make install PREFIX=L LIBDIR=L/lib64" install_ksync PREFIX="$L" LIBDIR="$L/lib64"
check "L/bin/ksync-run runs a program on L/lib64/libksync-preload.so" \
	ksync_run_uses "$L/bin/ksync-run" "$L/lib64/libksync-preload.so"
check "make uninstall PREFIX=L LIBDIR=L/lib64 leaves nothing behind" \
	sh -c '"$1" -s --no-print-directory O="$2" uninstall PREFIX="$3" LIBDIR="$3/lib64" &&
	       [ ! -e "$3" ]' - "$make" "$O" "$L"

# ---- a prefix given relative to the tree, with a trailing slash --------------------------------
R=$tmp/relative
rel=$(realpath --relative-to=. "$R")/
check "make install PREFIX=$rel" install_ksync PREFIX="$rel"
check "ksync.pc names the prefix by its absolute path" \
	grep -qx "prefix=$R" "$R/lib/pkgconfig/ksync.pc"
check "make uninstall PREFIX=$rel leaves nothing behind" \
	sh -c '"$1" -s --no-print-directory O="$2" uninstall PREFIX="$3" && [ ! -e "$4" ]' - \
	"$make" "$O" "$rel" "$R"

# ---- a staged multiarch install: DESTDIR, LIBDIR ------------------------------------------------
S=$tmp/stage
arch=$(cc -print-multiarch 2> /dev/null)
lib=/usr/lib/${arch:-multiarch}
check "make install DESTDIR=S PREFIX=/usr LIBDIR=$lib" \
	install_ksync DESTDIR="$S" PREFIX=/usr LIBDIR="$lib"
check "the library in S$lib, the headers in S/usr/include" \
	test -f "$S$lib/libksync.so.$version" -a -f "$S/usr/include/ksync.h"
check "S/usr/bin/ksync-run, built to look in $lib, and S$lib/libksync-preload.so" \
	sh -c 'grep -aq "$2" "$1/usr/bin/ksync-run" && test -f "$1$2/libksync-preload.so"' - \
	"$S" "$lib"
check "ksync.pc: libdir=\${prefix}${lib#/usr}, and no generated file names S" \
	sh -c 'grep -qx "libdir=\${prefix}$2" "$1$3/pkgconfig/ksync.pc" &&
	       ! grep -rq "$1" "$1$3/pkgconfig" "$1$3/cmake"' - "$S" "${lib#/usr}" "$lib"
check "cc app.c \$(pkg-config) with PKG_CONFIG_SYSROOT_DIR=S, and it runs" \
	sh -c 'cc -o "$1/app-staged" "$1/app.c" $2 && LD_LIBRARY_PATH="$3" "$1/app-staged"' - \
	"$tmp" "$(PKG_CONFIG_SYSROOT_DIR="$S" PKG_CONFIG_PATH="$S$lib/pkgconfig" \
		  pkg-config --cflags --libs ksync)" "$S$lib"
check "make uninstall DESTDIR=S ..." uninstall_ksync DESTDIR="$S" PREFIX=/usr LIBDIR="$lib"
check "... leaves nothing behind" nothing_left "$S"

echo "1..$n"
[ "$failed" = 0 ]
