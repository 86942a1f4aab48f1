// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - the record's carrier: an H.264 SEI NAL unit
 * with one user_data_unregistered message (payloadType 5) whose UUID is
 * vc_sei_uuid, placed just before the first slice of the access unit.
 *
 * The AU hash covers every NAL unit of the AU except that SEI, each as
 * BE32(length) || NAL bytes exactly as in the byte stream (header byte
 * included, emulation prevention bytes included, start codes and
 * trailing zero bytes excluded).
 */
#include <string.h>

#include <openssl/evp.h>

#include <veracam/record.h>
#include <veracam/sei.h>
#include "internal.h"

/* 40b81eb6-f075-4e2a-a6c0-9f34d0010911 */
const uint8_t vc_sei_uuid[VC_SEI_UUID_LEN] = {
	0x40, 0xb8, 0x1e, 0xb6, 0xf0, 0x75, 0x4e, 0x2a,
	0xa6, 0xc0, 0x9f, 0x34, 0xd0, 0x01, 0x09, 0x11,
};

#define NAL_SLICE	1
#define NAL_IDR		5
#define NAL_SEI		6
#define SEI_USER_DATA_UNREGISTERED	5
#define SEI_PREFIX_MAX	64

/*
 * Position of the next 00 00 01 at or after from: returns the offset of
 * its first zero, or len when there is none.
 */
static size_t next_start_code(const uint8_t *p, size_t len, size_t from)
{
	size_t i = from + 2;

	while (i < len) {
		const uint8_t *one = memchr(p + i, 0x01, len - i);

		if (!one)
			return len;
		i = (size_t)(one - p);
		if (p[i - 1] == 0 && p[i - 2] == 0)
			return i - 2;
		i++;
	}
	return len;
}

/*
 * Remove emulation prevention bytes from src into dst (at most cap bytes).
 * 00 00 03 loses its 03, which must be followed by a byte <= 3 or the end;
 * 00 00 00..02 cannot occur inside a NAL unit. With partial, stops quietly
 * at cap bytes or at an invalid sequence (the caller only wants a prefix).
 * Returns the length written or -1.
 */
static long unescape(const uint8_t *src, size_t n, uint8_t *dst, size_t cap, bool partial)
{
	size_t i, out = 0;
	int zeros = 0;

	for (i = 0; i < n; i++) {
		uint8_t b = src[i];

		if (zeros >= 2 && b <= 3) {
			if (b != 3 || (i + 1 < n && src[i + 1] > 3))
				return partial ? (long)out : -1;
			zeros = 0;
			continue;
		}
		if (out == cap)
			return partial ? (long)out : -1;
		dst[out++] = b;
		zeros = b == 0 ? zeros + 1 : 0;
	}
	return (long)out;
}

/* Read an SEI ff-coded number (payloadType / payloadSize). */
static int sei_number(const uint8_t *p, size_t n, size_t *pos, size_t *val)
{
	size_t v = 0;

	while (*pos < n && p[*pos] == 0xff) {
		v += 255;
		(*pos)++;
	}
	if (*pos >= n)
		return -1;
	*val = v + p[(*pos)++];
	return 0;
}

/* Is this SEI NAL unit (escaped, header byte first) a veracam one? */
static bool is_veracam_sei(const uint8_t *nal, size_t n)
{
	uint8_t pre[SEI_PREFIX_MAX];
	size_t pos = 0, type, size;
	long m = unescape(nal + 1, n - 1, pre, sizeof(pre), true);

	if (m < 0 || sei_number(pre, (size_t)m, &pos, &type) < 0 ||
	    sei_number(pre, (size_t)m, &pos, &size) < 0)
		return false;
	return type == SEI_USER_DATA_UNREGISTERED && pos + VC_SEI_UUID_LEN <= (size_t)m &&
	       memcmp(pre + pos, vc_sei_uuid, VC_SEI_UUID_LEN) == 0;
}

enum vc_reject vc_au_scan(const uint8_t *au, size_t len, struct vc_au_scan *scan)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t sc, i, prev_end = 0;
	bool have_slice = false;
	enum vc_reject r = VC_REJ_RECORD;

	memset(scan, 0, sizeof(*scan));
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	sc = next_start_code(au, len, 0);
	for (i = 0; i < sc; i++)
		if (au[i] != 0)
			goto out;	/* bytes before the first start code */
	while (sc < len) {
		size_t start = sc + 3, end, next = next_start_code(au, len, sc + 3);
		uint8_t lenbe[4];
		unsigned int type;

		for (end = next; end > start && au[end - 1] == 0; end--)
			;
		if (end == start || (au[start] & 0x80))
			goto out;	/* empty NAL unit or forbidden_zero_bit */
		type = au[start] & 0x1f;
		if (type >= NAL_SLICE && type <= NAL_IDR && !have_slice) {
			have_slice = true;
			scan->first_slice = prev_end;
		}
		if (type == NAL_IDR)
			scan->idr = true;
		if (type == NAL_SEI && is_veracam_sei(au + start, end - start)) {
			scan->n_records++;
			scan->sei = au + start;
			scan->sei_len = end - start;
		} else {
			vc_put_be32(lenbe, (uint32_t)(end - start));
			if (EVP_DigestUpdate(md, lenbe, 4) != 1 ||
			    EVP_DigestUpdate(md, au + start, end - start) != 1)
				goto out;
		}
		prev_end = end;
		sc = next;
	}
	if (have_slice && EVP_DigestFinal_ex(md, scan->hash, NULL) == 1)
		r = VC_OK;
out:
	EVP_MD_CTX_free(md);
	return r;
}

/* Append src to dst with emulation prevention; dst has room for 3n/2 + 1. */
static size_t escape(const uint8_t *src, size_t n, uint8_t *dst)
{
	size_t i, out = 0;
	int zeros = 0;

	for (i = 0; i < n; i++) {
		if (zeros >= 2 && src[i] <= 3) {
			dst[out++] = 3;
			zeros = 0;
		}
		dst[out++] = src[i];
		zeros = src[i] == 0 ? zeros + 1 : 0;
	}
	return out;
}

int vc_sei_insert(const uint8_t *au, size_t len, const struct vc_au_scan *scan,
		  const uint8_t *rec, size_t rec_len, struct vc_buf *out)
{
	uint8_t rbsp[8 + VC_SEI_UUID_LEN + VC_RECORD_MAX_LEN];
	size_t size = VC_SEI_UUID_LEN + rec_len, n = 0, sei_max, pos;

	if (rec_len > VC_RECORD_MAX_LEN || scan->first_slice > len)
		return vc_err("SEI insert: bad arguments");
	rbsp[n++] = SEI_USER_DATA_UNREGISTERED;
	while (size >= 255) {
		rbsp[n++] = 0xff;
		size -= 255;
	}
	rbsp[n++] = (uint8_t)size;
	memcpy(rbsp + n, vc_sei_uuid, VC_SEI_UUID_LEN);
	n += VC_SEI_UUID_LEN;
	memcpy(rbsp + n, rec, rec_len);
	n += rec_len;
	rbsp[n++] = 0x80;	/* rbsp_stop_one_bit + alignment */

	sei_max = 4 + 1 + n + n / 2 + 1;
	if (vc_buf_reserve(out, len + sei_max) < 0)
		return -1;
	pos = scan->first_slice;
	memcpy(out->data, au, pos);
	memcpy(out->data + pos, "\x00\x00\x00\x01\x06", 5);
	pos += 5;
	pos += escape(rbsp, n, out->data + pos);
	memcpy(out->data + pos, au + scan->first_slice, len - scan->first_slice);
	out->len = pos + len - scan->first_slice;
	return 0;
}

enum vc_reject vc_sei_extract(const uint8_t *au, size_t len, struct vc_au_scan *scan,
			      uint8_t *rec, size_t *rec_len)
{
	uint8_t rbsp[8 + VC_SEI_UUID_LEN + VC_RECORD_MAX_LEN + 1];
	size_t pos = 0, type, size;
	enum vc_reject r = vc_au_scan(au, len, scan);
	long n;

	if (r != VC_OK)
		return r;
	if (scan->n_records == 0)
		return VC_REJ_NO_RECORD;
	if (scan->n_records > 1)
		return VC_REJ_RECORD;
	n = unescape(scan->sei + 1, scan->sei_len - 1, rbsp, sizeof(rbsp), false);
	if (n < 0 || sei_number(rbsp, (size_t)n, &pos, &type) < 0 ||
	    sei_number(rbsp, (size_t)n, &pos, &size) < 0)
		return VC_REJ_RECORD;
	/* exactly one message: UUID, record, then the stop bit byte, nothing else */
	if (size < VC_SEI_UUID_LEN || size - VC_SEI_UUID_LEN > VC_RECORD_MAX_LEN ||
	    pos + size + 1 != (size_t)n || rbsp[n - 1] != 0x80)
		return VC_REJ_RECORD;
	*rec_len = size - VC_SEI_UUID_LEN;
	memcpy(rec, rbsp + pos + VC_SEI_UUID_LEN, *rec_len);
	return VC_OK;
}
