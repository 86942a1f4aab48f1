/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdns.h - the pairing window announced over mDNS/DNS-SD (avahi), and
 * browsed by the hub (mdns.c). A hint only: never a key id to pin.
 */
#ifndef VERACAMCTL_MDNS_H
#define VERACAMCTL_MDNS_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define MDNS_PAIR_TYPE	"_veracam-pair._tcp"

struct mdns_announce;

/*
 * Announce NAME's window on PORT until stopped; NULL with error set if not
 * (SVC_ERROR_SYSTEM: veracamctl's nearest domain, service.h).
 */
struct mdns_announce *mdns_announce_start(const char *name, const char *key_id_hex,
					  uint16_t port, GError **error);
void mdns_announce_stop(struct mdns_announce *a);

struct mdns_camera {
	char service[64];	/* the announced instance name */
	char name[65];		/* TXT name= */
	char key_id[33];	/* TXT id=: to compare, never to trust */
	char host[64];		/* resolved address */
	uint16_t port;
};

/*
 * Cameras in pairing mode seen within timeout_ms; NULL with error set
 * (SVC_ERROR_SYSTEM) if no browse.
 */
GPtrArray *mdns_browse(int timeout_ms, GError **error);

#endif
