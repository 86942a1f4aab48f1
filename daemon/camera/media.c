// SPDX-License-Identifier: GPL-2.0-only
/*
 * media.c - the media controller graph: which metadata node belongs to a
 * video capture node. They are paired by entity links (both fed, through
 * data links, by the same sensor pipeline), never by device numbers.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/media.h>

#include "camera.h"

/*
 * MEDIA_LNK_FL_LINK_TYPE is (0xf << 28), which overflows int in the uapi
 * header; the same mask, unsigned.
 */
#define LINK_TYPE_MASK 0xf0000000u

static uint32_t link_type(const struct cam_graph_link *l)
{
	return l->flags & LINK_TYPE_MASK;
}

uint32_t cam_graph_intf_entity(const struct cam_graph *g, uint32_t intf_id)
{
	for (size_t i = 0; i < g->n_links; i++) {
		const struct cam_graph_link *l = &g->links[i];

		if (link_type(l) == MEDIA_LNK_FL_INTERFACE_LINK && l->source_id == intf_id)
			return l->sink_id;
	}
	return 0;
}

static const struct cam_graph_pad *find_pad(const struct cam_graph *g, uint32_t pad_id)
{
	for (size_t i = 0; i < g->n_pads; i++)
		if (g->pads[i].id == pad_id)
			return &g->pads[i];
	return NULL;
}

static uint32_t pad_entity(const struct cam_graph *g, uint32_t pad_id)
{
	const struct cam_graph_pad *p = find_pad(g, pad_id);

	return p ? p->entity_id : 0;
}

uint32_t cam_graph_upstream(const struct cam_graph *g, uint32_t entity,
			    uint32_t *pad_index)
{
	uint32_t sink_index;

	return cam_graph_upstream_link(g, entity, pad_index, &sink_index);
}

uint32_t cam_graph_upstream_link(const struct cam_graph *g, uint32_t entity,
				 uint32_t *pad_index, uint32_t *sink_index)
{
	for (size_t i = 0; i < g->n_links; i++) {
		const struct cam_graph_link *l = &g->links[i];
		const struct cam_graph_pad *src, *sink;

		if (link_type(l) != MEDIA_LNK_FL_DATA_LINK || !(l->flags & MEDIA_LNK_FL_ENABLED))
			continue;
		src = find_pad(g, l->source_id);
		sink = find_pad(g, l->sink_id);
		if (src && sink && sink->entity_id == entity) {
			*pad_index = src->index;
			*sink_index = sink->index;
			return src->entity_id;
		}
	}
	return 0;
}

uint32_t cam_graph_entity_intf(const struct cam_graph *g, uint32_t entity, uint32_t type)
{
	for (size_t i = 0; i < g->n_links; i++) {
		const struct cam_graph_link *l = &g->links[i];

		if (link_type(l) != MEDIA_LNK_FL_INTERFACE_LINK || l->sink_id != entity)
			continue;
		for (size_t k = 0; k < g->n_intfs; k++)
			if (g->intfs[k].id == l->source_id && g->intfs[k].type == type)
				return g->intfs[k].id;
	}
	return 0;
}

static bool in_set(const uint32_t *set, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

uint32_t cam_graph_meta_for_video(const struct cam_graph *g, uint32_t video_intf,
				 const uint32_t *meta_intfs, size_t n_meta,
				 bool *ambiguous)
{
	uint32_t start = cam_graph_intf_entity(g, video_intf);
	g_autofree uint32_t *comp = NULL;
	size_t n_comp = 0;
	uint32_t found = 0;
	bool grew = true;

	*ambiguous = false;
	if (!start)
		return 0;

	/* entities connected to the video entity through data links */
	comp = g_new(uint32_t, g->n_entities + 1);
	comp[n_comp++] = start;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < g->n_links; i++) {
			const struct cam_graph_link *l = &g->links[i];
			uint32_t a, b;

			if (link_type(l) != MEDIA_LNK_FL_DATA_LINK)
				continue;
			a = pad_entity(g, l->source_id);
			b = pad_entity(g, l->sink_id);
			if (!a || !b || n_comp > g->n_entities)
				continue;
			if (in_set(comp, n_comp, a) && !in_set(comp, n_comp, b)) {
				comp[n_comp++] = b;
				grew = true;
			} else if (in_set(comp, n_comp, b) && !in_set(comp, n_comp, a)) {
				comp[n_comp++] = a;
				grew = true;
			}
		}
	}
	if (n_comp == 1)
		return 0;	/* the video node is linked to nothing */

	for (size_t i = 0; i < n_meta; i++) {
		uint32_t e = cam_graph_intf_entity(g, meta_intfs[i]);

		if (!e || !in_set(comp, n_comp, e))
			continue;
		if (found) {
			*ambiguous = true;
			return 0;
		}
		found = meta_intfs[i];
	}
	return found;
}

void cam_graph_clear(struct cam_graph *g)
{
	g_free(g->entities);
	g_free(g->intfs);
	g_free(g->pads);
	g_free(g->links);
	memset(g, 0, sizeof(*g));
}

bool cam_graph_load(int media_fd, struct cam_graph *g, GError **error)
{
	memset(g, 0, sizeof(*g));

	for (int attempt = 0; attempt < 4; attempt++) {
		struct media_v2_topology t = { 0 };
		g_autofree struct media_v2_entity *ents = NULL;
		g_autofree struct media_v2_interface *intfs = NULL;
		g_autofree struct media_v2_pad *pads = NULL;
		g_autofree struct media_v2_link *links = NULL;
		uint64_t version;

		if (ioctl(media_fd, MEDIA_IOC_G_TOPOLOGY, &t) < 0)
			goto fail;
		version = t.topology_version;
		ents = g_new0(struct media_v2_entity, t.num_entities + 1);
		intfs = g_new0(struct media_v2_interface, t.num_interfaces + 1);
		pads = g_new0(struct media_v2_pad, t.num_pads + 1);
		links = g_new0(struct media_v2_link, t.num_links + 1);
		t.ptr_entities = (uintptr_t)ents;
		t.ptr_interfaces = (uintptr_t)intfs;
		t.ptr_pads = (uintptr_t)pads;
		t.ptr_links = (uintptr_t)links;
		if (ioctl(media_fd, MEDIA_IOC_G_TOPOLOGY, &t) < 0) {
			if (errno == ENOSPC)
				continue;	/* graph grew in between */
			goto fail;
		}
		if (t.topology_version != version)
			continue;

		g->n_entities = t.num_entities;
		g->entities = g_new0(struct cam_graph_entity, t.num_entities + 1);
		for (size_t i = 0; i < t.num_entities; i++)
			g->entities[i] = (struct cam_graph_entity){
				ents[i].id, ents[i].function };
		g->n_intfs = t.num_interfaces;
		g->intfs = g_new0(struct cam_graph_intf, t.num_interfaces + 1);
		for (size_t i = 0; i < t.num_interfaces; i++)
			g->intfs[i] = (struct cam_graph_intf){
				intfs[i].id, intfs[i].intf_type,
				intfs[i].devnode.major, intfs[i].devnode.minor };
		g->n_pads = t.num_pads;
		g->pads = g_new0(struct cam_graph_pad, t.num_pads + 1);
		for (size_t i = 0; i < t.num_pads; i++)
			g->pads[i] = (struct cam_graph_pad){
				pads[i].id, pads[i].entity_id, pads[i].flags, pads[i].index };
		g->n_links = t.num_links;
		g->links = g_new0(struct cam_graph_link, t.num_links + 1);
		for (size_t i = 0; i < t.num_links; i++)
			g->links[i] = (struct cam_graph_link){
				links[i].id, links[i].source_id, links[i].sink_id,
				links[i].flags };
		return true;
	}
	errno = EAGAIN;
fail:
	g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE,
		    "MEDIA_IOC_G_TOPOLOGY: %s", g_strerror(errno));
	return false;
}
