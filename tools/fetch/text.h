/* SPDX-License-Identifier: MIT */
/*
 * Text for people: byte counts in binary units, and untrusted strings made safe to print.
 */
#ifndef KSYNC_FETCH_TEXT_H
#define KSYNC_FETCH_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Bytes as "512 B", "48.1 KiB", "1.5 MiB". */
void text_bytes(char *buf, size_t len, double bytes);

/* s as printable text: control bytes become \xNN, so no URL can drive the terminal. */
void text_print_escaped(FILE *f, const char *s);

#endif /* KSYNC_FETCH_TEXT_H */
