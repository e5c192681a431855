#!/bin/sh
# SPDX-License-Identifier: MIT
#
# ksync-tour [NAME...]: runs the tour's examples (all of them, in the course's order, by
# default), each under a title line. The programs live in tour/ next to this script.
# Exit status: 0 if every example did, else 1.

here=$(dirname "$0")
names=${*:-join lock rlock semaphore bounded-semaphore condition event barrier}
status=0

for name in $names; do
	printf '\n--- %s ---\n' "$name"
	"$here/tour/$name" || { echo "ksync-tour: $name failed" >&2; status=1; }
done
exit $status
