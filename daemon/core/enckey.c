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

int vc_enc_keygen(const char *dir)
{
	return vc_keygen_pem(dir, VC_ENC_KEY_FILE, "X25519");
}

struct vc_enc_key *vc_enc_key_load(const char *dir)
{
	EVP_PKEY *pkey = vc_load_pem(dir, VC_ENC_KEY_FILE);

	if (!pkey) {
		if (strstr(vc_last_error(), "No such file"))
			vc_err("%s/%s: no encryption key (make one with: veracamctl enc-keygen %s)",
			       dir, VC_ENC_KEY_FILE, dir);
		return NULL;
	}
	return enc_wrap(pkey);
}

void vc_enc_identity_format(const uint8_t pub[VC_ENC_PUBKEY_LEN], char *out)
{
	vc_keyline_format(VC_ENC_IDENTITY_PREFIX, pub, out);
}

int vc_enc_identity_parse(const char *line, uint8_t pub[VC_ENC_PUBKEY_LEN])
{
	return vc_keyline_parse(line, VC_ENC_IDENTITY_PREFIX, pub);
}

static const char binding_context[] = VC_ENC_BINDING_CONTEXT;	/* with its NUL */

#define BINDING_LEN	(sizeof(binding_context) + VC_PUBKEY_LEN + VC_ENC_PUBKEY_LEN)

static void binding_message(const uint8_t dev_pub[VC_PUBKEY_LEN],
			    const uint8_t enc_pub[VC_ENC_PUBKEY_LEN], uint8_t msg[BINDING_LEN])
{
	memcpy(msg, binding_context, sizeof(binding_context));
	memcpy(msg + sizeof(binding_context), dev_pub, VC_PUBKEY_LEN);
	memcpy(msg + sizeof(binding_context) + VC_PUBKEY_LEN, enc_pub, VC_ENC_PUBKEY_LEN);
}

int vc_enc_binding_sign(const struct vc_device_key *k, const uint8_t enc_pub[VC_ENC_PUBKEY_LEN],
			uint8_t sig[VC_SIG_LEN])
{
	uint8_t msg[BINDING_LEN];

	binding_message(vc_key_public(k), enc_pub, msg);
	return vc_ed25519_sign(k, msg, sizeof(msg), sig);
}

bool vc_enc_binding_verify(const uint8_t dev_pub[VC_PUBKEY_LEN],
			   const uint8_t enc_pub[VC_ENC_PUBKEY_LEN], const uint8_t sig[VC_SIG_LEN])
{
	uint8_t msg[BINDING_LEN];

	binding_message(dev_pub, enc_pub, msg);
	return vc_ed25519_verify(dev_pub, msg, sizeof(msg), sig);
}
