/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - carrying the record in the access unit: an
 * H.264 SEI NAL unit (type 6) holding exactly one user_data_unregistered
 * message (payloadType 5) with the veracam UUID, in Annex-B byte streams.
 */
#ifndef VERACAM_SEI_H
#define VERACAM_SEI_H

#include <stdbool.h>
#include <stdint.h>
#include <veracam/common.h>

#define VC_SEI_UUID_LEN	16
extern const uint8_t vc_sei_uuid[VC_SEI_UUID_LEN];

/* One pass over an Annex-B access unit. */
struct vc_au_scan {
	uint8_t hash[VC_HASH_LEN];	/* over every NAL unit but the veracam SEI */
	bool idr;			/* contains a NAL unit of type 5 */
	size_t first_slice;		/* offset of the first VCL NAL's start code */
	size_t n_records;		/* veracam SEI NAL units found */
	const uint8_t *sei;		/* the (last) veracam SEI NAL, escaped, */
	size_t sei_len;			/* from its header byte, no trailing zeros */
};

/*
 * VC_OK, or VC_REJ_RECORD when the bytes are not an Annex-B access unit
 * with at least one slice, or a veracam SEI is malformed.
 */
enum vc_reject vc_au_scan(const uint8_t *au, size_t len, struct vc_au_scan *scan);

/* out = au with a veracam SEI carrying rec inserted at scan->first_slice. */
int vc_sei_insert(const uint8_t *au, size_t len, const struct vc_au_scan *scan,
		  const uint8_t *rec, size_t rec_len, struct vc_buf *out);

/*
 * Find the record in a received AU: VC_OK with the unescaped record bytes
 * in rec (at most VC_RECORD_MAX_LEN) and the scan; VC_REJ_NO_RECORD when
 * there is none; VC_REJ_RECORD when malformed or more than one.
 */
enum vc_reject vc_sei_extract(const uint8_t *au, size_t len, struct vc_au_scan *scan,
			      uint8_t *rec, size_t *rec_len);

#endif /* VERACAM_SEI_H */
