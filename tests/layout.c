/* SPDX-License-Identifier: MIT */
/* The public structs' layout as C sees it (strict C11, no feature macros): see layout.h. */
#include "layout.h"

#ifdef __cplusplus
#error "layout.c is the C side of the layout comparison: compile it as C"
#endif

const struct ks_layout ks_layout_c[] = KS_LAYOUT_TABLE;
const size_t ks_layout_c_n = sizeof(ks_layout_c) / sizeof(ks_layout_c[0]);
