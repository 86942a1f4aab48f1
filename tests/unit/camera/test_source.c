// SPDX-License-Identifier: GPL-2.0-only
/* The --source string: every accepted form, and one clear line for each error. */
#include <string.h>

#include "camera.h"

static void parses(const char *str, enum cam_source_kind kind, const char *value)
{
	struct cam_source s;
	g_autoptr(GError) err = NULL;

	g_assert_true(cam_source_parse(str, &s, &err));
	g_assert_no_error(err);
	g_assert_cmpint(s.kind, ==, kind);
	g_assert_cmpstr(s.value, ==, value);
}

/* Refused with a one-line message that quotes the input and says @hint. */
static void refused(const char *str, const char *hint)
{
	struct cam_source s;
	g_autoptr(GError) err = NULL;

	g_assert_false(cam_source_parse(str, &s, &err));
	g_assert_error(err, CAM_ERROR, CAM_ERROR_SOURCE);
	g_assert_null(strchr(err->message, '\n'));
	if (str && *str)
		g_assert_nonnull(strstr(err->message, str));
	g_assert_nonnull(strstr(err->message, hint));
}

static void test_accepted(void)
{
	struct cam_source s;

	parses("pattern:d02020", CAM_SOURCE_PATTERN, "d02020");
	g_assert_true(cam_source_parse("pattern:20B030", &s, NULL));
	g_assert_cmphex(s.rgb, ==, 0x20b030);
	g_assert_cmpint(s.scene, ==, CAM_SCENE_SOLID);
	/* the scene: solid (the default, said or not) or moving; the colour stays */
	parses("pattern:3060c0,scene=moving", CAM_SOURCE_PATTERN, "3060c0");
	g_assert_true(cam_source_parse("pattern:3060c0,scene=moving", &s, NULL));
	g_assert_cmpint(s.scene, ==, CAM_SCENE_MOVING);
	g_assert_cmphex(s.rgb, ==, 0x3060c0);
	g_assert_true(cam_source_parse("pattern:3060c0,scene=solid", &s, NULL));
	g_assert_cmpint(s.scene, ==, CAM_SCENE_SOLID);
	/* ids compare lowercase, whatever case was typed */
	parses("v4l2:id=CA110001000000000000000000000001", CAM_SOURCE_V4L2_ID,
	       "ca110001000000000000000000000001");
	parses("v4l2:bus=platform:veracam.0", CAM_SOURCE_V4L2_BUS, "platform:veracam.0");
	parses("v4l2:bus=usb-0000:00:14.0-1", CAM_SOURCE_V4L2_BUS, "usb-0000:00:14.0-1");
	parses("v4l2:serial=SN 0042", CAM_SOURCE_V4L2_SERIAL, "SN 0042");
	parses("/dev/video0", CAM_SOURCE_V4L2_PATH, "/dev/video0");
}

static void test_refused(void)
{
	refused(NULL, "expected pattern:RRGGBB");
	refused("", "expected pattern:RRGGBB");
	refused("pattern:", "6 hex digits");
	refused("pattern:ff00", "6 hex digits");
	refused("pattern:gg0000", "6 hex digits");
	refused("pattern:ff00001", "6 hex digits");
	refused("pattern:ff0000;scene=moving", "6 hex digits");
	refused("pattern:,scene=moving", "6 hex digits");
	refused("pattern:ff0000,", "only ,scene=solid or ,scene=moving");
	refused("pattern:ff0000,moving", "only ,scene=solid or ,scene=moving");
	refused("pattern:ff0000,speed=8", "only ,scene=solid or ,scene=moving");
	refused("pattern:ff0000,scene=", "scene must be solid or moving");
	refused("pattern:ff0000,scene=ball", "scene must be solid or moving");
	refused("pattern:ff0000,scene=Moving", "scene must be solid or moving");
	refused("pattern:ff0000,scene=moving,scene=solid", "scene must be solid or moving");
	refused("v4l2:id=ca11", "32 hex digits");
	refused("v4l2:id=ca110001000000000000000000000001ff", "32 hex digits");
	refused("v4l2:id=zz110001000000000000000000000001", "32 hex digits");
	refused("v4l2:bus=", "empty bus_info");
	refused("v4l2:bus=0123456789012345678901234567890123", "at most 31");
	refused("v4l2:serial=", "empty serial");
	refused("v4l2:serial=a\tb", "printable");
	refused("video0", "not understood");
	refused("v4l2:video0", "not understood");
	refused("rtsp://camera/stream", "not understood");
}

/* Opening reports the same one line; a camera that is not there is named. */
static void test_open_errors(void)
{
	struct cam_capture_config cfg = { .source = "pattern:12345" };
	g_autoptr(GError) err = NULL;
	struct cam_capture *cap = cam_capture_open(&cfg, &err);

	g_assert_null(cap);
	g_assert_error(err, CAM_ERROR, CAM_ERROR_SOURCE);
	g_clear_error(&err);

	cfg.source = "v4l2:id=00000000000000000000000000000bad";
	cap = cam_capture_open(&cfg, &err);
	g_assert_null(cap);
	g_assert_error(err, CAM_ERROR, CAM_ERROR_NOT_FOUND);
	g_assert_null(strchr(err->message, '\n'));
	g_assert_nonnull(strstr(err->message, "v4l2:id=00000000000000000000000000000bad"));
	g_clear_error(&err);

	cfg.source = "/nonexistent/video7";
	cap = cam_capture_open(&cfg, &err);
	g_assert_null(cap);
	g_assert_error(err, CAM_ERROR, CAM_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(err->message, "/nonexistent/video7"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/camera/source/accepted", test_accepted);
	g_test_add_func("/camera/source/refused", test_refused);
	g_test_add_func("/camera/source/open-errors", test_open_errors);
	return g_test_run();
}
