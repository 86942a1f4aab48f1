// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - sealing: AEAD over whole signed access units.
 *
 * Unit v1 (big-endian; docs/PROTOCOL.md "Sealed unit"):
 *   0  version (1)   1  type (1 = AU)   2  cipher   3  reserved (0)
 *   4  session id (16)   20  sequence (8)   28  payload length (4)
 *   32 ciphertext (payload length bytes)   then the 16-byte tag
 * AAD = the 32 header bytes; nonce = media IV XOR (0^32 || sequence).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <veracam/seal.h>
#include "internal.h"

struct aead {
	EVP_CIPHER_CTX *ctx;
	enum vc_cipher cipher;
	uint8_t iv[VC_MEDIA_IV_LEN];
	uint8_t session_id[VC_SESSION_ID_LEN];
};

struct vc_sealer {
	struct aead a;
	uint64_t next_seq;
};

struct vc_opener {
	struct aead a;
	bool have_top;
	uint64_t top;		/* highest sequence opened */
	uint64_t window;	/* bit i: top - i opened */
};

static int aead_init(struct aead *a, const struct vc_media_key *key,
		     const uint8_t session_id[VC_SESSION_ID_LEN], int enc)
{
	const char *name;
	EVP_CIPHER *c;
	int ok;

	switch (key->cipher) {
	case VC_CIPHER_AES128GCM:
		name = "AES-128-GCM";
		break;
	case VC_CIPHER_CHACHA20POLY1305:
		name = "ChaCha20-Poly1305";
		break;
	default:
		return vc_err("unknown cipher %d", (int)key->cipher);
	}
	c = EVP_CIPHER_fetch(NULL, name, NULL);
	a->ctx = EVP_CIPHER_CTX_new();
	ok = c && a->ctx && EVP_CipherInit_ex2(a->ctx, c, key->key, NULL, enc, NULL) == 1;
	EVP_CIPHER_free(c);
	if (!ok)
		return vc_err_ssl("%s", name);
	a->cipher = key->cipher;
	memcpy(a->iv, key->iv, VC_MEDIA_IV_LEN);
	memcpy(a->session_id, session_id, VC_SESSION_ID_LEN);
	return 0;
}

static void aead_fini(struct aead *a)
{
	EVP_CIPHER_CTX_free(a->ctx);
	OPENSSL_cleanse(a->iv, sizeof(a->iv));
}

static void nonce_for(const struct aead *a, uint64_t seq, uint8_t nonce[VC_MEDIA_IV_LEN])
{
	uint8_t s[8];
	int i;

	memcpy(nonce, a->iv, VC_MEDIA_IV_LEN);
	vc_put_be64(s, seq);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= s[i];
}

enum vc_reject vc_unit_header_parse(const uint8_t *p, size_t len,
				    struct vc_unit_header *h, size_t *unit_len)
{
	if (len < VC_UNIT_HEADER_LEN)
		return VC_REJ_MALFORMED;
	h->version = p[0];
	h->type = p[1];
	h->cipher = p[2];
	if (h->version != VC_UNIT_VERSION || h->type != VC_UNIT_TYPE_AU ||
	    (h->cipher != VC_CIPHER_AES128GCM && h->cipher != VC_CIPHER_CHACHA20POLY1305))
		return VC_REJ_UNIT_VERSION;
	if (p[3] != 0)
		return VC_REJ_MALFORMED;
	memcpy(h->session_id, p + 4, VC_SESSION_ID_LEN);
	h->seq = vc_get_be64(p + 20);
	h->payload_len = vc_get_be32(p + 28);
	if (h->payload_len > VC_UNIT_MAX_PAYLOAD)
		return VC_REJ_MALFORMED;
	*unit_len = VC_UNIT_HEADER_LEN + (size_t)h->payload_len + VC_UNIT_TAG_LEN;
	return VC_OK;
}

struct vc_sealer *vc_sealer_new(const struct vc_media_key *key,
				const uint8_t session_id[VC_SESSION_ID_LEN])
{
	struct vc_sealer *s = calloc(1, sizeof(*s));

	if (!s) {
		vc_err("out of memory");
		return NULL;
	}
	if (aead_init(&s->a, key, session_id, 1) < 0) {
		vc_sealer_free(s);
		return NULL;
	}
	return s;
}

void vc_sealer_free(struct vc_sealer *s)
{
	if (!s)
		return;
	aead_fini(&s->a);
	free(s);
}

int vc_seal(struct vc_sealer *s, const uint8_t *payload, size_t len, struct vc_buf *out)
{
	uint8_t nonce[VC_MEDIA_IV_LEN], *h;
	int n, fin;

	if (len > VC_UNIT_MAX_PAYLOAD)
		return vc_err("seal: payload of %zu bytes is too large", len);
	if (s->next_seq == UINT64_MAX)
		return vc_err("seal: sequence exhausted; start a new session");
	if (vc_buf_reserve(out, VC_UNIT_HEADER_LEN + len + VC_UNIT_TAG_LEN) < 0)
		return -1;
	h = out->data;
	h[0] = VC_UNIT_VERSION;
	h[1] = VC_UNIT_TYPE_AU;
	h[2] = (uint8_t)s->a.cipher;
	h[3] = 0;
	memcpy(h + 4, s->a.session_id, VC_SESSION_ID_LEN);
	vc_put_be64(h + 20, s->next_seq);
	vc_put_be32(h + 28, (uint32_t)len);
	nonce_for(&s->a, s->next_seq, nonce);
	if (EVP_CipherInit_ex2(s->a.ctx, NULL, NULL, nonce, 1, NULL) != 1 ||
	    EVP_CipherUpdate(s->a.ctx, NULL, &n, h, VC_UNIT_HEADER_LEN) != 1 ||
	    EVP_CipherUpdate(s->a.ctx, h + VC_UNIT_HEADER_LEN, &n, payload, (int)len) != 1 ||
	    EVP_CipherFinal_ex(s->a.ctx, h + VC_UNIT_HEADER_LEN + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->a.ctx, EVP_CTRL_AEAD_GET_TAG, VC_UNIT_TAG_LEN,
				h + VC_UNIT_HEADER_LEN + len) != 1)
		return vc_err_ssl("seal");
	out->len = VC_UNIT_HEADER_LEN + len + VC_UNIT_TAG_LEN;
	s->next_seq++;
	return 0;
}

struct vc_opener *vc_opener_new(const struct vc_media_key *key,
				const uint8_t session_id[VC_SESSION_ID_LEN])
{
	struct vc_opener *o = calloc(1, sizeof(*o));

	if (!o) {
		vc_err("out of memory");
		return NULL;
	}
	if (aead_init(&o->a, key, session_id, 0) < 0) {
		vc_opener_free(o);
		return NULL;
	}
	return o;
}

void vc_opener_free(struct vc_opener *o)
{
	if (!o)
		return;
	aead_fini(&o->a);
	free(o);
}

static bool replay_seen(const struct vc_opener *o, uint64_t seq)
{
	uint64_t diff;

	if (!o->have_top || seq > o->top)
		return false;
	diff = o->top - seq;
	return diff >= VC_REPLAY_WINDOW || (o->window >> diff) & 1;
}

static void replay_mark(struct vc_opener *o, uint64_t seq)
{
	if (!o->have_top) {
		o->have_top = true;
		o->top = seq;
		o->window = 1;
	} else if (seq > o->top) {
		uint64_t shift = seq - o->top;

		o->window = shift >= VC_REPLAY_WINDOW ? 1 : (o->window << shift) | 1;
		o->top = seq;
	} else {
		o->window |= (uint64_t)1 << (o->top - seq);
	}
}

enum vc_reject vc_open(struct vc_opener *o, const uint8_t *unit, size_t len,
		       struct vc_buf *out, uint64_t *seq)
{
	uint8_t nonce[VC_MEDIA_IV_LEN], tag[VC_UNIT_TAG_LEN];
	struct vc_unit_header h;
	size_t unit_len;
	enum vc_reject r = vc_unit_header_parse(unit, len, &h, &unit_len);
	int n, fin, ok;

	if (r != VC_OK)
		return r;
	if (unit_len != len)
		return VC_REJ_MALFORMED;
	if (h.cipher != o->a.cipher)
		return VC_REJ_UNIT_VERSION;
	if (memcmp(h.session_id, o->a.session_id, VC_SESSION_ID_LEN) != 0)
		return VC_REJ_OTHER_SESSION;
	if (replay_seen(o, h.seq))
		return VC_REJ_REPLAY;
	if (vc_buf_reserve(out, h.payload_len ? h.payload_len : 1) < 0)
		return VC_REJ_MALFORMED;
	nonce_for(&o->a, h.seq, nonce);
	memcpy(tag, unit + VC_UNIT_HEADER_LEN + h.payload_len, VC_UNIT_TAG_LEN);
	ok = EVP_CipherInit_ex2(o->a.ctx, NULL, NULL, nonce, 0, NULL) == 1 &&
	     EVP_CipherUpdate(o->a.ctx, NULL, &n, unit, VC_UNIT_HEADER_LEN) == 1 &&
	     EVP_CipherUpdate(o->a.ctx, out->data, &n, unit + VC_UNIT_HEADER_LEN,
			      (int)h.payload_len) == 1 &&
	     EVP_CIPHER_CTX_ctrl(o->a.ctx, EVP_CTRL_AEAD_SET_TAG, VC_UNIT_TAG_LEN, tag) == 1 &&
	     EVP_CipherFinal_ex(o->a.ctx, out->data + n, &fin) == 1;
	if (!ok) {
		ERR_clear_error();
		out->len = 0;
		return VC_REJ_DECRYPT;
	}
	out->len = h.payload_len;
	replay_mark(o, h.seq);
	*seq = h.seq;
	return VC_OK;
}
