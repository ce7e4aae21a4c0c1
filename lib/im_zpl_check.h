/* SPDX-License-Identifier: MPL-2.0 */
/* im_zpl_check.h -- finds the first syntax error of a ZPL text (czmq's
 * zconfig format) and says where it is and what was expected, since zconfig
 * itself only says whether the whole text loads. */
#ifndef IM_ZPL_CHECK_H
#define IM_ZPL_CHECK_H

#include <stddef.h>

/* Checks TEXT as zconfig (czmq 4.2) reads it (indentation by 4 spaces a level, at most
 * one level deeper than the line above; a name of letters, digits and $-_@.&+/, not
 * starting or ending in '/'; then nothing, or '=' and a value, quoted or not; a '#'
 * comment). Returns 0 when zconfig loads it, or -1 with errno EINVAL and
 * "FILE:LINE:COLUMN: what was found; what was expected" (columns from 1) in ERR. */
int im_zpl_check (const char *text, const char *file, char *err, size_t errsz);

#endif
