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

#include "service.h"

int camera_role_run(struct svc_service *s);
int hub_role_run(struct svc_service *s);

/*
 * Resolve an address for a stream or datagram socket (getaddrinfo: a host
 * name is resolved now; the first result wins). 0, or -1 and *why
 * (g_free).
 */
int vd_resolve(const struct svc_addr *a, int socktype, struct sockaddr_storage *ss,
	       socklen_t *len, char **why);

/* SO_RCVTIMEO and SO_SNDTIMEO of a blocking socket, in ms. */
void vd_socket_timeouts(int fd, unsigned int ms);

#endif /* VERACAMD_H */
