/* SPDX-License-Identifier: GPL-2.0 */
/* veracamctl's QR codes (qr.c). */
#ifndef VERACAM_QR_H
#define VERACAM_QR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <glib.h>

/* The QR code of text as half-block characters; 0 or -1. */
int qr_print(FILE *f, const char *text);
/*
 * The QR code of text as a grey PNG, scale pixels a module; 0, or -1 with
 * error set (SVC_ERROR_SYSTEM: veracamctl's nearest domain, service.h).
 */
int qr_png(const char *path, const char *text, int scale, GError **error);

#endif /* VERACAM_QR_H */
