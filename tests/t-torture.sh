#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make check's torture, as TAP: a short ksync-torture run over every scenario must find no
# violation, and every negative control (a table broken on purpose) must be caught by the check
# that guards what it breaks. KS_TORTURE_DURATION sets the short run (default 10s).
dir=$(dirname "$0")
bin="$dir/ksync-torture"
duration=${KS_TORTURE_DURATION:-10s}

# Scenarios that find a known, open bug in today's library: each runs alone as a TAP TODO
# test (a failure is expected and reported; a pass is a bonus). Remove a line when the fix
# lands; the scenario then joins the main run. (The list is single-quoted: no apostrophes.)
known_broken='
rmutex		issue 8 finding 7: a _Fork() child inherits the cached thread id, owns the lock
once		issue 8 finding 7: _Fork() children share a stale thread id: a false -EDEADLK
rwlock		issue 8 finding 3: a reader overtakes a waiting writer
cond-rmutex	issue 8 finding 7: in _Fork() children an rmutex held elsewhere looks owned
thread		issue 8 finding 2: join returns while the thread still runs
'
n=0
failed=0

echo "TAP version 13"

result() {	# result PASS DESCRIPTION OUTPUT [DIRECTIVE]
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n - $2${4:+ # $4}"
	else
		echo "not ok $n - $2${4:+ # $4}"
		[ -n "$4" ] || failed=1
		printf '%s\n' "$3" | sed 's/^/# /'
	fi
}

# The first line that names a violation: ours, or a sanitizer's report of the same bug.
caught() {
	printf '%s\n' "$1" | grep -m1 -e '^ksync-torture: FAIL' -e '^ksync-torture: fault' \
		-e 'ERROR: AddressSanitizer' -e 'WARNING: ThreadSanitizer' | sed 's/^ksync-torture: //'
}

broken=$(printf '%s\n' "$known_broken" | awk 'NF { print $1 }')
main=$("$bin" -l | awk '!/\[negative control\]/ { print $1 }' | grep -vxF "$broken" |
	paste -sd, -)
out=$("$bin" -d "$duration" -s "$main" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
[ $rc = 0 ]
result $((! $?)) "every scenario not known broken, for $duration: no violation" "$out"

tab=$(printf '\t')
while IFS="$tab" read -r name why; do
	[ -n "$name" ] || continue
	out=$("$bin" -s "$name" -d 2s 2>&1)
	rc=$?
	line=$(caught "$out")
	[ $rc = 0 ]
	result $((! $?)) "$name: ${line:-no violation in 2s}" "$out" "TODO $why"
done <<EOF
$known_broken
EOF

# Each control must fail, naming a violation.
for control in $("$bin" -l | awk '/\[negative control\]/ { print $1 }'); do
	out=$("$bin" -s "$control" -d 20s 2>&1)
	rc=$?
	line=$(caught "$out")
	[ $rc != 0 ] && [ -n "$line" ]
	result $((! $?)) "negative control $control caught: $line" "$out"
done

echo "1..$n"
exit $failed
