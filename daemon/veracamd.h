/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracamd - the two roles and what they share.
 *
 *	veracamd.c     main(): the service frame, then one role
 *	camera/role.c  capture -> timestamp -> encode -> sign -> seal -> send
 *	hub/role.c     receive -> open -> verify -> decode -> display
 *
 * Each role runs inside an initialised service frame (svc_service_init())
 * and returns the process exit status; main() releases the frame.
 */
#ifndef VERACAMD_H
#define VERACAMD_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "service.h"

struct vc_device_key;
/* key: the key holder's (vd_spawn_key_holder), owned from here on. */
int camera_role_run(struct svc_service *s, struct vc_device_key *key, pid_t holder);
int hub_role_run(struct svc_service *s);

/* SO_RCVTIMEO and SO_SNDTIMEO of a blocking socket, in ms. */
void vd_socket_timeouts(int fd, unsigned int ms);

/*
 * What a role's setup returns: 0, VD_RETRY for what may pass (an address
 * in use, a device not there yet: exit 1, systemd restarts the unit), or
 * VD_FATAL for what only the user can fix (no key, a key others can read,
 * an output that cannot be opened: exit 2, SVC_EXIT_USAGE, which the units
 * do not restart).
 */
#define VD_RETRY	(-1)
#define VD_FATAL	(-2)
#define VD_EXIT(setup_rc)	((setup_rc) == VD_FATAL ? SVC_EXIT_USAGE : 1)

/* The device key of cfg's key directory, or NULL, logged with the fix. */
struct vc_device_key *vd_load_key(const struct svc_config *cfg);
/*
 * The camera's key holder forked for cfg's key directory: the remote key
 * and the holder's pid, or NULL, logged with the fix.
 */
struct vc_device_key *vd_spawn_key_holder(const struct svc_config *cfg, pid_t *pid);

#endif /* VERACAMD_H */
