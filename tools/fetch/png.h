/* SPDX-License-Identifier: MIT */
/*
 * Deterministic test images for the loopback server: image i is always the same bytes, so a
 * test can compare what was downloaded with what should have been.
 */
#ifndef KSYNC_FETCH_PNG_H
#define KSYNC_FETCH_PNG_H

#include <stddef.h>
#include <stdint.h>

#define PNG_SIDE_MIN	8u
#define PNG_SIDE_MAX	1024u

/* The size in bytes of a side x side image (side within PNG_SIDE_MIN … PNG_SIDE_MAX). */
size_t png_image_size(unsigned side);

/* Writes image `index`, png_image_size(side) bytes, to out. */
void png_image_render(uint8_t *out, unsigned index, unsigned side);

#endif /* KSYNC_FETCH_PNG_H */
