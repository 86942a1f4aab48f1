/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decproto - the messages between the hub and one camera's decoder child
 * (docs/PROTOCOL.md §16). One SOCK_SEQPACKET message each:
 *
 *   0 "VD"  2 version (1)  3 type  4 body length (4, little-endian)  8 body
 *
 * hub -> child
 *   AU       seq (8) total (4) offset (4) then up to DECPROTO_CHUNK bytes of
 *            the access unit; an AU of more is sent in several, in order
 *   RELEASE  slot (4): the hub is done with that picture slot
 *   FLUSH    empty: drop every queued unit and the decoder's state
 * child -> hub
 *   HELLO    flags (4) decoder element name (32, NUL-padded)
 *   FAIL     why the child could not start (1..200 bytes of text)
 *   PICTURE  slot (4) format (4) matrix (4) full range (4) width (4)
 *            height (4) seq (8) offset[3] (4 each) stride[3] (4 each)
 *
 * The hub trusts nothing the child says: hub_decproto_parse_child() takes a
 * message only when its length is exactly its type's, its slot exists and
 * each plane it names lies inside that slot of the shared memory.
 */
#ifndef VERACAM_HUB_DECPROTO_H
#define VERACAM_HUB_DECPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub_error.h"

#define DECPROTO_VERSION	1
#define DECPROTO_HDR		8
#define DECPROTO_CHUNK		(48 * 1024)	/* AU bytes per message */
#define DECPROTO_AU_MAX		(8u << 20)	/* the largest AU the child takes */
#define DECPROTO_MSG_MAX	(DECPROTO_HDR + 16 + DECPROTO_CHUNK)
#define DECPROTO_NAME_LEN	32
#define DECPROTO_FAIL_MAX	200
#define DECPROTO_MAX_W		4096
#define DECPROTO_MAX_H		2304
#define DECPROTO_MIN_DIM	16

/*
 * The picture slots: DECPROTO_SLOTS of DECPROTO_SLOT_SIZE in one memfd:
 * the decoder's output buffers (one being written, one in appsink's queue,
 * the hub's newest and the one on its display) and room to spare.
 */
#define DECPROTO_SLOTS		8
#define DECPROTO_SLOT_SIZE	((size_t)DECPROTO_MAX_W * DECPROTO_MAX_H * 3 / 2)

/* The decoder child's fixed descriptors, after exec. */
#define DECPROTO_SOCK_FD	3
#define DECPROTO_SHM_FD		4

/* HELLO flags */
#define DECPROTO_F_RLIMITS	1u	/* every rlimit was set */
#define DECPROTO_F_SECCOMP	2u	/* the filter is installed */

enum hub_decproto_type {
	DECPROTO_AU = 1,
	DECPROTO_RELEASE = 2,
	DECPROTO_FLUSH = 3,
	DECPROTO_HELLO = 16,
	DECPROTO_FAIL = 17,
	DECPROTO_PICTURE = 18,
};

#define DECPROTO_AU_FIXED	16
#define DECPROTO_RELEASE_LEN	4
#define DECPROTO_HELLO_LEN	(4 + DECPROTO_NAME_LEN)
#define DECPROTO_PICTURE_LEN	56

enum hub_decproto_format { DECPROTO_I420 = 0, DECPROTO_NV12 = 1 };

struct hub_decproto_picture {
	uint32_t slot;
	uint32_t format;		/* enum hub_decproto_format */
	uint32_t matrix;		/* 0 BT.601, 1 BT.709 */
	uint32_t full_range;		/* 0 or 1 */
	uint32_t width, height;
	uint64_t seq;
	uint32_t offset[3];		/* from the slot's start */
	uint32_t stride[3];
};

struct hub_decproto_msg {
	enum hub_decproto_type type;
	union {
		struct {
			uint32_t flags;
			char name[DECPROTO_NAME_LEN + 1];
		} hello;
		char fail[DECPROTO_FAIL_MAX + 1];
		struct hub_decproto_picture pic;
	};
};

/*
 * A message from the child, checked against the slots: 0 and @m filled,
 * or -EBADMSG (wrong magic, version, type, length or field) and
 * HUB_ERROR_PROTOCOL saying what.
 */
int hub_decproto_parse_child(const uint8_t *buf, size_t len, struct hub_decproto_msg *m,
			     GError **error);

/* The encoders: the message's length, written into @buf. */
size_t hub_decproto_put_picture(uint8_t buf[DECPROTO_HDR + DECPROTO_PICTURE_LEN],
				const struct hub_decproto_picture *p);
size_t hub_decproto_put_hello(uint8_t buf[DECPROTO_HDR + DECPROTO_HELLO_LEN], uint32_t flags,
			      const char *name);
size_t hub_decproto_put_fail(uint8_t buf[DECPROTO_HDR + DECPROTO_FAIL_MAX], const char *why);
size_t hub_decproto_put_release(uint8_t buf[DECPROTO_HDR + DECPROTO_RELEASE_LEN], uint32_t slot);
size_t hub_decproto_put_flush(uint8_t buf[DECPROTO_HDR]);
/* The AU message's header: DECPROTO_HDR + DECPROTO_AU_FIXED bytes; the chunk follows. */
size_t hub_decproto_put_au_head(uint8_t *buf, uint64_t seq, uint32_t total, uint32_t offset,
				uint32_t chunk);
void hub_decproto_put_hdr(uint8_t *buf, enum hub_decproto_type type, uint32_t body_len);

/* The header of any message: its type and body, or -EBADMSG. */
int hub_decproto_hdr(const uint8_t *buf, size_t len, uint8_t *type, const uint8_t **body,
		     size_t *body_len);

uint32_t hub_decproto_get32(const uint8_t *p);
uint64_t hub_decproto_get64(const uint8_t *p);

#endif
