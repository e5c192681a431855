#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make demo-preload (and make demo's last step): the course's Python examples, unmodified, on
# glibc and then on ksync through ksync-run. The same lessons print both ways; the GIL's figures
# show what ksync changes in CPython's hand-off (its GIL is a pthread mutex and condition).
here=$(dirname "$0")
py=/usr/bin/python3.11
failed=

srv_out=$(mktemp)
"$IMGSERVER" -n 24 -l 100 >"$srv_out" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -f "$srv_out"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do
	base=$(head -n 1 "$srv_out")
	[ -n "$base" ] && break
	sleep 0.2
done

for prog in download gil producer_consumer barrier; do
	for run in "" "$KSYNC_RUN --"; do
		if [ "$prog" = download ]; then
			[ -n "$base" ] || { echo "(the image server did not start)"; continue; }
			set -- "$base" 24
		else
			set --
		fi
		$run $py "$here/$prog.py" "$@" || failed="$failed $prog"
		echo
	done
done
[ -z "$failed" ] || { echo "failed:$failed"; exit 1; }
