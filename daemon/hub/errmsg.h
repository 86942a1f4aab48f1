/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hub_errmsg - the hub library's way to explain a failure to its caller: a
 * printf-style message into the caller's buffer (which may be NULL).
 */
#ifndef VERACAM_HUB_ERRMSG_H
#define VERACAM_HUB_ERRMSG_H

#include <stddef.h>

__attribute__((format(printf, 3, 4)))
void hub_errmsg(char *err, size_t len, const char *fmt, ...);

#endif
