// SPDX-License-Identifier: GPL-2.0
/* mac.c - HMAC-SHA256/128 through OpenSSL 3's EVP_MAC (see mac.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mac.h"

struct vcn_mac {
	EVP_MAC_CTX *ctx;
};

struct vcn_mac *vcn_mac_new(const uint8_t key[VCN_KEY_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	struct vcn_mac *m = calloc(1, sizeof(*m));
	EVP_MAC *hmac;

	if (!m)
		return NULL;
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	m->ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	EVP_MAC_free(hmac);	/* the context holds its own reference */
	if (!m->ctx || !EVP_MAC_init(m->ctx, key, VCN_KEY_LEN, params)) {
		vcn_mac_free(m);
		return NULL;
	}
	return m;
}

void vcn_mac_free(struct vcn_mac *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->ctx);
	free(m);
}

int vcn_mac_tag(struct vcn_mac *m, const uint8_t *msg, size_t len, uint8_t tag[VCN_TAG_LEN])
{
	uint8_t full[32];
	size_t n = 0;
	int ok;

	/* no key: start again from the key state set by vcn_mac_new() */
	ok = EVP_MAC_init(m->ctx, NULL, 0, NULL) && EVP_MAC_update(m->ctx, msg, len) &&
	     EVP_MAC_final(m->ctx, full, &n, sizeof(full)) && n == sizeof(full);
	if (ok)
		memcpy(tag, full, VCN_TAG_LEN);
	else
		memset(tag, 0, VCN_TAG_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	return ok ? 0 : -1;
}

bool vcn_mac_check(struct vcn_mac *m, const uint8_t *msg, size_t len,
		   const uint8_t tag[VCN_TAG_LEN])
{
	uint8_t want[VCN_TAG_LEN];
	bool ok;

	ok = vcn_mac_tag(m, msg, len, want) == 0 && CRYPTO_memcmp(want, tag, VCN_TAG_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}
