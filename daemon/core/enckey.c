// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - a device's X25519 encryption key pair (enckey.h).
 * The private key lives only in its EVP_PKEY.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <veracam/enckey.h>
#include <veracam/pairing.h>
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

void vc_hub_enc_format(const uint8_t enc_pub[VC_ENC_PUBKEY_LEN], const uint8_t sig[VC_SIG_LEN],
		       char *out)
{
	vc_enc_identity_format(enc_pub, out);
	out[VC_ENC_IDENTITY_LEN] = ' ';
	vc_hex(sig, VC_SIG_LEN, out + VC_ENC_IDENTITY_LEN + 1);
	out[VC_HUB_ENC_LINE_LEN] = '\n';
	out[VC_HUB_ENC_LINE_LEN + 1] = 0;
}

int vc_hub_enc_parse(const char *text, uint8_t enc_pub[VC_ENC_PUBKEY_LEN],
		     uint8_t sig[VC_SIG_LEN])
{
	char line[VC_ENC_IDENTITY_LEN + 1];
	size_t n = strlen(text);

	while (n && strchr(" \t\r\n", text[n - 1]))
		n--;
	if (n != VC_HUB_ENC_LINE_LEN || !strchr(" \t", text[VC_ENC_IDENTITY_LEN]))
		return vc_err("expected a hub's enc-binding line (veracam1:x25519:HEX SIGNATURE)");
	memcpy(line, text, VC_ENC_IDENTITY_LEN);
	line[VC_ENC_IDENTITY_LEN] = 0;
	if (vc_enc_identity_parse(line, enc_pub) < 0 ||
	    vc_unhex(text + VC_ENC_IDENTITY_LEN + 1, 2 * VC_SIG_LEN, sig) < 0)
		return vc_err("expected a hub's enc-binding line (veracam1:x25519:HEX SIGNATURE)");
	return 0;
}

/* The file's text, NUL-terminated; length or -1. */
static long hub_enc_read(const char *dir, const char *name, char *text, size_t cap)
{
	char hdir[4096], path[4200];
	long n;

	if (!vc_name_valid(name))
		return vc_err("invalid peer name '%s'", name);
	if (vc_key_subdir(dir, VC_HUB_ENC_DIR, hdir, sizeof(hdir), false) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", hdir, name);
	n = vc_read_small_file(path, text, cap - 1, true);
	if (n >= 0)
		text[n] = 0;
	return n;
}

int vc_hub_enc_store(const char *dir, const char *name, const uint8_t dev_pub[VC_PUBKEY_LEN],
		     const uint8_t enc_pub[VC_ENC_PUBKEY_LEN], const uint8_t sig[VC_SIG_LEN])
{
	char line[VC_HUB_ENC_LINE_LEN + 2], old[VC_HUB_ENC_LINE_LEN + 8], hdir[4096];

	if (!vc_name_valid(name))
		return vc_err("invalid peer name '%s'", name);
	if (!vc_enc_binding_verify(dev_pub, enc_pub, sig))
		return vc_err("the encryption key is not signed by the pinned hub's device key");
	vc_hub_enc_format(enc_pub, sig, line);
	if (hub_enc_read(dir, name, old, sizeof(old)) >= 0 && !strcmp(old, line))
		return 0;
	if (vc_key_subdir(dir, VC_HUB_ENC_DIR, hdir, sizeof(hdir), true) < 0 ||
	    vc_write_file_atomic(hdir, name, line, strlen(line), 0600, 0) < 0)
		return -1;
	return 1;
}

int vc_hub_enc_load(const char *dir, const char *name, const uint8_t dev_pub[VC_PUBKEY_LEN],
		    uint8_t enc_pub[VC_ENC_PUBKEY_LEN])
{
	char text[VC_HUB_ENC_LINE_LEN + 8];
	uint8_t sig[VC_SIG_LEN];

	if (hub_enc_read(dir, name, text, sizeof(text)) < 0 ||
	    vc_hub_enc_parse(text, enc_pub, sig) < 0)
		return -1;
	if (!vc_enc_binding_verify(dev_pub, enc_pub, sig))
		return vc_err("%s/%s/%s: not signed by the pinned hub's device key", dir,
			      VC_HUB_ENC_DIR, name);
	return 0;
}
