// SPDX-License-Identifier: GPL-2.0
/*
 * veracamd - the veracam daemon: `veracamd camera ...` or `veracamd hub ...`.
 *
 * main() parses the configuration through the service frame (a bad value
 * is one line and exit status 2; the hooks below let the camera's source
 * parser and the security core's name rule judge their own values), then
 * runs the role until SIGTERM.
 */
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <gst/gst.h>

#include <veracam/holder.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>

#include "camera.h"
#include "decode.h"
#include "display.h"
#include "veracamd.h"

static char *check_source(const char *value)
{
	struct cam_source src;
	GError *err = NULL;
	char *why;

	if (cam_source_parse(value, &src, &err))
		return NULL;
	why = g_strdup(err->message);
	g_error_free(err);
	return why;
}

static char *check_name(const char *value)
{
	if (vc_name_valid(value))
		return NULL;
	return g_strdup_printf("\"%s\" is not a valid name (letters, digits, '_', '.', '-'; "
			       "up to %d; not starting with '.' or '-')", value, VC_NAME_MAX);
}

static char *check_display(const char *value)
{
	if (hub_display_output_valid(value))
		return NULL;
	return g_strdup_printf("\"%s\": expected drm, drm:/dev/dri/cardN or y4m:PATH", value);
}

/* Log why the device key could not be had, with the fix. */
static void key_failed(const struct svc_config *cfg)
{
	g_autofree char *path = g_build_filename(cfg->keys_dir, VC_KEY_FILE, NULL);

	if (access(path, F_OK))
		svc_log(LOG_ERR, "device key: %s; make one with: veracamctl keygen %s",
			vc_last_error(), cfg->keys_dir);
	else
		svc_log(LOG_ERR, "device key: %s", vc_last_error());
}

struct vc_device_key *vd_load_key(const struct svc_config *cfg)
{
	struct vc_device_key *key = vc_key_load(cfg->keys_dir);

	if (!key)
		key_failed(cfg);
	return key;
}

struct vc_device_key *vd_spawn_key_holder(const struct svc_config *cfg, pid_t *pid)
{
	struct vc_device_key *key = vc_holder_spawn(cfg->keys_dir, pid);

	if (!key) {
		key_failed(cfg);
		return NULL;
	}
	svc_log(LOG_INFO, "key holder: pid %d holds the device key (seccomp, no network)",
		(int)*pid);
	return key;
}

void vd_socket_timeouts(int fd, unsigned int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int main(int argc, char **argv)
{
	static const struct svc_config_checks checks = {
		.source = check_source,
		.name = check_name,
		.display = check_display,
	};
	struct vc_device_key *key = NULL;
	struct svc_service s;
	pid_t holder = -1;
	int rc;

	/* a hub's decoder child (decode.h): exec'd by this program, nothing else */
	if (hub_decode_child_requested(argc, argv))
		decode_child_main();
	/* no core dump, no ptrace by our own user: secrets stay in this process */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	rc = svc_service_init(&s, argc, argv, &checks);
	if (rc >= 0)
		return rc;
	if (vc_secure_heap_init() < 0)
		svc_log(LOG_WARNING, "%s: secrets stay in the normal heap", vc_last_error());
	/*
	 * The camera's key holder is forked now, while this process is one
	 * thread and has nothing from the network open (docs/ARCHITECTURE.md
	 * "Key custody"); this process never reads the key.
	 */
	if (s.cfg.role == VC_ROLE_CAMERA && !(key = vd_spawn_key_holder(&s.cfg, &holder))) {
		svc_service_finish(&s);
		return SVC_EXIT_USAGE;
	}
	/* TLS writes to a peer that vanished must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	gst_init(NULL, NULL);
	rc = s.cfg.role == VC_ROLE_CAMERA ? camera_role_run(&s, key, holder) : hub_role_run(&s);
	svc_service_finish(&s);
	gst_deinit();
	return rc;
}
