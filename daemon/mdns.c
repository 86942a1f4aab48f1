// SPDX-License-Identifier: GPL-2.0
/*
 * mdns.c - DNS-SD over mDNS through the local avahi-daemon: a camera in
 * pairing mode announces _veracam-pair._tcp with TXT "id=<key id>" and
 * "name=<camera name>" (never the code); `pair --discover` browses them.
 * Discovery is a hint only: anyone on the link can announce anything, so
 * the key id a hub pins comes from the QR/typed payload, never from here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/thread-watch.h>
#include <glib.h>

#include "clock.h"
#include "mdns.h"
#include "service.h"

struct mdns_announce {
	AvahiThreadedPoll *poll;
	AvahiClient *client;
	AvahiEntryGroup *group;
	char *name, *id;
	uint16_t port;
};

static void add_service(struct mdns_announce *a, AvahiClient *c)
{
	g_autofree char *txt_id = g_strdup_printf("id=%s", a->id);
	g_autofree char *txt_name = g_strdup_printf("name=%s", a->name);

	if (!a->group)
		a->group = avahi_entry_group_new(c, NULL, NULL);
	if (!a->group || !avahi_entry_group_is_empty(a->group))
		return;
	if (avahi_entry_group_add_service(a->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0,
					  a->name, MDNS_PAIR_TYPE, NULL, NULL, a->port, "v=2",
					  txt_id, txt_name, NULL) < 0 ||
	    avahi_entry_group_commit(a->group) < 0)
		fprintf(stderr, "veracamctl: mDNS: cannot announce: %s\n",
			avahi_strerror(avahi_client_errno(c)));
}

static void on_client(AvahiClient *c, AvahiClientState state, void *data)
{
	if (state == AVAHI_CLIENT_S_RUNNING)
		add_service(data, c);
}

struct mdns_announce *mdns_announce_start(const char *name, const char *key_id_hex,
					  uint16_t port, GError **error)
{
	struct mdns_announce *a = g_new0(struct mdns_announce, 1);
	int err = 0;

	a->name = g_strdup(name);
	a->id = g_strdup(key_id_hex);
	a->port = port;
	a->poll = avahi_threaded_poll_new();
	if (!a->poll) {
		g_set_error_literal(error, SVC_ERROR, SVC_ERROR_SYSTEM, "out of memory");
		goto fail;
	}
	avahi_threaded_poll_lock(a->poll);
	a->client = avahi_client_new(avahi_threaded_poll_get(a->poll), AVAHI_CLIENT_NO_FAIL,
				     on_client, a, &err);
	avahi_threaded_poll_unlock(a->poll);
	if (!a->client) {
		g_set_error_literal(error, SVC_ERROR, SVC_ERROR_SYSTEM, avahi_strerror(err));
		goto fail;
	}
	if (avahi_client_get_state(a->client) == AVAHI_CLIENT_CONNECTING) {
		g_set_error_literal(error, SVC_ERROR, SVC_ERROR_SYSTEM, "no avahi-daemon running");
		goto fail;
	}
	if (avahi_threaded_poll_start(a->poll) < 0) {
		g_set_error_literal(error, SVC_ERROR, SVC_ERROR_SYSTEM, "cannot start its thread");
		goto fail;
	}
	return a;
fail:
	mdns_announce_stop(a);
	return NULL;
}

void mdns_announce_stop(struct mdns_announce *a)
{
	if (!a)
		return;
	if (a->poll)
		avahi_threaded_poll_stop(a->poll);
	if (a->client)
		avahi_client_free(a->client);	/* frees the group: the service is withdrawn */
	if (a->poll)
		avahi_threaded_poll_free(a->poll);
	g_free(a->name);
	g_free(a->id);
	g_free(a);
}

/* ---------------------------------------------------------------- browse */

struct browse {
	AvahiSimplePoll *poll;
	AvahiClient *client;
	GPtrArray *found;	/* struct mdns_camera * */
	int resolving;
	bool all_for_now;
};

static void on_resolved(AvahiServiceResolver *r, AvahiIfIndex ifc, AvahiProtocol proto,
			AvahiResolverEvent event, const char *name, const char *type,
			const char *domain, const char *host, const AvahiAddress *addr,
			uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
			void *data)
{
	struct browse *b = data;

	(void)ifc; (void)proto; (void)type; (void)domain; (void)host; (void)flags;
	if (event == AVAHI_RESOLVER_FOUND) {
		struct mdns_camera *m = g_new0(struct mdns_camera, 1);
		AvahiStringList *s;

		snprintf(m->service, sizeof(m->service), "%s", name);
		avahi_address_snprint(m->host, sizeof(m->host), addr);
		m->port = port;
		for (s = txt; s; s = avahi_string_list_get_next(s)) {
			char *k = NULL, *v = NULL;

			if (avahi_string_list_get_pair(s, &k, &v, NULL) < 0)
				continue;
			if (v && !strcmp(k, "id"))
				snprintf(m->key_id, sizeof(m->key_id), "%s", v);
			else if (v && !strcmp(k, "name"))
				snprintf(m->name, sizeof(m->name), "%s", v);
			avahi_free(k);
			avahi_free(v);
		}
		g_ptr_array_add(b->found, m);
	}
	avahi_service_resolver_free(r);
	if (--b->resolving == 0 && b->all_for_now)
		avahi_simple_poll_quit(b->poll);
}

static void on_browse(AvahiServiceBrowser *sb, AvahiIfIndex ifc, AvahiProtocol proto,
		      AvahiBrowserEvent event, const char *name, const char *type,
		      const char *domain, AvahiLookupResultFlags flags, void *data)
{
	struct browse *b = data;

	(void)sb; (void)flags;
	if (event == AVAHI_BROWSER_NEW) {
		if (avahi_service_resolver_new(b->client, ifc, proto, name, type, domain,
					       AVAHI_PROTO_UNSPEC, 0, on_resolved, b))
			b->resolving++;
	} else if (event == AVAHI_BROWSER_ALL_FOR_NOW) {
		b->all_for_now = true;
		if (!b->resolving)
			avahi_simple_poll_quit(b->poll);
	} else if (event == AVAHI_BROWSER_FAILURE) {
		avahi_simple_poll_quit(b->poll);
	}
}

GPtrArray *mdns_browse(int timeout_ms, GError **error)
{
	struct browse b = { .found = g_ptr_array_new_with_free_func(g_free) };
	AvahiServiceBrowser *sb = NULL;
	const AvahiPoll *api;
	uint64_t end;
	int err = 0;

	b.poll = avahi_simple_poll_new();
	if (!b.poll) {
		g_set_error_literal(error, SVC_ERROR, SVC_ERROR_SYSTEM, "out of memory");
		goto fail;
	}
	api = avahi_simple_poll_get(b.poll);
	b.client = avahi_client_new(api, 0, NULL, NULL, &err);
	if (!b.client) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM,
			    "%s (is avahi-daemon running?)", avahi_strerror(err));
		goto fail;
	}
	sb = avahi_service_browser_new(b.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
				       MDNS_PAIR_TYPE, NULL, 0, on_browse, &b);
	if (!sb) {
		g_set_error_literal(error, SVC_ERROR, SVC_ERROR_SYSTEM,
				    avahi_strerror(avahi_client_errno(b.client)));
		goto fail;
	}
	end = clk_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	while (clk_mono_ns() < end) {
		if (avahi_simple_poll_iterate(b.poll, 100) != 0)
			break;	/* quit: all for now, every one resolved */
	}
	avahi_service_browser_free(sb);
	avahi_client_free(b.client);
	avahi_simple_poll_free(b.poll);
	return b.found;
fail:
	if (b.client)
		avahi_client_free(b.client);
	if (b.poll)
		avahi_simple_poll_free(b.poll);
	g_ptr_array_free(b.found, TRUE);
	return NULL;
}
