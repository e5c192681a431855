/* SPDX-License-Identifier: MIT */
/*
 * The public headers in a strict C11 user's program: built with -std=c11 -pedantic-errors
 * -Wall -Wextra -Wcast-qual -Wshadow -Wconversion -Werror by gcc and clang (see tests/Kbuild),
 * it uses every call, initializer and macro (tests/use-all.h) and checks what each returns.
 */
#define _POSIX_C_SOURCE 200809L	/* alarm(); the ksync headers need no feature macro */

#include <unistd.h>

#include "use-all.h"

int main(void)
{
	printf("TAP version 13\n");
	alarm(60);	/* a hang is a failure: SIGALRM ends the program, prove sees no plan */
	use_all();
	printf("1..%u\n", use_n);
	return use_failed != 0;
}
