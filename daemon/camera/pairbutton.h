/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pairbutton.h - the camera daemon's pairing window, opened by a
 * "pair-window" request on its status socket (pairbutton.c).
 */
#ifndef VERACAMD_PAIRBUTTON_H
#define VERACAMD_PAIRBUTTON_H

#include "service.h"

struct pair_button;

/* Serve "pair-window" requests on s's status socket from now on. */
struct pair_button *pair_button_new(struct svc_service *s);
/* Stop serving them; a window still open is closed (its child ended). */
void pair_button_free(struct pair_button *b);

#endif
