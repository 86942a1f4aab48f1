// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the hub's parser of the event store's listing
 * (store_list_parse, daemon/hub/storelist.c: nginx's JSON autoindex, from
 * an untrusted store through an untrusted cache) and of an envelope's name
 * (store_envelope_name). Whatever it accepts has at most the bounded
 * number of entries, each a NUL-terminated name within its bound; a name
 * taken as an envelope's gives back its number and event id.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_entry *e;
	size_t n;
	GError *err = NULL;

	if (store_list_parse((const char *)data, size, &e, &n, &err) == 0) {
		if (n > STORE_LIST_MAX_ENTRIES || (n && !e))
			abort();
		for (size_t i = 0; i < n; i++) {
			uint64_t num;
			uint8_t id[16];
			char again[STORE_NAME_MAX + 1];

			if (strnlen(e[i].name, sizeof(e[i].name)) > STORE_NAME_MAX)
				abort();
			if (store_envelope_name(e[i].name, &num, id)) {
				snprintf(again, sizeof(again), "%020" PRIu64 "-", num);
				for (int k = 0; k < 16; k++)
					snprintf(again + 21 + 2 * k, 3, "%02x", id[k]);
				strcat(again, ".env");
				if (strcmp(again, e[i].name))
					abort();
			}
		}
		if (err)
			abort();	/* set on success */
		free(e);
	} else if (!err || err->domain != STORE_ERROR || err->code != STORE_ERROR_LISTING ||
		   !err->message[0] || e || n) {
		abort();	/* refused without a listing error, or with a listing */
	}
	g_clear_error(&err);
	return 0;
}
