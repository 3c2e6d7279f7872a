// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_attach.c - attach and detach the load balancer and the backends'
 * decap program. Attachment goes through libxdp: where the kernel allows
 * its dispatcher, xlb shares the interface with other XDP programs; where
 * it does not (freplace unavailable), libxdp falls back to owning the
 * interface's single XDP slot, and xlb refuses to displace a program it
 * does not own. The attachment outlives the command (netlink attach).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "cli.h"
#include "host.h"
#include "neigh.h"
#include "util.h"
#include "xlb.skel.h"
#include "decap.skel.h"

#define XLB_PROG_NAME "xlb_main"
#define DECAP_PROG_NAME "xlb_decap"

#define TCP_TIMEOUT_NS (300ULL * 1000000000ULL)
#define UDP_TIMEOUT_NS (30ULL * 1000000000ULL)
#define NEXTHOP_TTL_NS (1ULL * 1000000000ULL)

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? "generic" : "native";
}

/*
 * The name of the program owning DEV's XDP hook ("" when none) and the
 * mode it is attached in.
 */
static int xdp_owner(int ifindex, char *name, size_t len, bool *multi,
		     enum xdp_attach_mode *mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	long err = libxdp_get_error(mp);

	name[0] = '\0';
	*multi = false;
	if (err || !mp)
		return err == -ENOENT || !mp ? 0 : (int)err;
	*mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p)
			snprintf(name, len, "%s", xdp_program__name(p));
	} else {
		*multi = true;
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp))
			if (!strcmp(xdp_program__name(p), XLB_PROG_NAME) ||
			    !strcmp(xdp_program__name(p), DECAP_PROG_NAME))
				snprintf(name, len, "%s", xdp_program__name(p));
		if (!name[0])
			snprintf(name, len, "libxdp dispatcher");
	}
	xdp_multiprog__close(mp);
	return 0;
}

/*
 * What an attach did, with -j as one object: the device, the mode in use,
 * whether the program was there already; extra (may be NULL) adds fields.
 */
static void attach_json(struct xlb_ctx *c, const char *dev, const char *mode,
			bool already, struct json_object *extra)
{
	struct json_object *o = extra ? extra : json_object_new_object();

	json_object_object_add(o, "dev", json_object_new_string(dev));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "already_attached",
			       json_object_new_boolean(already));
	xlb_json_print(c, o);
}

/*
 * Before attaching prog to dev (*ifindex set): -1 to go on, 0 when prog
 * is there already (in *mode), or exit code 1 when another program owns
 * the hook (and no dispatcher lets them share it).
 */
static int attach_probe(struct xlb_ctx *c, const char *dev, const char *prog,
			int *ifindex, enum xdp_attach_mode *mode)
{
	char owner[64];
	bool multi;
	int err;

	*ifindex = (int)if_nametoindex(dev);
	if (!*ifindex)
		return xlb_fail(c, XLB_EXIT_FAIL, "no interface '%s'", dev);
	err = xdp_owner(*ifindex, owner, sizeof(owner), &multi, mode);
	if (err)
		return xlb_fail(c, XLB_EXIT_FAIL, "can't query XDP on %s: %s", dev,
				strerror(-err));
	if (!strcmp(owner, prog))
		return 0;
	if (owner[0] && !multi)
		return xlb_fail(c, XLB_EXIT_FAIL,
				"%s already has an XDP program (%s); detach it first",
				dev, owner);
	return -1;
}

/* Attaching over prog itself is a no-op, reported like an attach. */
static int attach_already(struct xlb_ctx *c, const char *dev, const char *prog,
			  enum xdp_attach_mode mode)
{
	if (c->quiet)
		return XLB_EXIT_OK;
	if (c->json)
		attach_json(c, dev, mode_name(mode), true, NULL);
	else
		fprintf(stderr, "xlb: %s already attached to %s (%s mode)\n", prog,
			dev, mode_name(mode));
	return XLB_EXIT_OK;
}

/*
 * xlb is attached already: a --seed, --src4, --src6 or --flows given must
 * be what the maps hold. The running program reads them on every packet,
 * so they are set when attaching, not edited under it.
 */
static int attach_same_config(struct xlb_ctx *c, const char *dev,
			      const __u64 *seed, const struct xlb_addr *src4,
			      const struct xlb_addr *src6, __u32 flow_sets)
{
	struct xlb_config cfg;
	struct xlb_maps m;
	const char *what = NULL;
	int err;

	err = xlb_maps_open_ro(c->pin_dir, &m);
	if (err)
		return xlb_fail_rc(c, err);
	err = xlb_config_read(&m, &cfg);
	xlb_maps_close(&m);
	if (err)
		return xlb_fail_rc(c, err);
	if (seed && memcmp(cfg.seed, seed, sizeof(cfg.seed)))
		what = "--seed";
	else if (src4 && cfg.src4 != src4->a[0])
		what = "--src4";
	else if (src6 && memcmp(cfg.src6, src6->a, sizeof(cfg.src6)))
		what = "--src6";
	else if (flow_sets && cfg.flow_sets != flow_sets)
		what = "--flows";
	if (what)
		return xlb_fail(c, XLB_EXIT_FAIL,
				"xlb is attached to %s with another %s value; "
				"it applies when attaching (detach first)",
				dev, what + 2);
	return 0;
}

static int parse_mode(struct xlb_ctx *c, const char *s, enum xdp_attach_mode *m)
{
	if (!strcmp(s, "native"))
		*m = XDP_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*m = XDP_MODE_SKB;
	else
		return xlb_usage(c, "invalid mode '%s' (want native or generic)", s);
	return 0;
}

/* Attaches prog_fd in mode; unspecified mode tries native, then generic. */
static int attach_fd(int prog_fd, int ifindex, enum xdp_attach_mode mode,
		     bool mode_given, const char **used)
{
	struct xdp_program *p = xdp_program__from_fd(prog_fd);
	int err;

	err = (int)libxdp_get_error(p);
	if (err)
		return xlb_errf(err, "can't wrap the program for libxdp: %s",
				strerror(-err));
	/* libxdp first tries its dispatcher; where the kernel refuses it the
	 * load failure is expected noise, so libbpf warnings stay quiet. */
	xlb_quiet_libbpf = !xlb_verbose;
	err = xdp_program__attach(p, ifindex, mode, 0);
	if (err && !mode_given) {
		mode = XDP_MODE_SKB;
		err = xdp_program__attach(p, ifindex, mode, 0);
	}
	xlb_quiet_libbpf = 0;
	xdp_program__close(p);
	if (err == -EOPNOTSUPP && mode == XDP_MODE_NATIVE)
		return xlb_errf(err, "can't attach in native mode: the driver "
				     "has no native XDP (try --mode generic)");
	if (err)
		return xlb_errf(err, "can't attach in %s mode: %s",
				mode_name(mode), strerror(-err));
	*used = mode_name(mode);
	return 0;
}

/*
 * The program forwards only frames to dev's own MAC (xlb.h, struct
 * xlb_dev): written into the loaded program's .bss before it is attached.
 * A later change of the device's MAC needs a detach and attach.
 */
static int dev_mac(const char *dev, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (strlen(dev) >= sizeof(ifr.ifr_name))
		return xlb_errf(-EINVAL, "device name too long: %s", dev);
	strcpy(ifr.ifr_name, dev);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xlb_errf(-errno, "can't open a socket: %s", strerror(errno));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = xlb_errf(-errno, "can't read %s's MAC address: %s", dev,
			       strerror(errno));
	else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		err = xlb_errf(-EOPNOTSUPP, "%s is not an Ethernet device", dev);
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* Up to max global addresses of dev per family (getifaddrs, netns-aware). */
static int dev_addrs(const char *dev, __be32 *v4, __u32 *n4, __be32 (*v6)[4],
		     __u32 *n6, __u32 max)
{
	struct ifaddrs *ifa, *i;

	*n4 = *n6 = 0;
	if (getifaddrs(&ifa))
		return xlb_errf(-errno, "can't list addresses: %s", strerror(errno));
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, dev))
			continue;
		if (i->ifa_addr->sa_family == AF_INET && *n4 < max) {
			v4[(*n4)++] = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6 && *n6 < max) {
			struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a))
				continue;
			memcpy(v6[(*n6)++], a, 16);
		}
	}
	freeifaddrs(ifa);
	return 0;
}

int cmd_attach(struct xlb_ctx *c, int argc, char **argv)
{
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	const char *dev = NULL, *seed_s = NULL, *src4_s = NULL, *src6_s = NULL;
	const char *flows_s = NULL;
	__u32 flows = 0;
	const char *used = NULL;
	enum xdp_attach_mode cur = XDP_MODE_NATIVE;
	struct xlb_addr src4 = { 0 }, src6 = { 0 };
	__u64 seed[2];
	bool mode_given = false;
	struct xlb_bpf *skel = NULL;
	struct xlb_config cfg;
	__u32 zero = 0, n4, n6;
	__be32 a4[1], a6[1][4];
	struct xlb_seen seen = { 0 };
	int ifindex, err, i, rc;

	for (i = 0; i < argc; i++) {
		const char *v;

		if (!strcmp(argv[i], "--mode") || !strcmp(argv[i], "--seed") ||
		    !strcmp(argv[i], "--src4") || !strcmp(argv[i], "--src6") ||
		    !strcmp(argv[i], "--flows")) {
			if (xlb_opt_once(&seen, argv[i]))
				return xlb_usage(c, "attach: %s", xlb_errmsg());
			v = xlb_opt_value(argc, argv, &i);
			if (!v)
				return xlb_usage(c, "%s needs a value", argv[i]);
			if (!strcmp(argv[i - 1], "--mode")) {
				if (parse_mode(c, v, &mode))
					return XLB_EXIT_USAGE;
				mode_given = true;
			} else if (!strcmp(argv[i - 1], "--seed")) {
				seed_s = v;
			} else if (!strcmp(argv[i - 1], "--src4")) {
				src4_s = v;
			} else if (!strcmp(argv[i - 1], "--flows")) {
				flows_s = v;
			} else {
				src6_s = v;
			}
		} else if (argv[i][0] == '-' || dev) {
			return xlb_usage(c, "attach: unexpected '%s'", argv[i]);
		} else {
			dev = argv[i];
		}
	}
	if (!dev)
		return xlb_usage(c, "attach: missing DEV");
	if (seed_s && xlb_parse_seed(seed_s, seed))
		return xlb_usage(c, "%s", xlb_errmsg());
	if (src4_s && (xlb_addr_parse(src4_s, &src4) || src4.family != XLB_AF_INET))
		return xlb_usage(c, "invalid --src4 '%s'", src4_s);
	if (src6_s && (xlb_addr_parse(src6_s, &src6) || src6.family != XLB_AF_INET6))
		return xlb_usage(c, "invalid --src6 '%s'", src6_s);
	if (flows_s && (xlb_parse_u32(flows_s, XLB_FLOWS_MIN, XLB_FLOWS_MAX, &flows) ||
			(flows & (flows - 1))))
		return xlb_usage(c, "invalid --flows '%s' (want a power of two "
				 "from %u to %u)", flows_s, XLB_FLOWS_MIN,
				 XLB_FLOWS_MAX);
	/* Before "already attached": that xlb may be of another layout. */
	err = xlb_pins_check(c->pin_dir);
	if (err)
		return xlb_fail_rc(c, err);
	rc = attach_probe(c, dev, XLB_PROG_NAME, &ifindex, &cur);
	if (rc > 0)
		return rc;
	if (rc == 0) {
		rc = attach_same_config(c, dev, seed_s ? seed : NULL,
					src4_s ? &src4 : NULL,
					src6_s ? &src6 : NULL,
					flows / XLB_FLOW_WAYS);
		return rc ? rc : attach_already(c, dev, XLB_PROG_NAME, cur);
	}

	err = xlb_pin_dir_prepare(c->pin_dir);
	if (!err)
		err = xlb_skel_load(c->pin_dir, flows / XLB_FLOW_WAYS, &skel);
	if (err)
		return xlb_fail_rc(c, err);

	/* First attach of this pin directory: seed, timeouts, sources. */
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.xlb_config), &zero, &cfg)) {
		err = xlb_errf(-errno, "can't read config: %s", strerror(errno));
		goto out;
	}
	if (seed_s) {
		memcpy(cfg.seed, seed, sizeof(cfg.seed));
	} else if (!cfg.seed[0] && !cfg.seed[1]) {
		if (getrandom(cfg.seed, sizeof(cfg.seed), 0) != sizeof(cfg.seed)) {
			err = xlb_errf(-errno, "can't get a random seed: %s",
				       strerror(errno));
			goto out;
		}
	}
	if (!cfg.tcp_timeout_ns)
		cfg.tcp_timeout_ns = TCP_TIMEOUT_NS;
	if (!cfg.udp_timeout_ns)
		cfg.udp_timeout_ns = UDP_TIMEOUT_NS;
	if (!cfg.nexthop_ttl_ns)
		cfg.nexthop_ttl_ns = NEXTHOP_TTL_NS;
	err = dev_addrs(dev, a4, &n4, a6, &n6, 1);
	if (err)
		goto out;
	if (src4_s)
		cfg.src4 = src4.a[0];
	else if (!cfg.src4 && n4)
		cfg.src4 = a4[0];
	if (src6_s)
		memcpy(cfg.src6, src6.a, sizeof(cfg.src6));
	else if (!(cfg.src6[0] | cfg.src6[1] | cfg.src6[2] | cfg.src6[3]) && n6)
		memcpy(cfg.src6, a6[0], sizeof(cfg.src6));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.xlb_config), &zero, &cfg,
				BPF_ANY)) {
		err = xlb_errf(-errno, "can't write config: %s", strerror(errno));
		goto out;
	}
	err = dev_mac(dev, skel->bss->xlb_dev.mac);
	/* Forwarding on lo, not on dev: the next-hop lookups need it
	 * (bpf/nexthop.h), and dev must not route for its neighbours. */
	if (!err)
		err = xlb_host_enable(ifindex);
	if (err)
		goto out;
	err = attach_fd(bpf_program__fd(skel->progs.xlb_main), ifindex,
			mode, mode_given, &used);
	if (err) {
		bool last;

		xlb_host_restore(ifindex, &last);
		goto out;
	}
	if (c->quiet) {
		/* The caller reports it. */
	} else if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "pin_dir", json_object_new_string(c->pin_dir));
		attach_json(c, dev, used, false, o);
	} else {
		printf("attached to %s (%s mode), maps in %s\n", dev, used, c->pin_dir);
	}
out:
	xlb_bpf__destroy(skel);
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}

/* Detaches the program called name from dev, refusing anyone else's. */
/* The program called name on an interface's XDP hook, or NULL. */
static struct xdp_program *prog_named(struct xdp_multiprog *mp,
				      const char *name)
{
	struct xdp_program *p;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p && !strcmp(xdp_program__name(p), name) ? p : NULL;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p;
	     p = xdp_multiprog__next_prog(p, mp))
		if (!strcmp(xdp_program__name(p), name))
			return p;
	return NULL;
}

static int detach_named(struct xlb_ctx *c, const char *dev, const char *name)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	int ifindex, err;

	ifindex = (int)if_nametoindex(dev);
	if (!ifindex)
		return xlb_fail(c, XLB_EXIT_FAIL, "no interface '%s'", dev);
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return xlb_fail(c, XLB_EXIT_FAIL, "%s has no XDP program", dev);
	p = prog_named(mp, name);
	if (!p) {
		xdp_multiprog__close(mp);
		return xlb_fail(c, XLB_EXIT_FAIL, "%s has no %s program", dev, name);
	}
	err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	xdp_multiprog__close(mp);
	if (err)
		return xlb_fail(c, XLB_EXIT_FAIL, "can't detach from %s: %s", dev,
				strerror(-err));
	if (!c->json)
		printf("detached from %s\n", dev);
	return XLB_EXIT_OK;
}

int cmd_detach(struct xlb_ctx *c, int argc, char **argv)
{
	int ifindex, rc, err;
	bool last;

	if (argc != 1)
		return xlb_usage(c, "usage: xlb detach DEV");
	ifindex = (int)if_nametoindex(argv[0]);
	rc = detach_named(c, argv[0], XLB_PROG_NAME);
	if (rc != XLB_EXIT_OK)
		return rc;
	/* The host gets back what attach changed once no interface needs it:
	 * the sysctls, and the neighbour entries kept for the backends. */
	err = xlb_host_restore(ifindex, &last);
	if (!err && last)
		err = xlb_neigh_sync(NULL, 0);
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}

/* The outer sources decap accepts tunnels from (--from), per family. */
struct decap_from {
	struct xlb_decap_prefix p4[XLB_DECAP_MAX_FROM], p6[XLB_DECAP_MAX_FROM];
	__u32 n4, n6;
	bool any; /* a /0 among them: every source of its family */
};

/* Adds --from s to f; exit code 2 (usage) when s is no prefix or too many. */
static int decap_add_from(struct xlb_ctx *c, const char *s, struct decap_from *f)
{
	struct xlb_decap_prefix *p;
	struct xlb_addr a;
	unsigned int plen;
	__u32 *n;

	if (xlb_prefix_parse(s, &a, &plen))
		return xlb_usage(c, "--from: %s", xlb_errmsg());
	n = a.family == XLB_AF_INET ? &f->n4 : &f->n6;
	if (*n >= XLB_DECAP_MAX_FROM)
		return xlb_usage(c, "--from: more than %d IPv%c prefixes",
				 XLB_DECAP_MAX_FROM, a.family == XLB_AF_INET ? '4' : '6');
	p = a.family == XLB_AF_INET ? &f->p4[*n] : &f->p6[*n];
	memcpy(p->addr, a.a, sizeof(p->addr));
	xlb_prefix_mask(a.family, plen, p->mask);
	(*n)++;
	f->any |= plen == 0;
	return 0;
}

/*
 * The attached xlb_decap program's map whose name ends in suffix (libbpf
 * names the read-only data "<object>.rodata"): an fd, or -errno.
 */
static int decap_attached_map(int ifindex, const char *suffix)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	struct bpf_prog_info pinfo = { 0 };
	struct bpf_map_info minfo;
	__u32 ids[16], len, i, id = 0;
	size_t sl = strlen(suffix), nl;
	int pfd, mfd, err = -ENOENT;

	if (libxdp_get_error(mp) || !mp)
		return -ENOENT;
	p = prog_named(mp, DECAP_PROG_NAME);
	if (p)
		id = xdp_program__id(p);
	xdp_multiprog__close(mp);
	if (!id)
		return -ENOENT;
	pfd = bpf_prog_get_fd_by_id(id);
	if (pfd < 0)
		return -errno;
	pinfo.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	pinfo.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(pinfo);
	if (bpf_obj_get_info_by_fd(pfd, &pinfo, &len)) {
		err = -errno;
		close(pfd);
		return err;
	}
	close(pfd);
	for (i = 0; i < pinfo.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++) {
		mfd = bpf_map_get_fd_by_id(ids[i]);
		if (mfd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		len = sizeof(minfo);
		nl = 0;
		if (!bpf_obj_get_info_by_fd(mfd, &minfo, &len))
			nl = strlen(minfo.name);
		if (nl >= sl && !strcmp(minfo.name + nl - sl, suffix))
			return mfd;
		close(mfd);
	}
	return err;
}

/*
 * decap is attached to the device already: a no-op when it was loaded
 * with what this attach would load (the local addresses and --from
 * prefixes are read-only data, fixed at load), else refused rather than
 * leaving the operator to believe other prefixes apply.
 */
static int decap_same(struct xlb_ctx *c, const char *dev, int ifindex,
		      const void *rodata, size_t size, enum xdp_attach_mode cur)
{
	int fd = decap_attached_map(ifindex, ".rodata");
	struct bpf_map_info info = { 0 };
	__u32 zero = 0, len = sizeof(info);
	void *v = NULL;
	int same = 0;

	if (fd < 0)
		return xlb_fail(c, XLB_EXIT_FAIL,
				"can't read the settings of %s on %s: %s",
				DECAP_PROG_NAME, dev, strerror(-fd));
	/* Another build's program has other settings, whatever they say. */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.value_size == size)
		v = calloc(1, size);
	if (v)
		same = !bpf_map_lookup_elem(fd, &zero, v) && !memcmp(v, rodata, size);
	free(v);
	close(fd);
	if (!same)
		return xlb_fail(c, XLB_EXIT_FAIL,
				"%s is attached to %s with other addresses or --from "
				"prefixes; they apply when attaching (detach first)",
				DECAP_PROG_NAME, dev);
	return attach_already(c, dev, DECAP_PROG_NAME, cur);
}

static const char decap_usage[] =
	"usage: xlb decap attach DEV --from PREFIX [--from PREFIX]... "
	"[--mode native|generic]";

static int decap_attach(struct xlb_ctx *c, int argc, char **argv)
{
	enum xdp_attach_mode mode = XDP_MODE_NATIVE, cur = XDP_MODE_NATIVE;
	bool mode_given = false;
	struct decap_bpf *skel;
	const char *dev = NULL, *used = NULL;
	/* Zeroed past the addresses found: decap_same compares every byte. */
	__be32 a4[XLB_DECAP_MAX_ADDRS] = { 0 }, a6[XLB_DECAP_MAX_ADDRS][4] = { 0 };
	struct decap_from from = { 0 };
	struct json_object *jfrom = NULL;
	__u32 n4, n6;
	int ifindex, err, rc, i;

	for (i = 0; i < argc; i++) {
		const char *v;

		if (!strcmp(argv[i], "--mode") || !strcmp(argv[i], "--from")) {
			v = xlb_opt_value(argc, argv, &i);
			if (!v)
				return xlb_usage(c, "%s needs a value", argv[i]);
			if (!strcmp(argv[i - 1], "--mode")) {
				if (parse_mode(c, v, &mode))
					return XLB_EXIT_USAGE;
				mode_given = true;
			} else if (decap_add_from(c, v, &from)) {
				return XLB_EXIT_USAGE;
			}
		} else if (argv[i][0] == '-' || dev) {
			return xlb_usage(c, "decap attach: unexpected '%s'", argv[i]);
		} else {
			dev = argv[i];
		}
	}
	if (!dev)
		return xlb_usage(c, "%s", decap_usage);
	/*
	 * No default: a decap that strips tunnels from anyone lets anyone who
	 * reaches the backend inject packets to its VIPs, so accepting every
	 * source has to be asked for (--from 0.0.0.0/0 --from ::/0).
	 */
	if (!from.n4 && !from.n6)
		return xlb_usage(c, "decap attach: --from PREFIX is required: the "
				    "balancers' outer source addresses");
	rc = attach_probe(c, dev, DECAP_PROG_NAME, &ifindex, &cur);
	if (rc > 0)
		return rc;
	err = dev_addrs(dev, a4, &n4, a6, &n6, XLB_DECAP_MAX_ADDRS);
	if (err)
		return xlb_fail_rc(c, err);
	if (!n4 && !n6)
		return xlb_fail(c, XLB_EXIT_FAIL,
				"%s has no address to receive encapsulated packets on", dev);
	skel = decap_bpf__open();
	if (!skel)
		return xlb_fail(c, XLB_EXIT_FAIL, "can't open the decap program: %s",
				strerror(errno));
	memcpy((void *)skel->rodata->local4, a4, sizeof(a4));
	memcpy((void *)skel->rodata->local6, a6, sizeof(a6));
	skel->rodata->n_local4 = n4;
	skel->rodata->n_local6 = n6;
	memcpy((void *)skel->rodata->from4, from.p4, sizeof(from.p4));
	memcpy((void *)skel->rodata->from6, from.p6, sizeof(from.p6));
	skel->rodata->n_from4 = from.n4;
	skel->rodata->n_from6 = from.n6;
	if (rc == 0) {
		rc = decap_same(c, dev, ifindex, skel->rodata, sizeof(*skel->rodata),
				cur);
		decap_bpf__destroy(skel);
		return rc;
	}
	err = decap_bpf__load(skel);
	if (err) {
		decap_bpf__destroy(skel);
		return xlb_fail(c, XLB_EXIT_FAIL, "can't load the decap program: %s",
				strerror(-err));
	}
	err = attach_fd(bpf_program__fd(skel->progs.xlb_decap), ifindex, mode,
			mode_given, &used);
	decap_bpf__destroy(skel);
	if (err)
		return xlb_fail_rc(c, err);
	if (from.any)
		fprintf(stderr, "xlb: warning: decap on %s accepts tunnels from "
				"any source of a /0 --from\n", dev);
	if (c->json) {
		struct json_object *o = json_object_new_object();

		jfrom = json_object_new_array();
		for (i = 0; i < argc; i++)
			if (!strcmp(argv[i], "--from") && i + 1 < argc)
				json_object_array_add(jfrom,
						      json_object_new_string(argv[++i]));
		json_object_object_add(o, "ipv4_addrs", json_object_new_int64(n4));
		json_object_object_add(o, "ipv6_addrs", json_object_new_int64(n6));
		json_object_object_add(o, "from", jfrom);
		attach_json(c, dev, used, false, o);
	} else {
		printf("decap attached to %s (%s mode, %u IPv4 and %u IPv6 addresses, "
		       "tunnels from %u IPv4 and %u IPv6 prefixes)\n",
		       dev, used, n4, n6, from.n4, from.n6);
	}
	return XLB_EXIT_OK;
}

static const char *const decap_stat_names[XLB_DECAP_STAT_MAX] = {
	[XLB_DECAP_STAT_DECAP] = "decapsulated",
	[XLB_DECAP_STAT_DROP_SOURCE] = "drop_source",
	[XLB_DECAP_STAT_DROP_HEAD] = "drop_head",
};

/* `xlb decap stats DEV`: the attached program's counters, summed over CPUs. */
static int decap_stats(struct xlb_ctx *c, int argc, char **argv)
{
	int ncpu = libbpf_num_possible_cpus(), ifindex, fd, i, j;
	__u64 sum[XLB_DECAP_STAT_MAX] = { 0 }, *v;
	struct json_object *o;

	if (argc != 1)
		return xlb_usage(c, "usage: xlb decap stats DEV");
	ifindex = (int)if_nametoindex(argv[0]);
	if (!ifindex)
		return xlb_fail(c, XLB_EXIT_FAIL, "no interface '%s'", argv[0]);
	fd = decap_attached_map(ifindex, XLB_DECAP_STATS_NAME);
	if (fd == -ENOENT)
		return xlb_fail(c, XLB_EXIT_FAIL, "%s has no %s program", argv[0],
				DECAP_PROG_NAME);
	if (fd < 0)
		return xlb_fail(c, XLB_EXIT_FAIL, "can't find the decap counters: %s",
				strerror(-fd));
	if (ncpu < 1 || !(v = calloc((size_t)ncpu, sizeof(*v)))) {
		close(fd);
		return xlb_fail(c, XLB_EXIT_FAIL, "can't size the per-CPU counters");
	}
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++) {
		__u32 k = (__u32)i;

		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (j = 0; j < ncpu; j++)
			sum[i] += v[j];
	}
	free(v);
	close(fd);
	if (c->json) {
		o = json_object_new_object();
		json_object_object_add(o, "dev", json_object_new_string(argv[0]));
		for (i = 0; i < XLB_DECAP_STAT_MAX; i++)
			json_object_object_add(o, decap_stat_names[i],
					       json_object_new_int64((int64_t)sum[i]));
		xlb_json_print(c, o);
		return XLB_EXIT_OK;
	}
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++)
		printf("%-20s %14llu\n", decap_stat_names[i],
		       (unsigned long long)sum[i]);
	return XLB_EXIT_OK;
}

static int decap_detach(struct xlb_ctx *c, int argc, char **argv)
{
	if (argc != 1)
		return xlb_usage(c, "usage: xlb decap detach DEV");
	return detach_named(c, argv[0], DECAP_PROG_NAME);
}

int cmd_decap(struct xlb_ctx *c, int argc, char **argv)
{
	static const struct xlb_cmd cmds[] = {
		{ "attach", decap_attach },
		{ "detach", decap_detach },
		{ "stats", decap_stats },
		{ NULL, NULL },
	};

	return xlb_dispatch(c, cmds, argc, argv, "decap");
}
