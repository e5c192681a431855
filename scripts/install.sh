#!/bin/sh
# SPDX-License-Identifier: MIT
#
# scripts/install.sh install|uninstall — what make install and make uninstall do (the Makefile
# passes DESTDIR, PREFIX, BINDIR, LIBDIR, INCDIR, PKGCONFIGDIR, CMAKEDIR, MANDIR, DOCDIR,
# VERSION, SOVERSION, O, the build folder, and SILENT, non-empty under make -s).
#
# install copies the headers, libksync.a, libksync.so.VERSION and its two links (the soname and
# the development link), the interposer libksync-preload.so into LIBDIR and ksync-run into
# BINDIR (the copy built for this LIBDIR, O/install/ksync-run), LICENSE, and the man pages of
# man/ with a link for every other name a page's NAME section lists (ks_mutex_lock(3) is
# ks_mutex(3)). It writes ksync.pc and the CMake package (ksyncConfig.cmake,
# ksyncConfigVersion.cmake) from the paths given now, so that they never describe another
# prefix. Everything goes under DESTDIR. It records each file it wrote and each directory it
# had to create in DOCDIR/manifest (merged with the record of earlier installs there);
# uninstall removes exactly those, directories only when empty. Without a record it removes
# what install would install.
set -eu

for v in PREFIX BINDIR LIBDIR INCDIR PKGCONFIGDIR CMAKEDIR MANDIR DOCDIR VERSION SOVERSION O; do
	eval "[ -n \"\${$v:-}\" ]" || { echo "install.sh: $v is not set" >&2; exit 2; }
done
DESTDIR=${DESTDIR:-}
SILENT=${SILENT:-}

# Installed paths are absolute and tidy (a relative PREFIX is taken from here; no trailing /,
# no ..), since ksync.pc and the CMake package name them. Symbolic links are kept as written.
for v in PREFIX BINDIR LIBDIR INCDIR PKGCONFIGDIR CMAKEDIR MANDIR DOCDIR; do
	eval "path=\$$v"
	path=$(realpath -ms -- "$path")
	eval "$v=\$path"
done

manifest=$DOCDIR/manifest
gen=$O/install

# "mode source destination" for everything install installs: 644/755 copy a file, link makes a
# symbolic link whose target is the source.
plan() {
	echo "644 include/ksync.h $INCDIR/ksync.h"
	for h in include/ksync/*.h; do
		echo "644 $h $INCDIR/ksync/${h##*/}"
	done
	echo "644 $O/libksync.a $LIBDIR/libksync.a"
	echo "755 $O/libksync.so.$VERSION $LIBDIR/libksync.so.$VERSION"
	echo "link libksync.so.$VERSION $LIBDIR/libksync.so.$SOVERSION"
	echo "link libksync.so.$SOVERSION $LIBDIR/libksync.so"
	echo "755 $O/preload/libksync-preload.so $LIBDIR/libksync-preload.so"
	echo "755 $O/install/ksync-run $BINDIR/ksync-run"
	echo "644 $gen/ksync.pc $PKGCONFIGDIR/ksync.pc"
	echo "644 $gen/ksyncConfig.cmake $CMAKEDIR/ksyncConfig.cmake"
	echo "644 $gen/ksyncConfigVersion.cmake $CMAKEDIR/ksyncConfigVersion.cmake"
	echo "644 LICENSE $DOCDIR/LICENSE"
	for page in man/*.[1-9]; do
		[ -f "$page" ] || continue
		echo "644 $page $MANDIR/man${page##*.}/${page##*/}"
		man_links "$page"
	done
}

# A link to the page from every other name its NAME section lists (its .Nm lines before the
# SYNOPSIS), in the same section: "man ks_mutex_lock" shows ks_mutex(3).
man_links() {
	section=${1##*.}
	page=${1##*/}
	sed -n '/^\.Sh SYNOPSIS/q; s/^\.Nm \([A-Za-z0-9_-]*\).*/\1/p' "$1" | while read -r name; do
		[ "$name.$section" = "$page" ] || echo "link $page $MANDIR/man$section/$name.$section"
	done
}

# A path for ksync.pc: under the prefix, written relative to ${prefix}.
pc_path() {
	case $1 in
	"$PREFIX"/*) printf '${prefix}/%s' "${1#"$PREFIX"/}" ;;
	*) printf '%s' "$1" ;;
	esac
}

# sed replacements of @NAME@ by its value ('|' is the separator, so values may hold '/').
subst() {
	sed -e "s|@prefix@|$PREFIX|g" -e "s|@libdir@|$(pc_path "$LIBDIR")|g" \
	    -e "s|@includedir@|$(pc_path "$INCDIR")|g" -e "s|@LIBDIR@|$LIBDIR|g" \
	    -e "s|@INCDIR@|$INCDIR|g" -e "s|@VERSION@|$VERSION|g" \
	    -e "s|@SOVERSION@|$SOVERSION|g" -e "s|@MINOR@|$minor|g" \
	    -e "s|@SIZEOF_VOID_P@|$sizeof_ptr|g" "$1" > "$2"
}

generate() {
	minor=${VERSION#*.}
	minor=${minor%%.*}
	# the library's word size, for the CMake package (ELF class byte: 1 is 32-bit, 2 64-bit)
	case $(od -An -tx1 -j4 -N1 "$O/libksync.so.$VERSION" | tr -d ' ') in
	01) sizeof_ptr=4 ;;
	*) sizeof_ptr=8 ;;
	esac
	mkdir -p "$gen"
	subst ksync.pc.in "$gen/ksync.pc"
	subst cmake/ksyncConfig.cmake.in "$gen/ksyncConfig.cmake"
	subst cmake/ksyncConfigVersion.cmake.in "$gen/ksyncConfigVersion.cmake"
}

# mkdir -p that records in $record each directory it creates, parents first.
make_dir() {
	case $1 in /|.|'') mkdir -p "$DESTDIR/"; return 0 ;; esac
	[ -d "$DESTDIR$1" ] && return 0
	make_dir "$(dirname "$1")"
	mkdir "$DESTDIR$1"
	echo "d $1" >> "$record"
}

install_all() {
	generate
	record=$gen/manifest.new
	: > "$record"
	plan | while read -r mode src dest; do
		make_dir "$(dirname "$dest")"
		rm -f "$DESTDIR$dest"
		if [ "$mode" = link ]; then
			ln -s "$src" "$DESTDIR$dest"
		else
			install -m "$mode" "$src" "$DESTDIR$dest"
		fi
		echo "f $dest" >> "$record"
		[ -n "$SILENT" ] || echo "  INSTALL $DESTDIR$dest"
	done
	echo "f $manifest" >> "$record"
	# directories first (in creation order), then files; earlier installs' records kept
	[ -f "$DESTDIR$manifest" ] || : > "$DESTDIR$manifest"
	sed -n '/^d /p' "$record" "$DESTDIR$manifest" > "$gen/manifest.dirs"
	sed -n '/^f /p' "$record" "$DESTDIR$manifest" > "$gen/manifest.files"
	awk '!seen[$0]++' "$gen/manifest.dirs" "$gen/manifest.files" > "$gen/manifest"
	install -m 644 "$gen/manifest" "$DESTDIR$manifest"
}

uninstall_all() {
	if [ -f "$DESTDIR$manifest" ]; then
		list=$(cat "$DESTDIR$manifest")
	else
		list=$(plan | while read -r mode src dest; do echo "f $dest"; done
		       printf 'd %s\n' "$INCDIR/ksync" "$CMAKEDIR" "$DOCDIR")
	fi
	printf '%s\n' "$list" | sed -n 's/^f //p' | while read -r path; do
		if [ -e "$DESTDIR$path" ] || [ -L "$DESTDIR$path" ]; then
			rm -f "$DESTDIR$path"
			[ -n "$SILENT" ] || echo "  RM      $DESTDIR$path"
		fi
	done
	# the directories install created, deepest first, if nothing else lives there now
	printf '%s\n' "$list" | sed -n 's/^d //p' | sort -r | while read -r dir; do
		rmdir "$DESTDIR$dir" 2>/dev/null || true
	done
}

case ${1:-} in
install) install_all ;;
uninstall) uninstall_all ;;
*) echo "usage: install.sh install|uninstall" >&2; exit 2 ;;
esac
