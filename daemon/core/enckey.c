// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - a device's X25519 encryption key pair (enckey.h).
 * The private key lives only in its EVP_PKEY.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <veracam/enckey.h>
#include "internal.h"

static struct vc_enc_key *enc_wrap(EVP_PKEY *pkey)
{
	struct vc_enc_key *k;
	size_t len = VC_ENC_PUBKEY_LEN;

	if (!pkey) {
		vc_err_ssl("X25519 key");
		return NULL;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_X25519) {
		EVP_PKEY_free(pkey);
		vc_err("encryption key is not an X25519 key");
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		vc_err("out of memory");
		return NULL;
	}
	k->pkey = pkey;
	if (EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) != 1 || len != VC_ENC_PUBKEY_LEN) {
		vc_enc_key_free(k);
		vc_err_ssl("X25519 public key");
		return NULL;
	}
	return k;
}

struct vc_enc_key *vc_enc_key_wrap(EVP_PKEY *pkey)
{
	return enc_wrap(pkey);
}

struct vc_enc_key *vc_enc_key_generate(void)
{
	return enc_wrap(EVP_PKEY_Q_keygen(NULL, NULL, "X25519"));
}

struct vc_enc_key *vc_enc_key_from_raw(const uint8_t sk[VC_ENC_SECRET_LEN])
{
	return enc_wrap(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk,
						     VC_ENC_SECRET_LEN));
}

void vc_enc_key_free(struct vc_enc_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const uint8_t *vc_enc_key_public(const struct vc_enc_key *k)
{
	return k->pub;
}
