// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "util.h"

int xlb_addr_parse(const char *s, struct xlb_addr *out)
{
	char buf[XLB_ADDR_STRLEN];
	size_t n = s ? strlen(s) : 0;

	memset(out, 0, sizeof(*out));
	if (!n || n >= sizeof(buf))
		return xlb_errf(-EINVAL, "invalid address '%s'", s ? s : "");
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return xlb_errf(-EINVAL, "invalid address '%s'", s);
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		if (inet_pton(AF_INET6, buf, out->a) != 1)
			return xlb_errf(-EINVAL, "invalid IPv6 address '%s'", s);
		out->family = XLB_AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->family = XLB_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = XLB_AF_INET6;
		return 0;
	}
	return xlb_errf(-EINVAL, "invalid address '%s'", s);
}

void xlb_prefix_mask(__u8 family, unsigned int plen, __be32 mask[4])
{
	unsigned int i, keep;

	for (i = 0; i < 4; i++) {
		keep = plen > i * 32 ? plen - i * 32 : 0;
		if (family == XLB_AF_INET && i)
			keep = 0;
		mask[i] = keep >= 32 ? 0xffffffff : htonl(keep ? ~0U << (32 - keep) : 0);
	}
}

/*
 * A prefix with host bits set past its length is refused rather than
 * masked: "10.1.2.3/8" is more likely a typo for a host than a wish for
 * the whole /8, and where prefixes decide who is trusted a guess is worse
 * than an error.
 */
int xlb_prefix_parse(const char *s, struct xlb_addr *out, unsigned int *plen)
{
	char buf[XLB_ADDR_STRLEN];
	const char *slash = s ? strrchr(s, '/') : NULL;
	__be32 mask[4];
	unsigned int max, i;
	__u32 len;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return xlb_errf(-EINVAL, "invalid prefix ''");
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(buf))
		return xlb_errf(-EINVAL, "invalid prefix '%s'", s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (xlb_addr_parse(buf, out))
		return xlb_errf(-EINVAL, "invalid prefix '%s': bad address", s);
	max = out->family == XLB_AF_INET ? 32 : 128;
	len = max;
	if (slash && xlb_parse_u32(slash + 1, 0, max, &len))
		return xlb_errf(-EINVAL, "invalid prefix '%s': length must be 0-%u",
				s, max);
	xlb_prefix_mask(out->family, len, mask);
	for (i = 0; i < 4; i++)
		if (out->a[i] & ~mask[i])
			return xlb_errf(-EINVAL,
					"invalid prefix '%s': address bits set past /%u",
					s, len);
	*plen = len;
	return 0;
}

int xlb_proto_parse(const char *s)
{
	if (!strcmp(s, "tcp"))
		return IPPROTO_TCP;
	if (!strcmp(s, "udp"))
		return IPPROTO_UDP;
	return xlb_errf(-EINVAL, "invalid protocol '%s' (want tcp or udp)", s);
}

const char *xlb_proto_name(__u8 proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

int xlb_vip_parse(const char *s, struct xlb_vip_key *k)
{
	char buf[XLB_VIP_STRLEN];
	char *slash, *colon, *host;
	struct xlb_addr a;
	__u32 port;
	int proto;

	memset(k, 0, sizeof(*k));
	if (!s || strlen(s) >= sizeof(buf))
		return xlb_errf(-EINVAL, "invalid VIP '%s' (want ADDR:PORT/PROTO)",
				s ? s : "");
	strcpy(buf, s);
	slash = strrchr(buf, '/');
	if (!slash)
		return xlb_errf(-EINVAL, "invalid VIP '%s': missing /PROTO", s);
	*slash = '\0';
	colon = strrchr(buf, ':');
	if (!colon || colon == buf)
		return xlb_errf(-EINVAL, "invalid VIP '%s': missing :PORT", s);
	*colon = '\0';
	host = buf;
	/* An IPv6 VIP needs brackets, or its last group reads as the port. */
	if (strchr(host, ':') && host[0] != '[')
		return xlb_errf(-EINVAL,
				"invalid VIP '%s': IPv6 address needs brackets", s);
	if (xlb_addr_parse(host, &a))
		return xlb_errf(-EINVAL, "invalid VIP '%s': bad address", s);
	if (xlb_parse_u32(colon + 1, 1, 65535, &port))
		return xlb_errf(-EINVAL, "invalid VIP '%s': port must be 1-65535",
				s);
	proto = xlb_proto_parse(slash + 1);
	if (proto < 0)
		return xlb_errf(-EINVAL, "invalid VIP '%s': protocol must be tcp or udp",
				s);
	memcpy(k->addr, a.a, sizeof(k->addr));
	k->family = a.family;
	k->port = htons((__u16)port);
	k->proto = (__u8)proto;
	return 0;
}

void xlb_addr_fmt(__u8 family, const __be32 *a, char *buf, size_t len)
{
	if (!inet_ntop(family == XLB_AF_INET ? AF_INET : AF_INET6, a, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

void xlb_vip_fmt(const struct xlb_vip_key *k, char *buf, size_t len)
{
	char a[XLB_ADDR_STRLEN];

	xlb_addr_fmt(k->family, k->addr, a, sizeof(a));
	if (k->family == XLB_AF_INET6)
		snprintf(buf, len, "[%s]:%u/%s", a, ntohs(k->port),
			 xlb_proto_name(k->proto));
	else
		snprintf(buf, len, "%s:%u/%s", a, ntohs(k->port),
			 xlb_proto_name(k->proto));
}

int xlb_addr_cmp(const struct xlb_addr *x, const struct xlb_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->a, y->a, sizeof(x->a));
}

/* The class that keeps a out of VIPs and backends, or NULL. */
static const char *addr_nonunicast(const struct xlb_addr *a)
{
	const __u8 *b = (const __u8 *)a->a;
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	size_t i;
	bool zero = true;

	if (a->family == XLB_AF_INET) {
		if (b[0] == 0)
			return a->a[0] ? "this-network (0.0.0.0/8)" : "unspecified";
		if (b[0] == 127)
			return "loopback";
		if (b[0] == 169 && b[1] == 254)
			return "link-local";
		if (b[0] >= 224 && b[0] < 240)
			return "multicast";
		if (a->a[0] == 0xffffffff)
			return "broadcast";
		return NULL;
	}
	for (i = 0; i < 15; i++)
		zero = zero && !b[i];
	if (zero && !b[15])
		return "unspecified";
	if (zero && b[15] == 1)
		return "loopback";
	if (b[0] == 0xff)
		return "multicast";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local";
	/* Never on the wire: an IPv4 peer is written as IPv4. */
	if (!memcmp(b, mapped, sizeof(mapped)))
		return "IPv4-mapped IPv6";
	return NULL;
}

int xlb_addr_check_unicast(const struct xlb_addr *a, const char *what)
{
	const char *cls = addr_nonunicast(a);
	char buf[XLB_ADDR_STRLEN];

	if (!cls)
		return 0;
	xlb_addr_fmt(a->family, a->a, buf, sizeof(buf));
	return xlb_errf(-EINVAL,
			"%s %s is a%s %s address: VIPs and backends must be unicast addresses other hosts can reach",
			what, buf, strchr("aeiouAEIOU", cls[0]) ? "n" : "", cls);
}

void xlb_addr_from_vip(const struct xlb_vip_key *k, struct xlb_addr *a)
{
	a->family = k->family;
	memcpy(a->a, k->addr, sizeof(a->a));
}
