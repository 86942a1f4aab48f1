// SPDX-License-Identifier: GPL-2.0-only
/*
 * source.c - parse the --source string that names a camera.
 *
 *   pattern:RRGGBB        GStreamer test source in that colour
 *   pattern:RRGGBB,scene=moving
 *                         the same with a moving scene behind the numbers
 *                         (scene=solid, the default, is the colour alone)
 *   v4l2:id=<32 hex>      veracam camera by its unique id
 *   v4l2:bus=<bus_info>   device by bus_info (media device or V4L2)
 *   v4l2:serial=<serial>  device by media device serial
 *   /dev/videoN           a node path, for convenience (the identity that
 *                         gets signed is still the stable one)
 */
#include <string.h>

#include "camera.h"

#define SOURCE_FORMS "pattern:RRGGBB[,scene=solid|moving], v4l2:id=<32 hex>, " \
		     "v4l2:bus=<bus_info>, " \
		     "v4l2:serial=<serial> or /dev/videoN"

G_DEFINE_QUARK(cam-error-quark, cam_error)

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isxdigit(s[i]))
			return false;
	return s[n] == '\0';
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isgraph(*s) && *s != ' ')
			return false;
	return true;
}

/* Value after "key=": non-empty, printable, shorter than @max. */
static bool take_value(const char *str, const char *what, const char *v,
		       size_t max, struct cam_source *out, GError **error)
{
	size_t n = strlen(v);

	if (n == 0) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE,
			    "source \"%s\": empty %s", str, what);
		return false;
	}
	if (n >= max || !printable(v)) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE,
			    "source \"%s\": %s must be printable and at most %zu characters",
			    str, what, max - 1);
		return false;
	}
	memcpy(out->value, v, n + 1);
	return true;
}

/* The scene after "pattern:RRGGBB": none (solid), ",scene=solid" or ",scene=moving". */
static bool parse_scene(const char *str, const char *opt, enum cam_pattern_scene *scene,
			GError **error)
{
	static const char *const names[] = {
		[CAM_SCENE_SOLID] = "solid", [CAM_SCENE_MOVING] = "moving",
	};

	*scene = CAM_SCENE_SOLID;
	if (!*opt)
		return true;
	if (!g_str_has_prefix(opt, ",scene=")) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE,
			    "source \"%s\": after the colour only ,scene=solid or "
			    ",scene=moving may follow", str);
		return false;
	}
	opt += strlen(",scene=");
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!strcmp(opt, names[i])) {
			*scene = (enum cam_pattern_scene)i;
			return true;
		}
	}
	g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE,
		    "source \"%s\": scene must be solid or moving", str);
	return false;
}

static bool parse_pattern(const char *str, const char *v, struct cam_source *out,
			  GError **error)
{
	const char *opt = v + strspn(v, "0123456789abcdefABCDEF");
	enum cam_pattern_scene scene;

	if (opt - v != 6 || (*opt && *opt != ',')) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE,
			    "source \"%s\": colour must be 6 hex digits RRGGBB", str);
		return false;
	}
	if (!parse_scene(str, opt, &scene, error))
		return false;
	out->kind = CAM_SOURCE_PATTERN;
	out->rgb = (uint32_t)g_ascii_strtoull(v, NULL, 16);
	out->scene = scene;
	memcpy(out->value, v, 6);
	out->value[6] = '\0';
	return true;
}

bool cam_source_parse(const char *str, struct cam_source *out, GError **error)
{
	const char *v;

	memset(out, 0, sizeof(*out));
	if (!str || !*str) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE,
			    "empty source; expected " SOURCE_FORMS);
		return false;
	}

	if (g_str_has_prefix(str, "pattern:"))
		return parse_pattern(str, str + strlen("pattern:"), out, error);

	if (g_str_has_prefix(str, "v4l2:id=")) {
		v = str + strlen("v4l2:id=");
		if (!all_hex(v, VERACAM_UNIQUE_ID_HEX_LEN)) {
			g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE,
				    "source \"%s\": id must be %d hex digits",
				    str, VERACAM_UNIQUE_ID_HEX_LEN);
			return false;
		}
		out->kind = CAM_SOURCE_V4L2_ID;
		for (size_t i = 0; i <= VERACAM_UNIQUE_ID_HEX_LEN; i++)
			out->value[i] = g_ascii_tolower(v[i]);
		return true;
	}

	if (g_str_has_prefix(str, "v4l2:bus=")) {
		out->kind = CAM_SOURCE_V4L2_BUS;
		/* struct v4l2_capability / media_device_info bus_info: 32 bytes */
		return take_value(str, "bus_info", str + strlen("v4l2:bus="), 32,
				  out, error);
	}

	if (g_str_has_prefix(str, "v4l2:serial=")) {
		out->kind = CAM_SOURCE_V4L2_SERIAL;
		/* struct media_device_info serial: 40 bytes */
		return take_value(str, "serial", str + strlen("v4l2:serial="), 40,
				  out, error);
	}

	if (str[0] == '/') {
		out->kind = CAM_SOURCE_V4L2_PATH;
		return take_value(str, "path", str, CAM_SOURCE_VALUE_MAX, out, error);
	}

	g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE,
		    "source \"%s\" not understood; expected " SOURCE_FORMS, str);
	return false;
}
