#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make demo: the seed's story in four steps, then what it showed, in a few lines. The Makefile
# has built everything and passes MAKE, O, FETCH_BIN, DEMO_FETCH_ARGS and DEMO_MATRIX_ARGS.
#   1. the tour: one example per primitive of the course
#   2. the downloader, sequential vs threads (I/O-bound), if tools/fetch/ builds it
#   3. the matrix in every mode (CPU-bound), with and without the emulated GIL
#   4. make bench-quick, if bench/ provides it
#   5. the course's Python programs under ksync-run (make demo-preload), if preload/ provides it

O=${O:-build}
MAKE=${MAKE:-make}
FETCH_BIN=${FETCH_BIN:-$O/tools/ksync-fetch}
start=$(date +%s)
failed=

step() {
	printf '\n==== %s ====\n\n' "$*"
}

has_rule() {	# has_rule TARGET: the Makefile knows how to make TARGET
	$MAKE -s -n "$1" >/dev/null 2>&1
}

step "1/5  The tour: one example per primitive of the course"
"$O/tools/ksync-tour" || failed="$failed tour"

step "2/5  I/O-bound: the downloader, sequential vs threads"
fetch="skipped"
fetch_out="$O/tools/demo-fetch.txt"
if has_rule "$FETCH_BIN"; then
	fetch="failed"
	if $MAKE -s "$FETCH_BIN"; then
		{ "$FETCH_BIN" $DEMO_FETCH_ARGS 2>&1; echo "exit $?"; } | tee "$fetch_out" |
			grep -v '^exit '
		grep -qx 'exit 0' "$fetch_out" &&
			fetch=$(grep -i -m1 '^ *speedup' "$fetch_out" | sed 's/^ *speedup: *//')
	fi
	[ "$fetch" = failed ] && failed="$failed downloader"
else
	echo "(skipped: nothing builds $FETCH_BIN in this tree yet)"
fi

step "3/5  CPU-bound: the matrix, with threads, processes and an emulated GIL"
matrix_out="$O/tools/demo-matrix.txt"
{ "$O/tools/ksync-matrix" $DEMO_MATRIX_ARGS 2>&1; echo "exit $?"; } | tee "$matrix_out" |
	grep -v '^exit '
grep -qx 'exit 0' "$matrix_out" || failed="$failed matrix"

step "4/5  Contention benchmarks (make bench-quick)"
if has_rule bench-quick; then
	$MAKE -s bench-quick || failed="$failed bench-quick"
else
	echo "(skipped: no bench-quick target in this tree yet)"
fi

step "5/5  The course's Python programs, unmodified, on ksync (ksync-run)"
if has_rule demo-preload; then
	$MAKE -s demo-preload || failed="$failed ksync-run"
else
	echo "(skipped: no demo-preload target in this tree yet)"
fi

# The speedup column of a mode's last row in the matrix table.
speedup() {
	awk -v m="$1" '$1 == m { s = $6 } END { print (s == "" ? "?" : s) }' "$matrix_out"
}

# The matrix's note about other work on the CPUs, if it made one.
busy() {
	grep -q '^(load average' "$matrix_out" &&
		printf '\n  %s' '(Other work shared the CPUs meanwhile: the speedups are lower than' \
			'on an idle machine.)'
}

step "What you just saw"
cat <<SUMMARY
- The tour: join, Lock (updates lost without it), RLock (cascading calls), Semaphore (at most
  k at once), BoundedSemaphore (the extra release caught: -EOVERFLOW), Condition (producer and
  consumer), Event (a start signal) and Barrier (rounds in lockstep), each first without threads.
- I/O-bound work: threads overlap their waits. The downloader on threads, over one:
  ${fetch:-see above}.
- CPU-bound work on $(nproc) CPUs, the matrix's speedups over one thread: threads \
$(speedup threads),
  processes $(speedup processes), but threads under the GIL $(speedup gil): one computes at a \
time. GIL threads
  whose work includes I/O: $(speedup gil-io), since the GIL is released while waiting.$(busy)
- The course's conclusion: threads for I/O-bound work; processes (or a runtime without a GIL,
  like C) for CPU-bound work.
SUMMARY
printf '\nmake demo took %d s.' $(($(date +%s) - start))
if [ -n "$failed" ]; then
	printf ' FAILED:%s\n' "$failed"
	exit 1
fi
printf '\n'
