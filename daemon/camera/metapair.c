// SPDX-License-Identifier: GPL-2.0-only
/*
 * metapair.c - give each video frame its record from the metadata node.
 *
 * The metadata node delivers one struct veracam_meta per frame with the
 * video buffer's sequence and timestamp. Both nodes are dequeued
 * separately, so records are held here until their frame shows up. A
 * record is attached only when sequence, timestamp and camera id all agree
 * with the frame; everything else is counted, never silently patched.
 */
#include <string.h>

#include "camera.h"

void cam_metapair_init(struct cam_metapair *mp,
		      const uint8_t unique_id[VERACAM_UNIQUE_ID_LEN])
{
	memset(mp, 0, sizeof(*mp));
	memcpy(mp->unique_id, unique_id, VERACAM_UNIQUE_ID_LEN);
}

/* a - b on the 32-bit sequence circle */
static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static void drop_first(struct cam_metapair *mp)
{
	memmove(&mp->pending[0], &mp->pending[1],
		(mp->n - 1) * sizeof(mp->pending[0]));
	mp->n--;
}

void cam_metapair_push(struct cam_metapair *mp, const void *data, size_t len)
{
	struct veracam_meta m;

	if (len < sizeof(m)) {
		mp->invalid++;
		return;
	}
	memcpy(&m, data, sizeof(m));
	if (m.magic != VERACAM_META_MAGIC || m.version != VERACAM_META_VERSION ||
	    m.size != sizeof(m)) {
		mp->invalid++;
		return;
	}

	if (mp->have_meta_seq) {
		int32_t d = seq_diff(m.sequence, mp->last_meta_seq);

		if (d <= 0) {
			/* a record going backwards is not this stream's */
			mp->invalid++;
			return;
		}
		mp->meta_lost += (uint64_t)(d - 1);
	}
	mp->have_meta_seq = true;
	mp->last_meta_seq = m.sequence;

	if (mp->n == CAM_METAPAIR_DEPTH) {
		drop_first(mp);
		mp->overflow++;
	}
	mp->pending[mp->n++] = m;
}

enum cam_pair_result cam_metapair_take(struct cam_metapair *mp, uint32_t sequence,
				     uint64_t timestamp_ns, struct veracam_meta *out)
{
	while (mp->n) {
		const struct veracam_meta *m = &mp->pending[0];
		int32_t d = seq_diff(m->sequence, sequence);

		if (d < 0) {
			/* its video frame was lost: counted on the video side */
			drop_first(mp);
			continue;
		}
		if (d > 0) {
			mp->missing++;
			return CAM_PAIR_MISSING;
		}
		/* the video buffer's timestamp is a timeval: compare in µs */
		if (m->soe_ns / 1000 != timestamp_ns / 1000 ||
		    memcmp(m->unique_id, mp->unique_id, VERACAM_UNIQUE_ID_LEN)) {
			mp->mismatched++;
			drop_first(mp);
			return CAM_PAIR_MISSING;
		}
		*out = *m;
		drop_first(mp);
		mp->paired++;
		return CAM_PAIR_FOUND;
	}
	return CAM_PAIR_WAIT;
}

void cam_metapair_give_up(struct cam_metapair *mp)
{
	mp->missing++;
}
