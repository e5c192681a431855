#!/bin/sh
# SPDX-License-Identifier: MIT
#
# t-tools: TAP (version 13) test of the programs in tools/, found next to this script:
# ksync-matrix verifies in every mode and its GIL lets at most one thread compute, and every
# tour example exits 0 and prints its key line. Outcomes only: no timing is asserted.

here=$(dirname "$0")
n=0
failed=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT

result() {	# result PASS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		sed 's/^/# /' "$out"
	fi
}

# expect NAME TEXT COMMAND...: the command exits 0 and its output contains TEXT.
expect() {
	name=$1 text=$2
	shift 2
	"$@" >"$out" 2>&1
	result $? "$name exits 0"
	grep -Fq -- "$text" "$out"
	result $? "$name says '$text'"
}

echo "TAP version 13"

# A small N that is not a multiple of the block sizes, and more workers than CPUs.
"$here/ksync-matrix" -n 100 -t 3 -i 200 >"$out" 2>&1
result $? "matrix: all modes, N = 100, 3 workers"
for mode in seq threads processes gil gil-io; do
	grep -Eq "^$mode +[13] .* ok" "$out"
	result $? "matrix: $mode result verified"
done
[ "$(grep -c 'GIL: at most 1 thread(s) computing at once' "$out")" = 2 ]
result $? "matrix: gil and gil-io let at most 1 thread compute at once"
grep -q 'I/O calls' "$out"
result $? "matrix: gil-io made I/O calls"

"$here/ksync-matrix" -n 64 -t 2 -m gil -s 100 -r 2 >"$out" 2>&1 && grep -Eq '^gil +2 .* ok' "$out"
result $? "matrix: gil with a 100 us switch interval, best of 2 runs, verifies"

"$here/ksync-matrix" -n 10 -m nonsense >"$out" 2>&1
[ $? = 2 ]
result $? "matrix: an unknown mode is a usage error"

expect "tour/join" 'joined 8 threads' "$here/tour/join"
expect "tour/lock" 'with lock: 400000 expected, 400000 counted' "$here/tour/lock"
expect "tour/rlock" '(depth 2), total 2000 == 2000' "$here/tour/rlock"
grep -q 'here: -ETIMEDOUT' "$out"
result $? "tour/rlock: a plain Lock's nested acquire times out"
expect "tour/semaphore" 'never more than 3' "$here/tour/semaphore"
expect "tour/bounded-semaphore" 'stray up(): -EOVERFLOW, value still 2' \
	"$here/tour/bounded-semaphore"
expect "tour/condition" 'consumed 20 items, sum 210 (expected 210)' "$here/tour/condition"
expect "tour/event" '4 of 4 racers started after the signal' "$here/tour/event"
expect "tour/barrier" '0 out of step' "$here/tour/barrier"
expect "ksync-tour" '--- barrier ---' "$here/ksync-tour"

echo "1..$n"
[ $failed = 0 ]
