// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: every parser of recorded events (daemon/core/event.c),
 * the bytes a hub gets from a store or cache. The first input byte picks
 * the parser (mod 4): 0 an event frame record, 1 a manifest, 2 a sealed
 * event envelope, 3 an AU of a clip (its SEI, record and AU hash) checked
 * against a manifest of the vectors' camera. Records and manifests either are refused or encode back
 * to exactly the input, and their signature check runs; an envelope runs
 * through the whole open (manifest check, HPKE unwrap) for the hub of
 * tests/vectors/event-v1.txt and, when it opens, names that hub and the
 * vectors' camera.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/enckey.h>
#include <veracam/event.h>
#include <veracam/keys.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* camera_public and hub_key_id of tests/vectors (event-v1.txt, frame-v3.txt) */
static const uint8_t camera_pub[VC_PUBKEY_LEN] = {
	0x03, 0x60, 0xed, 0xf1, 0xa0, 0x7c, 0x29, 0x25, 0xdf, 0x03, 0xf7, 0x8d, 0xf4, 0x8e, 0x54, 0x5f,
	0x6d, 0x12, 0xf6, 0x4e, 0x76, 0xa0, 0x95, 0x7b, 0xd3, 0x8d, 0x08, 0x09, 0x2e, 0x1a, 0x04, 0xfe,
};
static const uint8_t hub_key_id[VC_KEY_ID_LEN] = {
	0x55, 0xc1, 0x48, 0x6b, 0x99, 0x0a, 0x38, 0x1d, 0x7c, 0x1e, 0xb6, 0x9f, 0x62, 0x02, 0x11, 0x91,
};

static const struct vc_enc_key *hub_enc(void)
{
	static struct vc_enc_key *k;
	uint8_t sk[VC_ENC_SECRET_LEN];

	if (!k) {
		for (int i = 0; i < VC_ENC_SECRET_LEN; i++)
			sk[i] = (uint8_t)(0x40 + i);
		k = vc_enc_key_from_raw(sk);
		if (!k)
			abort();
	}
	return k;
}

static void one_record(const uint8_t *p, size_t len)
{
	uint8_t enc[VC_EVREC_LEN];
	struct vc_event_record r;

	if (vc_event_record_parse(p, len, &r) != VC_EV_OK)
		return;
	vc_event_record_encode(&r, enc);
	if (len != VC_EVREC_LEN || memcmp(enc, p, len))
		abort();	/* a non-canonical encoding accepted */
	vc_event_record_verify(camera_pub, p, len);
}

static void one_manifest(const uint8_t *p, size_t len)
{
	uint8_t enc[VC_MANIFEST_MAX_LEN];
	struct vc_manifest m;
	int n;

	if (vc_manifest_parse(p, len, &m) != VC_EV_OK)
		return;
	n = vc_manifest_encode(&m, enc);
	if (n < 0 || (size_t)n != len || memcmp(enc, p, len))
		abort();
	vc_manifest_verify(p, len, camera_pub, NULL, hub_key_id, &m);
}

static void one_envelope(const uint8_t *p, size_t len)
{
	uint8_t man[VC_MANIFEST_MAX_LEN], ck[VC_CONTENT_KEY_LEN], id[VC_KEY_ID_LEN];
	enum vc_hpke_aead aead;
	struct vc_manifest m;
	size_t man_len = 0;
	size_t i;

	if (vc_envelope_open(p, len, camera_pub, NULL, hub_key_id, hub_enc(), &m, man, &man_len,
			     &aead, ck) != VC_EV_OK)
		return;
	if (man_len > VC_MANIFEST_MAX_LEN || vc_key_id_of(camera_pub, id) < 0 ||
	    memcmp(m.key_id, id, VC_KEY_ID_LEN))
		abort();
	for (i = 0; i < m.n_recipients && memcmp(m.recipients[i], hub_key_id, VC_KEY_ID_LEN); i++)
		;
	if (i == m.n_recipients)
		abort();
}

/* An AU against a one-frame manifest of the vectors' camera: never accepted. */
static void one_au(const uint8_t *p, size_t len)
{
	struct vc_clip_check c;
	struct vc_manifest m;

	memset(&m, 0, sizeof(m));
	m.n_recipients = 1;
	m.n_frames = 1;
	if (vc_key_id_of(camera_pub, m.key_id) < 0)
		abort();
	vc_clip_check_init(&c, &m, camera_pub);
	/* accepting one would take a signature of the vectors' camera over an all-zero event */
	if (vc_clip_check_au(&c, p, len, NULL) == VC_EV_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		one_record(data + 1, size - 1);
		break;
	case 1:
		one_manifest(data + 1, size - 1);
		break;
	case 2:
		one_envelope(data + 1, size - 1);
		break;
	default:
		one_au(data + 1, size - 1);
		break;
	}
	return 0;
}
