/* SPDX-License-Identifier: MIT */
/*
 * Text for people: byte counts in binary units, and untrusted strings (URLs, file names, a
 * server's words) checked or made safe to print.
 */
#ifndef KSYNC_FETCH_TEXT_H
#define KSYNC_FETCH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes as "512 B", "48.1 KiB", "1.5 MiB". */
void text_bytes(char *buf, size_t len, double bytes);

/*
 * The UTF-8 sequence at s (n bytes available): its length, and its code point in *cp; 0 if it
 * is not valid UTF-8 (a stray continuation byte, a truncated, overlong or surrogate sequence,
 * or beyond U+10FFFF).
 */
size_t text_utf8(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * A code point that acts on a terminal or on how text reads rather than showing as itself: the
 * C0 and C1 controls and DEL (ESC and CSI drive terminals, newlines forge log lines), the
 * bidirectional controls (U+202E makes "gnp.exe" read "exe.png"), and the line and paragraph
 * separators.
 */
bool text_is_control(uint32_t cp);

/*
 * s as printable text: control code points (above), invalid UTF-8 and backslashes become \xNN
 * byte by byte; everything else is printed as it is.
 */
void text_print_escaped(FILE *f, const char *s);

#endif /* KSYNC_FETCH_TEXT_H */
