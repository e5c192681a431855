#!/bin/sh
# SPDX-License-Identifier: MIT
#
# t-man (make check): TAP (version 13) test of the manual pages in man/, run from the top of
# the tree:
#  - every page is clean under mandoc -Tlint (warnings and style), but for "referenced manual
#    not found" (mandoc looks in the installed database), which is checked here instead: every
#    .Xr to a ksync page names a page of man/ or a name one lists;
#  - every public function of the headers (gcc -aux-info: inline ones too) and every
#    function-like macro named ks_* is listed in the NAME section (.Nm) of exactly one page of
#    section 3, and appears in that page's SYNOPSIS; ks__* names are the library's internals;
#  - every name a page lists is a function, a macro or a struct of the headers (no stale page);
#  - every KS_* or KSYNC_* macro that tests/use-all.h uses as a user would (an initializer, a
#    flag, a limit) is mentioned in some page.

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

# names PAGE: the names its NAME section lists, one a line
names() {
	sed -n '/^\.Sh SYNOPSIS/q; s/^\.Nm \([A-Za-z0-9_-]*\).*/\1/p' "$1"
}

# synopsis PAGE: the names its SYNOPSIS declares (.Fn, .Fo, .Nm), one a line
synopsis() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/s/^\.\(Fn\|Fo\|Nm\) \([A-Za-z0-9_]*\).*/\2/p' "$1"
}

pages=$(ls man/*.[1-9])

# ---- mandoc -Tlint ----------------------------------------------------------------------------
if command -v mandoc > /dev/null; then
	for page in $pages; do
		mandoc -Tlint -Wstyle "$page" 2>&1 |
			grep -v -e 'referenced manual not found' -e 'lacks .* entry, run makewhatis' \
			> "$log"
		result "$([ ! -s "$log" ]; echo $?)" "mandoc -Tlint $page"
	done
else
	echo "ok $((n = n + 1)) # SKIP mandoc is not installed (make deps installs it)"
fi

# ---- cross-references --------------------------------------------------------------------------
for page in $pages; do
	s=${page##*.}
	echo "${page##*/}"
	names "$page" | sed "s/\$/.$s/"
done | sort -u > "$tmp/known"
sed -n 's/^\.Xr \(ks[a-z0-9_-]*\) \([1-9]\).*/\1.\2/p' $pages | sort -u > "$tmp/refs"
comm -23 "$tmp/refs" "$tmp/known" > "$log"
result "$([ ! -s "$log" ]; echo $?)" "every .Xr to a ksync page names one of man/"

# ---- the headers' public names -----------------------------------------------------------------
echo '#include <ksync.h>' > "$tmp/all.c"
if ! gcc -std=gnu11 -D_GNU_SOURCE -Iinclude -fsyntax-only -aux-info "$tmp/aux" "$tmp/all.c" \
	> "$log" 2>&1; then
	result 1 "the headers compile (gcc -aux-info)"
fi
{
	grep -o '\bks_[a-z0-9_]*[[:space:]]*(' "$tmp/aux" | sed 's/[[:space:]]*($//'
	gcc -std=gnu11 -D_GNU_SOURCE -Iinclude -dM -E "$tmp/all.c" |
		sed -n 's/^#define \(ks_[a-z0-9_]*\)(.*/\1/p'
} | grep -v '^ks__' | sort -u > "$tmp/public"
result "$([ -s "$tmp/public" ]; echo $?)" "the headers declare public names ($(wc -l < "$tmp/public"))"

for page in man/*.3; do
	names "$page" | sed "s|\$| $page|"
done | sort > "$tmp/listed"

awk '{ print $1 }' "$tmp/listed" | sort | uniq -d > "$log"
result "$([ ! -s "$log" ]; echo $?)" "no name is listed by two pages"

awk '{ print $1 }' "$tmp/listed" | sort -u > "$tmp/listed-names"
comm -23 "$tmp/public" "$tmp/listed-names" > "$log"
[ -s "$log" ] && sed -i '1i every name below needs a .Nm line in the NAME section of its page' \
	"$log"
result "$([ ! -s "$log" ]; echo $?)" "every public function and macro has a page"

: > "$log"
while read -r name page; do
	grep -qx "$name" "$tmp/public" || continue
	synopsis "$page" | grep -qx "$name" || echo "$page: $name is not in the SYNOPSIS" >> "$log"
done < "$tmp/listed"
result "$([ ! -s "$log" ]; echo $?)" "every public name is in its page's SYNOPSIS"

gcc -std=gnu11 -D_GNU_SOURCE -Iinclude -E "$tmp/all.c" |
	sed -n 's/.*struct \(ks_[a-z0-9_]*\) *[{;].*/\1/p' | sort -u > "$tmp/structs"
awk '{ print $1 }' "$tmp/listed" | grep -v -x -f "$tmp/public" | grep -v -x -f "$tmp/structs" |
	grep -v -x ksync > "$log"
[ -s "$log" ] && sed -i '1i listed by a page, but no function, macro or struct of the headers:' \
	"$log"
result "$([ ! -s "$log" ]; echo $?)" "every listed name exists in the headers"

# ---- the macros a program uses -----------------------------------------------------------------
gcc -std=gnu11 -D_GNU_SOURCE -Iinclude -dM -E "$tmp/all.c" |
	sed -n 's/^#define \(KS[A-Z0-9_]*\).*/\1/p' | grep -v '^KS__' | sort -u > "$tmp/macros"
grep -o '\bKS[A-Z0-9_]*' tests/use-all.h | sort -u | comm -12 - "$tmp/macros" > "$tmp/used"
: > "$log"
while read -r macro; do
	grep -qw "$macro" man/*.3 || echo "$macro is mentioned by no page" >> "$log"
done < "$tmp/used"
result "$([ ! -s "$log" ]; echo $?)" "every macro of tests/use-all.h is in a page"

echo "1..$n"
[ "$failed" = 0 ]
