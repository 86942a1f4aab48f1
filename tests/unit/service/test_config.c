// SPDX-License-Identifier: GPL-2.0
/*
 * veracamd configuration: defaults, file + flag precedence, strict address
 * parsing, and for every kind of bad value: exactly one line naming the
 * flag or the file key, and exit status 2.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "service.h"

static char *tmpdir;
static char *keys;

static char *write_conf(const char *name, const char *text)
{
	char *path = g_build_filename(tmpdir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

/* The source hook as veracamd wires it to the camera's source parser;
 * here it knows one bad form, enough to see its reason reach the line. */
static char *check_source(const char *v)
{
	return g_str_has_prefix(v, "bogus:") ? g_strdup_printf("source \"%s\" not understood", v) : NULL;
}

static char *check_name(const char *v)
{
	return strchr(v, '/') ? g_strdup("names are [A-Za-z0-9_.-]") : NULL;
}

static const struct svc_config_checks checks = {
	.source = check_source, .name = check_name,
};

/* argv from a space-separated string (no quoting needed in these tests) */
static enum svc_config_result parse(const char *args, struct svc_config *cfg, char **err)
{
	char *line = g_strdup_printf("veracamd %s", args);
	gchar **argv = g_strsplit(line, " ", -1);
	enum svc_config_result r;

	r = svc_config_parse((int)g_strv_length(argv), argv, &checks, cfg, err);
	g_strfreev(argv);
	g_free(line);
	return r;
}

static void test_camera_defaults(void)
{
	struct svc_config cfg;
	char *err, *args = g_strdup_printf("camera --keys %s --source pattern:ff0000", keys);

	g_setenv("RUNTIME_DIRECTORY", "/run/veracam/camera:/run/other", TRUE);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_null(err);
	g_assert_cmpint(cfg.role, ==, VC_ROLE_CAMERA);
	g_assert_cmpstr(cfg.keys_dir, ==, keys);
	g_assert_cmpstr(cfg.camera.source, ==, "pattern:ff0000");
	g_assert_cmpstr(cfg.camera.name, ==, "camera");
	g_assert_cmpuint(cfg.camera.width, ==, 1280);
	g_assert_cmpuint(cfg.camera.height, ==, 720);
	g_assert_cmpuint(cfg.camera.fps, ==, 30);
	g_assert_cmpuint(cfg.camera.bitrate, ==, 2000000);
	g_assert_cmpuint(cfg.camera.idr_interval_ns, ==, 1000000000u);
	g_assert_cmpint(cfg.camera.encoder, ==, VC_ENCODER_AUTO);
	g_assert_cmpint(cfg.camera.transport, ==, SVC_TRANSPORT_AUTO);
	g_assert_cmpint(cfg.camera.listen.kind, ==, SVC_ADDR_IPV4);
	g_assert_cmpstr(cfg.camera.listen.host, ==, "0.0.0.0");
	g_assert_cmpuint(cfg.camera.listen.port, ==, 7000);
	g_assert_cmpuint(cfg.camera.freshness_ns, ==, 2000000000u);
	g_assert_cmpint(cfg.log_level, ==, LOG_INFO);
	g_assert_cmpstr(cfg.status_socket, ==, "/run/veracam/camera/status.sock");
	g_assert_null(cfg.config_file);
	svc_config_clear(&cfg);

	/* "error" and "warn", as people type them */
	g_free(args);
	args = g_strdup_printf("camera --keys %s --source pattern:ff0000 --log-level error", keys);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_cmpint(cfg.log_level, ==, LOG_ERR);
	svc_config_clear(&cfg);
	g_free(args);
	args = g_strdup_printf("camera --keys %s --source pattern:ff0000 --log-level warn", keys);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_cmpint(cfg.log_level, ==, LOG_WARNING);
	svc_config_clear(&cfg);

	g_unsetenv("RUNTIME_DIRECTORY");
	g_free(args);
	args = g_strdup_printf("camera --keys %s --source pattern:ff0000 --status-socket none", keys);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_null(cfg.status_socket);
	svc_config_clear(&cfg);
	g_free(args);
}

/*
 * By hand, with no systemd and no /run/veracam: the status socket goes to
 * $XDG_RUNTIME_DIR/veracam/ROLE; with neither, a one-line error that names
 * --status-socket; veracamctl's lookup finds what the daemon made.
 */
static void test_status_socket_by_hand(void)
{
	struct svc_config cfg;
	char *err = NULL, *args = g_strdup_printf("hub --keys %s --camera a@127.0.0.1:7000", keys);
	char *xdg = g_build_filename(g_get_tmp_dir(), "veracam-test-xdg-XXXXXX", NULL);
	char *found, *tried = NULL, *sock;
	g_autofree char *dir = NULL;
	g_autofree char *old_xdg = g_strdup(g_getenv("XDG_RUNTIME_DIR"));

	g_assert_nonnull(g_mkdtemp(xdg));
	g_unsetenv("RUNTIME_DIRECTORY");
	if (access("/run/veracam/hub", W_OK | X_OK) == 0) {
		g_test_skip("/run/veracam/hub exists and is writable here: the system place wins");
		goto out;
	}
	g_setenv("XDG_RUNTIME_DIR", xdg, TRUE);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	sock = g_strdup_printf("%s/veracam/hub/status.sock", xdg);
	g_assert_cmpstr(cfg.status_socket, ==, sock);
	svc_config_clear(&cfg);

	/* veracamctl: nothing there yet, so every place tried is named */
	found = svc_status_find(VC_ROLE_HUB, &tried);
	g_assert_null(found);
	g_assert_nonnull(strstr(tried, "/run/veracam/hub/status.sock"));
	g_assert_nonnull(strstr(tried, sock));
	g_free(tried);
	/* once the daemon's socket is there, it is found */
	dir = g_path_get_dirname(sock);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(sock, "", 0, NULL));
	found = svc_status_find(VC_ROLE_HUB, &tried);
	g_assert_cmpstr(found, ==, sock);
	g_assert_null(tried);
	g_free(found);
	g_free(sock);

	/* neither: refused at start, naming the way out */
	g_unsetenv("XDG_RUNTIME_DIR");
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_ERROR);
	g_assert_nonnull(strstr(err, "--status-socket"));
	g_assert_null(strchr(err, '\n'));
	g_free(err);
	g_setenv("XDG_RUNTIME_DIR", old_xdg, TRUE);
out:
	g_free(args);
	g_free(xdg);
}

static void test_precedence(void)
{
	struct svc_config cfg;
	char *err, *args;
	char *conf = write_conf("camera.conf",
		"# porch camera\n"
		"[camera]\n"
		"source=v4l2:id=00112233445566778899aabbccddeeff\n"
		"name=porch\n"
		"fps=15\n"
		"width=640\n"
		"height=480\n"
		"bitrate=800k\n"
		"listen=[::]:7100\n"
		"transport=tcp\n"
		"idr-interval=500ms\n"
		"status-socket=/tmp/file.sock\n");

	/* the file over the defaults, the flags over the file */
	args = g_strdup_printf("camera --config %s --keys %s --fps 25 --listen 127.0.0.1:7000 "
			       "--source pattern:00ff00", conf, keys);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_cmpstr(cfg.config_file, ==, conf);
	g_assert_cmpstr(cfg.camera.source, ==, "pattern:00ff00");	/* flag */
	g_assert_cmpuint(cfg.camera.fps, ==, 25);			/* flag */
	g_assert_cmpstr(cfg.camera.listen.host, ==, "127.0.0.1");	/* flag */
	g_assert_cmpstr(cfg.camera.name, ==, "porch");			/* file */
	g_assert_cmpuint(cfg.camera.width, ==, 640);			/* file */
	g_assert_cmpuint(cfg.camera.height, ==, 480);			/* file */
	g_assert_cmpuint(cfg.camera.bitrate, ==, 800000);		/* file */
	g_assert_cmpint(cfg.camera.transport, ==, SVC_TRANSPORT_TCP);	/* file */
	g_assert_cmpuint(cfg.camera.idr_interval_ns, ==, 500000000u);	/* file */
	g_assert_cmpstr(cfg.status_socket, ==, "/tmp/file.sock");	/* file */
	g_assert_cmpuint(cfg.camera.max_hubs, ==, 4);			/* default */
	g_assert_true(cfg.camera.motion);				/* default */
	g_assert_cmpuint(cfg.camera.motion_grid_w, ==, 64);		/* default */
	g_assert_cmpuint(cfg.camera.motion_grid_h, ==, 36);
	g_assert_cmpuint(cfg.camera.motion_threshold, ==, 16);		/* default */
	g_assert_cmpuint(cfg.camera.motion_area, ==, 2);		/* default */
	g_assert_cmpuint(cfg.camera.motion_hold_ns, ==, 2000000000u);	/* default */
	g_assert_true(cfg.camera.events);				/* default */
	g_assert_cmpuint(cfg.camera.event_pre_roll_ns, ==, 3000000000u);	/* default */
	g_assert_cmpuint(cfg.camera.event_post_roll_ns, ==, 5000000000u);	/* default */
	g_assert_cmpuint(cfg.camera.event_max_len_ns, ==, 60000000000u);	/* default */
	g_assert_null(cfg.camera.event_spool);				/* default: KEYS/events */
	g_assert_cmpuint(cfg.camera.event_spool_mib, ==, 256);		/* default */
	g_assert_null(cfg.camera.event_store);				/* default: no uploads */
	g_assert_cmpuint(cfg.camera.event_store_timeout_ns, ==, 10000000000u);	/* default */
	g_assert_cmpuint(cfg.camera.event_store_backoff_ns, ==, 30000000000u);	/* default */
	svc_config_clear(&cfg);
	g_free(args);

	/* the event store's URL */
	args = g_strdup_printf("camera --keys %s --source pattern:ff0000 --event-store "
			       "https://store.example.net/events/ --event-store-timeout 2s", keys);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_cmpstr(cfg.camera.event_store, ==, "https://store.example.net/events/");
	g_assert_cmpuint(cfg.camera.event_store_timeout_ns, ==, 2000000000u);
	svc_config_clear(&cfg);
	g_free(args);

	/* the file alone, a flag-only run, and the IPv6 listen address */
	args = g_strdup_printf("camera --config %s --keys %s", conf, keys);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_cmpuint(cfg.camera.fps, ==, 15);
	g_assert_cmpint(cfg.camera.listen.kind, ==, SVC_ADDR_IPV6);
	g_assert_cmpstr(cfg.camera.listen.host, ==, "::");
	g_assert_cmpuint(cfg.camera.listen.port, ==, 7100);
	svc_config_clear(&cfg);
	g_free(args);
	g_free(conf);
}

static void test_hub(void)
{
	struct svc_config cfg;
	char *err, *args;
	char *conf = write_conf("hub.conf",
		"[hub]\n"
		"keys=KEYS\n"
		"camera=porch@192.0.2.10:7000,source=id:ca11da0b00000000000000000000000b;"
		"garden@[2001:db8::7]:7001;side@relay.example.net:443,source=bus:usb-1\\;serial:X\n"
		"display=y4m:/tmp/out.y4m\n"
		"unavailable-timeout=500ms\n"
		"backoff-min=100ms\n"
		"backoff-max=10s\n"
		"backoff-jitter=25%\n");
	gchar *text;

	/* keys= in the file, pointing at the test's key directory */
	g_assert_true(g_file_get_contents(conf, &text, NULL, NULL));
	g_free(conf);
	{
		gchar **parts = g_strsplit(text, "KEYS", 2);
		gchar *fixed = g_strjoinv(keys, parts);

		conf = write_conf("hub.conf", fixed);
		g_free(fixed);
		g_strfreev(parts);
	}
	g_free(text);

	args = g_strdup_printf("hub --config %s", conf);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_cmpstr(cfg.keys_dir, ==, keys);
	g_assert_cmpuint(cfg.hub.n_cameras, ==, 3);
	g_assert_cmpstr(cfg.hub.cameras[0].name, ==, "porch");
	g_assert_cmpint(cfg.hub.cameras[0].addr.kind, ==, SVC_ADDR_IPV4);
	g_assert_cmpstr(cfg.hub.cameras[0].addr.host, ==, "192.0.2.10");
	g_assert_cmpuint(cfg.hub.cameras[0].addr.port, ==, 7000);
	/* pinned capture sources; an escaped ';' stays in the key file's list item */
	g_assert_cmpstr(cfg.hub.cameras[0].source, ==, "id:ca11da0b00000000000000000000000b");
	g_assert_null(cfg.hub.cameras[1].source);
	g_assert_cmpstr(cfg.hub.cameras[2].source, ==, "bus:usb-1;serial:X");
	g_assert_cmpstr(cfg.hub.cameras[1].name, ==, "garden");
	g_assert_cmpint(cfg.hub.cameras[1].addr.kind, ==, SVC_ADDR_IPV6);
	g_assert_cmpstr(cfg.hub.cameras[1].addr.host, ==, "2001:db8::7");
	g_assert_cmpuint(cfg.hub.cameras[1].addr.port, ==, 7001);
	g_assert_cmpint(cfg.hub.cameras[2].addr.kind, ==, SVC_ADDR_NAME);
	g_assert_cmpuint(cfg.hub.cameras[2].addr.port, ==, 443);
	g_assert_cmpint(cfg.hub.layout, ==, SVC_LAYOUT_GRID);	/* auto, 3 cameras */
	g_assert_cmpstr(cfg.hub.display, ==, "y4m:/tmp/out.y4m");
	g_assert_cmpuint(cfg.hub.unavailable_ns, ==, 500000000u);
	g_assert_cmpuint(cfg.hub.backoff_min_ns, ==, 100000000u);
	g_assert_cmpuint(cfg.hub.backoff_max_ns, ==, 10000000000u);
	g_assert_cmpuint(cfg.hub.backoff_jitter, ==, 25);
	g_assert_cmpuint(cfg.hub.freshness_ns, ==, 2000000000u);
	g_assert_cmpuint(cfg.hub.out_width, ==, 1280);
	g_assert_cmpuint(cfg.hub.out_height, ==, 720);
	svc_config_clear(&cfg);
	g_free(args);

	/* --camera flags replace the file's whole list */
	args = g_strdup_printf("hub --config %s --camera front@10.0.0.2:7000 --display drm "
			       "--output-size 640x360 --transport tcp", conf);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_cmpuint(cfg.hub.n_cameras, ==, 1);
	g_assert_cmpstr(cfg.hub.cameras[0].name, ==, "front");
	g_assert_null(cfg.hub.cameras[0].source);
	g_assert_cmpint(cfg.hub.layout, ==, SVC_LAYOUT_SINGLE);
	g_assert_cmpstr(cfg.hub.display, ==, "drm");
	g_assert_cmpuint(cfg.hub.out_width, ==, 640);
	g_assert_cmpuint(cfg.hub.out_height, ==, 360);
	g_assert_cmpint(cfg.hub.transport, ==, SVC_TRANSPORT_TCP);
	svc_config_clear(&cfg);
	g_free(args);
	g_free(conf);
}

/* ",source=" as a flag, up to the core's limit of 255 bytes */
static void test_source_pin(void)
{
	struct svc_config cfg;
	char *err, *args, *pin = g_strnfill(VC_SOURCE_MAX_LEN - 3, 'a');

	args = g_strdup_printf("hub --keys %s --camera front@[::1]:7000,source=bus:usb-1;serial:Y "
			       "--camera back@10.0.0.3:7001,source=id:%s", keys, pin);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_RUN);
	g_assert_cmpstr(cfg.hub.cameras[0].source, ==, "bus:usb-1;serial:Y");
	g_assert_cmpstr(cfg.hub.cameras[0].addr.host, ==, "::1");
	g_assert_cmpuint(strlen(cfg.hub.cameras[1].source), ==, VC_SOURCE_MAX_LEN);
	g_assert_cmpuint(cfg.hub.cameras[1].addr.port, ==, 7001);
	svc_config_clear(&cfg);
	g_free(args);

	args = g_strdup_printf("hub --keys %s --camera back@10.0.0.3:7001,source=id:a%s", keys, pin);
	g_assert_cmpint(parse(args, &cfg, &err), ==, SVC_CONFIG_ERROR);
	g_assert_nonnull(strstr(err, "source: longer than 255 bytes"));
	g_free(err);
	g_free(args);
	g_free(pin);
}

static void test_addresses(void)
{
	static const struct { const char *in; int kind; const char *host; unsigned int port; } good[] = {
		{ "192.0.2.1:7000", SVC_ADDR_IPV4, "192.0.2.1", 7000 },
		{ "[::1]:1", SVC_ADDR_IPV6, "::1", 1 },
		{ "[2001:db8::1:2]:65535", SVC_ADDR_IPV6, "2001:db8::1:2", 65535 },
		{ "cam-1.example.net:443", SVC_ADDR_NAME, "cam-1.example.net", 443 },
		{ "localhost:7000", SVC_ADDR_NAME, "localhost", 7000 },
	};
	static const char *const bad[] = {
		"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
		"192.0.2.1:07000", "192.0.2.1:+70", "192.0.2.1:7000 ", " 192.0.2.1:7000",
		"::1:7000", "[::1]7000", "[::1]:", "[1.2.3.4]:80", "[fe80::1%eth0]:80",
		"999.1.1.1:80", "1.2.3:80", "-cam:80", "cam-:80", "ca_m:80", "a..b:80",
		":80", "[]:80", "cam.example.:80",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		struct svc_addr a;
		GError *err = NULL;
		char text[SVC_ADDR_STR_MAX];

		g_assert_true(svc_addr_parse(good[i].in, &a, &err));
		g_assert_no_error(err);
		g_assert_cmpint(a.kind, ==, good[i].kind);
		g_assert_cmpstr(a.host, ==, good[i].host);
		g_assert_cmpuint(a.port, ==, good[i].port);
		svc_addr_format(&a, text);
		g_assert_cmpstr(text, ==, good[i].in);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct svc_addr a;
		GError *err = NULL;

		if (svc_addr_parse(bad[i], &a, &err))
			g_error("accepted bad address \"%s\"", bad[i]);
		g_assert_error(err, SVC_ERROR, SVC_ERROR_ADDRESS);
		g_assert_null(strchr(err->message, '\n'));
		g_error_free(err);
	}
}

/*
 * Every bad value: SVC_CONFIG_ERROR, and what veracamd prints is exactly
 * one line "veracamd: <where>: ..." with exit status 2.
 */
struct bad_case {
	const char *args;	/* after "veracamd"; KEYS and CONF are substituted */
	const char *conf;	/* file contents for CONF, or NULL */
	const char *expect;	/* the line starts with this (after "veracamd: ") */
	const char *mentions;	/* and contains this */
};

static const struct bad_case bad_cases[] = {
	{ "", NULL, "usage: veracamd camera|hub", NULL },
	{ "server --keys KEYS", NULL, "usage: veracamd camera|hub", NULL },
	{ "camera --source pattern:ff0000", NULL, "--keys is required", NULL },
	{ "camera --keys /nonexistent/keys --source pattern:ff0000", NULL, "--keys: ", "No such file" },
	{ "camera --keys CONF --source pattern:ff0000", "x", "--keys: ", "not a directory" },
	{ "camera --keys KEYS", NULL, "--source is required", NULL },
	{ "camera --keys KEYS --source bogus:1", NULL, "--source: ", "not understood" },
	{ "camera --keys KEYS --source pattern:ff0000 --name a/b", NULL, "--name: ", "[A-Za-z0-9_.-]" },
	{ "camera --keys KEYS --source pattern:ff0000 --fps 0", NULL, "--fps: ", "out of range (1..120)" },
	{ "camera --keys KEYS --source pattern:ff0000 --fps 121", NULL, "--fps: ", "out of range" },
	{ "camera --keys KEYS --source pattern:ff0000 --fps abc", NULL, "--fps: ", "not a whole number" },
	{ "camera --keys KEYS --source pattern:ff0000 --fps 030", NULL, "--fps: ", "not a whole number" },
	{ "camera --keys KEYS --source pattern:ff0000 --fps -1", NULL, "--fps: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --fps=", NULL, "--fps: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --width 641", NULL, "--width: ", "even" },
	{ "camera --keys KEYS --source pattern:ff0000 --height 8", NULL, "--height: ", "out of range" },
	{ "camera --keys KEYS --source pattern:ff0000 --bitrate 2G", NULL, "--bitrate: ", "bit rate" },
	{ "camera --keys KEYS --source pattern:ff0000 --bitrate 1k", NULL, "--bitrate: ", "out of range" },
	{ "camera --keys KEYS --source pattern:ff0000 --idr-interval 5", NULL, "--idr-interval: ", "duration" },
	{ "camera --keys KEYS --source pattern:ff0000 --idr-interval 2h", NULL, "--idr-interval: ", "duration" },
	{ "camera --keys KEYS --source pattern:ff0000 --idr-interval 61s", NULL, "--idr-interval: ", "out of range" },
	{ "camera --keys KEYS --source pattern:ff0000 --encoder nvenc", NULL, "--encoder: ", "auto, x264, v4l2" },
	/* levels above err would hide the fatal start-up errors; the choices are listed */
	{ "camera --keys KEYS --source pattern:ff0000 --log-level crit", NULL, "--log-level: ",
	  "err, warning, notice, info, debug" },
	{ "camera --keys KEYS --source pattern:ff0000 --transport quic", NULL, "--transport: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --listen 127.0.0.1", NULL, "--listen: ", "no port" },
	{ "camera --keys KEYS --source pattern:ff0000 --listen 127.0.0.1:0", NULL, "--listen: ", "port" },
	{ "camera --keys KEYS --source pattern:ff0000 --listen ::1:7000", NULL, "--listen: ", "[ADDRESS]:PORT" },
	{ "camera --keys KEYS --source pattern:ff0000 --listen 999.1.1.1:7000", NULL, "--listen: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --max-hubs 17", NULL, "--max-hubs: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --motion-area 0", NULL, "--motion-area: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --motion-grid 2x2", NULL, "--motion-grid: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --motion-threshold 256", NULL, "--motion-threshold: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --motion yes", NULL, "--motion: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --event-pre-roll 31s", NULL, "--event-pre-roll: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --event-max-length 500ms", NULL, "--event-max-length: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --event-spool spool", NULL, "--event-spool: ", "absolute" },
	{ "camera --keys KEYS --source pattern:ff0000 --event-spool-max 0", NULL, "--event-spool-max: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --event-store ftp://store/x", NULL, "--event-store: ", "http://" },
	{ "camera --keys KEYS --source pattern:ff0000 --event-store http://store/x?a=1", NULL, "--event-store: ", "no query" },
	{ "camera --keys KEYS --source pattern:ff0000 --event-store-timeout 0s", NULL, "--event-store-timeout: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --event-store-backoff-max 100ms", NULL, "--event-store-backoff-max: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --freshness 50ms", NULL, "--freshness: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --log-level chatty", NULL, "--log-level: ", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --status-socket run/s.sock", NULL, "--status-socket: ", "absolute" },
	{ "camera --keys KEYS --source pattern:ff0000 --fsp 3", NULL, "Unknown option --fsp", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --fps", NULL, "Missing argument for --fps", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --fps 1 --fps 2", NULL, "--fps given twice", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 stray", NULL, "unexpected argument \"stray\"", NULL },
	{ "camera --keys KEYS --source pattern:ff0000 --camera a@1.2.3.4:5", NULL, "Unknown option --camera", NULL },
	{ "camera --keys KEYS --config /nonexistent.conf", NULL, "--config /nonexistent.conf: ", "No such file" },
	{ "camera --keys KEYS --config CONF", "[camera]\nfps 30\n", "--config /", "not a key-value pair" },
	{ "camera --keys KEYS --config CONF", "[camera]\nsource=pattern:ff0000\nfps=fast\n", "CONF: [camera] fps: ", "not a whole number" },
	{ "camera --keys KEYS --config CONF", "[camera]\nsource=pattern:ff0000\nfsp=3\n", "CONF: [camera] unknown key \"fsp\"", NULL },
	{ "camera --keys KEYS --config CONF", "[camera]\nsource=pattern:ff0000\ndisplay=drm\n", "CONF: [camera] display: ", "hub option" },
	{ "camera --keys KEYS --config CONF", "[hub]\ncamera=a@1.2.3.4:5\n", "CONF: unknown group [hub]", NULL },
	{ "camera --keys KEYS --config CONF", "[camera]\nsource=pattern:ff0000\nname=a\\nb\n", "CONF: [camera] name: ", "control characters" },
	{ "camera --keys KEYS --config CONF", "[camera]\nsource=pattern:ff0000\nfps[de]=3\n", "CONF: [camera] unknown key", NULL },
	{ "camera --keys KEYS --config CONF", "[camera]\nsource=pattern:ff0000\nfps=1\\n2\n", "CONF: [camera] fps: ", "\"1\\x0a2\"" },
	{ "hub --keys KEYS", NULL, "no camera", NULL },
	{ "hub --keys KEYS --camera front", NULL, "--camera: ", "NAME@HOST:PORT" },
	{ "hub --keys KEYS --camera @10.0.0.1:7000", NULL, "--camera: ", "empty" },
	{ "hub --keys KEYS --camera a/b@10.0.0.1:7000", NULL, "--camera: ", "[A-Za-z0-9_.-]" },
	{ "hub --keys KEYS --camera front@10.0.0.1", NULL, "--camera: ", "no port" },
	{ "hub --keys KEYS --camera a@h:1 --camera a@h:2", NULL, "--camera: ", "given twice" },
	{ "hub --keys KEYS --camera a@h:1,source=", NULL, "--camera: ", "source: empty" },
	{ "hub --keys KEYS --camera a@h,source=id:ab", NULL, "--camera: ", "no port" },
	{ "hub --keys KEYS --camera a@h:1,src=id:ab", NULL, "--camera: ", NULL },
	{ "hub --keys KEYS --config CONF", "[hub]\ncamera=a@h:1,source=id:a\\tb\n",
	  "CONF: [hub] camera: ", "control characters" },
	{ "hub --keys KEYS --camera a@h:1 --camera b@h:1 --camera c@h:1 --camera d@h:1 --camera e@h:1",
	  NULL, "--camera: ", "at most 4" },
	{ "hub --keys KEYS --config CONF", "[hub]\ncamera=a@h:1;b@h\n", "CONF: [hub] camera: ", "no port" },
	{ "hub --keys KEYS --camera a@h:1 --camera b@h:2 --layout single", NULL, "--layout: ", "use grid" },
	{ "hub --keys KEYS --camera a@h:1 --layout tiles", NULL, "--layout: ", NULL },
	{ "hub --keys KEYS --camera a@h:1 --unavailable-timeout 2s", NULL, "--unavailable-timeout: ", "out of range" },
	{ "hub --keys KEYS --camera a@h:1 --backoff-jitter 101%", NULL, "--backoff-jitter: ", "out of range" },
	{ "hub --keys KEYS --camera a@h:1 --backoff-jitter half", NULL, "--backoff-jitter: ", NULL },
	{ "hub --keys KEYS --camera a@h:1 --kms-legacy yes", NULL, "--kms-legacy: ", "true or false" },
	{ "hub --keys KEYS --camera a@h:1 --output-size 641x480", NULL, "--output-size: ", "even" },
	{ "hub --keys KEYS --camera a@h:1 --output-size 640", NULL, "--output-size: ", "WIDTHxHEIGHT" },
	{ "hub --keys KEYS --camera a@h:1 --display", NULL, "Missing argument for --display", NULL },
	{ "hub --keys KEYS --camera a@h:1 --source pattern:ff0000", NULL, "Unknown option --source", NULL },
	/* the option the user set is the one named: here the file's backoff-max */
	{ "hub --keys KEYS --camera a@h:1 --config CONF", "[hub]\nbackoff-max=100ms\n",
	  "CONF: [hub] backoff-max: ", "longer than backoff-max" },
	{ "hub --keys KEYS --camera a@h:1 --backoff-min 2s --config CONF", "[hub]\nbackoff-max=1s\n",
	  "--backoff-min: ", "longer than backoff-max" },
};

static char *substitute(const char *s, const char *conf)
{
	gchar **a = g_strsplit(s, "KEYS", -1);
	gchar *t = g_strjoinv(keys, a);
	gchar **b = g_strsplit(t, "CONF", -1);
	gchar *u = g_strjoinv(conf, b);

	g_strfreev(a);
	g_strfreev(b);
	g_free(t);
	return u;
}

static void test_bad_values(void)
{
	char *conf = g_build_filename(tmpdir, "bad.conf", NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		char *args = substitute(c->args, conf);
		char *expect = substitute(c->expect, conf);
		struct svc_config cfg;
		char *err = NULL, *out = NULL, *errtext = NULL;
		size_t outlen = 0, errlen = 0;
		FILE *fout, *ferr;
		enum svc_config_result r;
		int status;

		unlink(conf);
		if (c->conf)
			g_assert_true(g_file_set_contents(conf, c->conf, -1, NULL));

		r = parse(args, &cfg, &err);
		if (r != SVC_CONFIG_ERROR)
			g_error("case %zu \"%s\": not rejected", i, c->args);
		g_assert_nonnull(err);
		if (!g_str_has_prefix(err, expect) || (c->mentions && !strstr(err, c->mentions)))
			g_error("case %zu \"%s\": got \"%s\", expected \"%s...%s\"",
				i, c->args, err, expect, c->mentions ? c->mentions : "");

		/* what veracamd prints and returns */
		fout = open_memstream(&out, &outlen);
		ferr = open_memstream(&errtext, &errlen);
		status = svc_config_report(r, err, fout, ferr);
		fclose(fout);
		fclose(ferr);
		g_assert_cmpint(status, ==, 2);
		g_assert_cmpuint(outlen, ==, 0);
		g_assert_true(g_str_has_prefix(errtext, "veracamd: "));
		if (strchr(errtext, '\n') != errtext + errlen - 1)
			g_error("case %zu: not exactly one line: \"%s\"", i, errtext);
		free(out);
		free(errtext);
		g_free(args);
		g_free(expect);
	}
	unlink(conf);
	g_free(conf);
}

static void test_help(void)
{
	struct svc_config cfg;
	char *err = NULL, *out = NULL, *errtext = NULL;
	size_t outlen, errlen;
	FILE *fout, *ferr;

	g_assert_cmpint(parse("hub --help", &cfg, &err), ==, SVC_CONFIG_HELP);
	g_assert_nonnull(strstr(err, "--camera=NAME@HOST:PORT"));
	g_assert_nonnull(strstr(err, "--unavailable-timeout"));
	g_assert_null(strstr(err, "--source"));
	fout = open_memstream(&out, &outlen);
	ferr = open_memstream(&errtext, &errlen);
	g_assert_cmpint(svc_config_report(SVC_CONFIG_HELP, err, fout, ferr), ==, 0);
	fclose(fout);
	fclose(ferr);
	g_assert_cmpuint(errlen, ==, 0);
	g_assert_nonnull(strstr(out, "--backoff-jitter"));
	free(out);
	free(errtext);

	g_assert_cmpint(parse("camera -h", &cfg, &err), ==, SVC_CONFIG_HELP);
	g_assert_nonnull(strstr(err, "--source"));
	g_free(err);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("svc-config-XXXXXX", NULL);
	keys = g_build_filename(tmpdir, "keys", NULL);
	g_assert_cmpint(g_mkdir(keys, 0700), ==, 0);
	/* every case has a place for its default status socket, whatever the machine */
	g_setenv("XDG_RUNTIME_DIR", tmpdir, TRUE);

	g_test_add_func("/config/camera-defaults", test_camera_defaults);
	g_test_add_func("/config/precedence", test_precedence);
	g_test_add_func("/config/status-socket-by-hand", test_status_socket_by_hand);
	g_test_add_func("/config/hub", test_hub);
	g_test_add_func("/config/source-pin", test_source_pin);
	g_test_add_func("/config/addresses", test_addresses);
	g_test_add_func("/config/bad-values", test_bad_values);
	g_test_add_func("/config/help", test_help);
	rc = g_test_run();

	for (const char *const *f = (const char *const[]){ "camera.conf", "hub.conf", NULL }; *f; f++) {
		char *path = g_build_filename(tmpdir, *f, NULL);

		g_remove(path);
		g_free(path);
	}
	g_rmdir(keys);
	g_rmdir(tmpdir);
	g_free(keys);
	g_free(tmpdir);
	return rc;
}
