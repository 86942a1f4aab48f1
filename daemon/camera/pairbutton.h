/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pairbutton.h - the camera daemon's pairing window, opened by a
 * "pair-window" request on its status socket (pairbutton.c), which the
 * camera role hands over.
 */
#ifndef VERACAMD_PAIRBUTTON_H
#define VERACAMD_PAIRBUTTON_H

#include "service.h"

struct pair_button;

/* The pairing window of s's camera; its requests come from the role's status hook. */
struct pair_button *pair_button_new(struct svc_service *s);
/* Whether a status socket request line is this one's ("pair-window ..."). */
bool pair_button_serves(const char *request);
/* Answer a "pair-window ..." request: one line, "open ..." or "error WHY". */
char *pair_button_command(struct pair_button *b, const char *request);
/* Stop serving them; a window still open is closed (its child ended). */
void pair_button_free(struct pair_button *b);

#endif
