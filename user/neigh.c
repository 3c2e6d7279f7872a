// SPDX-License-Identifier: GPL-2.0
/*
 * neigh.c - have the kernel resolve a backend's neighbour entry. The data
 * path learns next hops from bpf_fib_lookup, which answers NO_NEIGH until
 * the kernel itself has talked to the address; an empty UDP datagram to
 * the discard port makes it resolve (ARP/ND) without any other effect.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "neigh.h"

void xlb_neigh_nudge(const struct xlb_addr *a)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr *sa = (struct sockaddr *)&s4;
	socklen_t len = sizeof(s4);
	int fd;

	if (a->family == XLB_AF_INET6) {
		memcpy(&s6.sin6_addr, a->a, 16);
		sa = (struct sockaddr *)&s6;
		len = sizeof(s6);
	} else {
		s4.sin_addr.s_addr = a->a[0];
	}
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* Best effort: no route or no answer is the data path's to count. */
	(void)sendto(fd, "", 0, MSG_DONTWAIT, sa, len);
	close(fd);
}
