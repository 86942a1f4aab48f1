// SPDX-License-Identifier: GPL-2.0-only
/* Pairing a video node with its metadata node by media graph links. */
#include <string.h>

#include <linux/media.h>

#include "camera.h"

#define DATA (MEDIA_LNK_FL_DATA_LINK | MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE)
#define INTF (MEDIA_LNK_FL_INTERFACE_LINK | MEDIA_LNK_FL_ENABLED)

/*
 * Two cameras registered in one media device, ids chosen so that camera
 * B's nodes interleave with camera A's:
 *   A: sensor 1 -> receiver 2 -> video 3, receiver 2 -> meta 5
 *   B: sensor 11 -> video 13, sensor 11 -> meta 4
 *   a lone metadata entity 6 linked to nothing
 * interfaces: 100 -> 3, 101 -> 5, 102 -> 13, 103 -> 4, 104 -> 6, 105 -> 1 (subdev)
 */
static struct cam_graph_entity ents[] = {
	{ 1, MEDIA_ENT_F_CAM_SENSOR }, { 2, MEDIA_ENT_F_VID_IF_BRIDGE },
	{ 3, MEDIA_ENT_F_IO_V4L }, { 4, MEDIA_ENT_F_IO_V4L }, { 5, MEDIA_ENT_F_IO_V4L },
	{ 6, MEDIA_ENT_F_IO_V4L }, { 11, MEDIA_ENT_F_CAM_SENSOR }, { 13, MEDIA_ENT_F_IO_V4L },
};
static struct cam_graph_intf intfs[] = {
	{ 100, MEDIA_INTF_T_V4L_VIDEO, 81, 0 }, { 101, MEDIA_INTF_T_V4L_VIDEO, 81, 1 },
	{ 102, MEDIA_INTF_T_V4L_VIDEO, 81, 2 }, { 103, MEDIA_INTF_T_V4L_VIDEO, 81, 3 },
	{ 104, MEDIA_INTF_T_V4L_VIDEO, 81, 4 }, { 105, MEDIA_INTF_T_V4L_SUBDEV, 81, 5 },
};
static struct cam_graph_pad pads[] = {
	{ 201, 1, MEDIA_PAD_FL_SOURCE, 0 }, { 202, 2, MEDIA_PAD_FL_SINK, 0 },
	{ 203, 2, MEDIA_PAD_FL_SOURCE, 1 }, { 204, 2, MEDIA_PAD_FL_SOURCE, 2 },
	{ 205, 3, MEDIA_PAD_FL_SINK, 0 }, { 206, 5, MEDIA_PAD_FL_SINK, 0 },
	{ 211, 11, MEDIA_PAD_FL_SOURCE, 0 }, { 212, 11, MEDIA_PAD_FL_SOURCE, 1 },
	{ 213, 13, MEDIA_PAD_FL_SINK, 0 }, { 214, 4, MEDIA_PAD_FL_SINK, 0 },
	{ 216, 6, MEDIA_PAD_FL_SINK, 0 },
};
static struct cam_graph_link links[] = {
	{ 300, 201, 202, DATA }, { 301, 203, 205, DATA }, { 302, 204, 206, DATA },
	{ 303, 211, 213, DATA }, { 304, 212, 214, DATA },
	{ 310, 100, 3, INTF }, { 311, 101, 5, INTF }, { 312, 102, 13, INTF },
	{ 313, 103, 4, INTF }, { 314, 104, 6, INTF }, { 315, 105, 1, INTF },
};

static const struct cam_graph graph = {
	ents, G_N_ELEMENTS(ents), intfs, G_N_ELEMENTS(intfs),
	pads, G_N_ELEMENTS(pads), links, G_N_ELEMENTS(links),
};

static const uint32_t metas[] = { 101, 103, 104 };

static void test_interface_entity(void)
{
	g_assert_cmpuint(cam_graph_intf_entity(&graph, 100), ==, 3);
	g_assert_cmpuint(cam_graph_intf_entity(&graph, 105), ==, 1);
	g_assert_cmpuint(cam_graph_intf_entity(&graph, 999), ==, 0);
}

/* Each camera's video node gets its own camera's metadata node. */
static void test_pairs_by_links(void)
{
	bool amb;

	g_assert_cmpuint(cam_graph_meta_for_video(&graph, 100, metas, 3, &amb), ==, 101);
	g_assert_false(amb);
	g_assert_cmpuint(cam_graph_meta_for_video(&graph, 102, metas, 3, &amb), ==, 103);
	g_assert_false(amb);
}

/* No guessing: an unlinked metadata node is nobody's. */
static void test_unlinked(void)
{
	static const uint32_t lone[] = { 104 };
	bool amb;

	g_assert_cmpuint(cam_graph_meta_for_video(&graph, 100, lone, 1, &amb), ==, 0);
	g_assert_false(amb);
	/* and the lone node itself (linked to nothing) pairs with nothing */
	g_assert_cmpuint(cam_graph_meta_for_video(&graph, 104, metas, 3, &amb), ==, 0);
}

/* Two metadata nodes in one pipeline: refuse to choose. */
static void test_ambiguous(void)
{
	struct cam_graph_link more[G_N_ELEMENTS(links) + 1];
	struct cam_graph g = graph;
	bool amb;

	memcpy(more, links, sizeof(links));
	/* link the lone meta entity 6 into camera A's receiver */
	more[G_N_ELEMENTS(links)] = (struct cam_graph_link){ 320, 204, 216, DATA };
	g.links = more;
	g.n_links = G_N_ELEMENTS(more);
	g_assert_cmpuint(cam_graph_meta_for_video(&g, 100, metas, 3, &amb), ==, 0);
	g_assert_true(amb);
	/* camera B is unaffected */
	g_assert_cmpuint(cam_graph_meta_for_video(&g, 102, metas, 3, &amb), ==, 103);
}

/* The subdev whose format a MC-centric capture node must match. */
static void test_upstream(void)
{
	struct cam_graph_link off[G_N_ELEMENTS(links)];
	struct cam_graph g = graph;
	uint32_t pad = 99;

	g_assert_cmpuint(cam_graph_upstream(&graph, 3, &pad), ==, 2);
	g_assert_cmpuint(pad, ==, 1);
	g_assert_cmpuint(cam_graph_upstream(&graph, 5, &pad), ==, 2);
	g_assert_cmpuint(pad, ==, 2);
	g_assert_cmpuint(cam_graph_upstream(&graph, 2, &pad), ==, 1);
	g_assert_cmpuint(pad, ==, 0);
	g_assert_cmpuint(cam_graph_upstream(&graph, 13, &pad), ==, 11);
	g_assert_cmpuint(cam_graph_upstream(&graph, 1, &pad), ==, 0);
	g_assert_cmpuint(cam_graph_entity_intf(&graph, 1, MEDIA_INTF_T_V4L_SUBDEV), ==, 105);
	g_assert_cmpuint(cam_graph_entity_intf(&graph, 3, MEDIA_INTF_T_V4L_VIDEO), ==, 100);
	g_assert_cmpuint(cam_graph_entity_intf(&graph, 3, MEDIA_INTF_T_V4L_SUBDEV), ==, 0);

	/* a disabled link feeds nothing */
	memcpy(off, links, sizeof(links));
	off[1].flags &= ~(uint32_t)MEDIA_LNK_FL_ENABLED;
	g.links = off;
	g_assert_cmpuint(cam_graph_upstream(&g, 3, &pad), ==, 0);
}

/*
 * The pipeline a MC-centric capture node needs configured, hop by hop:
 * each link's source pad and the sink pad it feeds (the daemon sets the
 * sensor's source, then the receiver's sink, then its source).
 */
static void test_upstream_link(void)
{
	uint32_t pad = 99, sink = 99;

	g_assert_cmpuint(cam_graph_upstream_link(&graph, 5, &pad, &sink), ==, 2);
	g_assert_cmpuint(pad, ==, 2);
	g_assert_cmpuint(sink, ==, 0);
	g_assert_cmpuint(cam_graph_upstream_link(&graph, 2, &pad, &sink), ==, 1);
	g_assert_cmpuint(pad, ==, 0);
	g_assert_cmpuint(sink, ==, 0);
	/* the sensor is the end of the chain */
	pad = sink = 99;
	g_assert_cmpuint(cam_graph_upstream_link(&graph, 1, &pad, &sink), ==, 0);
	g_assert_cmpuint(pad, ==, 99);
	g_assert_cmpuint(sink, ==, 99);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/camera/graph/interface-entity", test_interface_entity);
	g_test_add_func("/camera/graph/pairs-by-links", test_pairs_by_links);
	g_test_add_func("/camera/graph/unlinked", test_unlinked);
	g_test_add_func("/camera/graph/ambiguous", test_ambiguous);
	g_test_add_func("/camera/graph/upstream", test_upstream);
	g_test_add_func("/camera/graph/upstream-link", test_upstream_link);
	return g_test_run();
}
