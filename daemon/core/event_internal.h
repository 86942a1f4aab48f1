/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - recorded events' inner step (event.c), for the
 * library and its tests only.
 */
#ifndef VERACAM_CORE_EVENT_INTERNAL_H
#define VERACAM_CORE_EVENT_INTERNAL_H

#include <veracam/event.h>

/*
 * A sealer for a given content key, its first index 0. vc_envelope_seal()
 * makes the only one of each fresh content key; the tests make one from the
 * vectors' fixed key. Never call it twice for one key: that would hand out
 * the same indexes, and so the same nonces, again.
 */
struct vc_event_sealer *vc_event_sealer_new_from_key(enum vc_hpke_aead aead,
						     const uint8_t key[VC_CONTENT_KEY_LEN],
						     const uint8_t manifest_hash[VC_HASH_LEN]);

#endif /* VERACAM_CORE_EVENT_INTERNAL_H */
