/* SPDX-License-Identifier: GPL-2.0 */
/* veracam media transport - socket and epoll helpers shared by both ends. */
#ifndef VERACAM_NET_SOCK_H
#define VERACAM_NET_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Non-blocking, close-on-exec socket bound to addr (NULL: not bound); -1 + errno. */
int vcn_socket(int family, int type, const struct sockaddr *addr, socklen_t len);
/* Best-effort socket buffer sizing (the kernel caps it at [rw]mem_max). */
void vcn_sock_buffers(int fd, int rcv, int snd);
bool vcn_addr_equal(const struct sockaddr_storage *a, socklen_t alen,
		    const struct sockaddr_storage *b, socklen_t blen);
/* Set the port of an AF_INET/AF_INET6 address. */
void vcn_addr_set_port(struct sockaddr_storage *ss, uint16_t port);
/* Local port of a bound socket, 0 on failure. */
uint16_t vcn_sock_port(int fd);

int vcn_epoll_add(int ep, int fd, uint32_t events);
int vcn_epoll_mod(int ep, int fd, uint32_t events);
void vcn_epoll_del(int ep, int fd);

/* Milliseconds from now until deadline for poll(), rounded up; -1 for none. */
int vcn_timeout_ms(int64_t now_ns, int64_t deadline_ns);

#endif /* VERACAM_NET_SOCK_H */
