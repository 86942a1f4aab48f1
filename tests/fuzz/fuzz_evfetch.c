// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the event-fetch messages of the session (core/evfetch.c,
 * docs/PROTOCOL.md §5.7), from the untrusted peer of each side: the first
 * byte picks the parser (list request, object request, error, listing,
 * chunk, spool name), the rest is the body. Whatever a parser takes must
 * encode back to the same bytes, and respect its bounds: a listing's
 * entries rise from the number asked for, a chunk lies inside its object,
 * a spool name formats back to itself.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/evfetch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[VC_EVX_CHUNK_MAX_LEN];
	struct vc_evx_entry e[VC_EVX_LIST_MAX];
	struct vc_evx_chunk c;
	struct vc_evx_get g;
	enum vc_evx_error code;
	uint64_t from, number;
	uint8_t id[VC_EVENT_ID_LEN];
	unsigned int kind;
	const uint8_t *p = data + 1;
	size_t len = size ? size - 1 : 0, n;
	bool more;

	if (!size)
		return 0;
	switch (data[0] % 6) {
	case 0:
		if (vc_evx_list_parse(p, len, &from) == 0 &&
		    (vc_evx_list_encode(from, again) != len || memcmp(again, p, len)))
			abort();
		break;
	case 1:
		if (vc_evx_get_parse(p, len, &g) == 0 &&
		    (g.max < 1 || g.max > VC_EVX_CHUNK_MAX || !vc_evx_ext(g.kind) ||
		     vc_evx_get_encode(&g, again) != len || memcmp(again, p, len)))
			abort();
		break;
	case 2:
		if (vc_evx_error_parse(p, len, &code) == 0 &&
		    (vc_evx_error_encode(code, again) != len || memcmp(again, p, len)))
			abort();
		break;
	case 3:
		/* the number asked for: from the selector byte (0 .. 42) */
		from = data[0] / 6;
		if (vc_evx_listing_parse(p, len, from, e, &n, &more) == 0) {
			if (n > VC_EVX_LIST_MAX ||
			    vc_evx_listing_encode(e, n, more, again) != len || memcmp(again, p, len))
				abort();
			for (size_t i = 0; i < n; i++)
				if (e[i].number < from || (i && e[i].number <= e[i - 1].number) ||
				    e[i].size[VC_EVX_CLIP] < 1 || e[i].size[VC_EVX_ENV] < 1)
					abort();
		}
		break;
	case 4:
		if (vc_evx_chunk_parse(p, len, &c) == 0) {
			if (c.len < 1 || c.len > VC_EVX_CHUNK_MAX || c.offset >= c.total ||
			    c.len > c.total - c.offset ||
			    vc_evx_chunk_encode(&c, again) != len || memcmp(again, p, len))
				abort();
		}
		break;
	default: {
		char name[128], back[64];

		if (len >= sizeof(name))
			break;
		memcpy(name, p, len);
		name[len] = 0;
		if (vc_evx_name_parse(name, &number, id, &kind) &&
		    (vc_evx_name(number, id, kind, back) < 0 || strcmp(back, name)))
			abort();
		break;
	}
	}
	return 0;
}
