// SPDX-License-Identifier: GPL-2.0
/*
 * rewind.bpf.c - lets the data-path benchmark time a program with
 * BPF_PROG_TEST_RUN's repeat > 1 without timing its own output.
 *
 * With repeat > 1 the kernel runs the program again on the buffer the
 * previous run rewrote. rewind runs first on every repeat: it undoes the
 * rewrite (moves the head back to the original length, puts the original
 * Ethernet header back, the only bytes of the original a head push or a
 * MAC rewrite overwrites) and writes the next client address of a list
 * the benchmark fills, then tail-calls the program under test. Timed this
 * way, runs follow each other inside the kernel, without the system call
 * between single runs, whose return flushes the TLB where page-table
 * isolation runs without PCID; the same rewind before XDP_DROP is the
 * baseline subtracted, so what it costs cancels.
 *
 * Two entries, as a tail call needs a caller of the same kind: xlb takes
 * multi-buffer frames (xdp.frags), the baseline programs do not.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#define REWIND_SRCS 65536 /* client addresses per call, at most */
#define REWIND_MIN_LEN 54 /* Ethernet + IPv4 + TCP: the shortest packet */
#define REWIND_MAX_OFF 50 /* a source word ends within those 54 bytes */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rewind_next SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rewind_next_frags SEC(".maps");

/* Set by the benchmark before each call. */
__u8 rewind_eth[ETH_HLEN]; /* the original Ethernet header */
__u32 rewind_len; /* the original length */
__u32 rewind_src_off; /* offset of the source word rewritten per run */
__u32 rewind_n; /* entries of rewind_src in use */
__u32 rewind_i; /* the next entry */
__u32 rewind_bad; /* runs that found a packet it cannot rewind */
__u32 rewind_src[REWIND_SRCS]; /* source words, network order */

static __always_inline int rewind(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	int delta = (int)(end - data) - (int)rewind_len;
	__u32 i = rewind_i, off = rewind_src_off;

	if (delta && bpf_xdp_adjust_head(ctx, delta))
		goto bad;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + REWIND_MIN_LEN > end || off > REWIND_MAX_OFF ||
	    i >= REWIND_SRCS)
		goto bad;
	__builtin_memcpy(data, rewind_eth, ETH_HLEN);
	if (data + off + 4 > end)
		goto bad;
	/*
	 * An IPv4 source (at 14 + 12) is covered by the header checksum,
	 * which xlb checks: updated for the new source (RFC 1624).
	 */
	if (off == ETH_HLEN + 12) {
		__u16 *w = data + ETH_HLEN + 12, *ck = data + ETH_HLEN + 10;
		__u32 nw = rewind_src[i], sum;

		sum = (__u16)~*ck + (__u16)~w[0] + (__u16)~w[1] +
		      (nw & 0xffff) + (nw >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		*ck = (__u16)~sum;
	}
	*(__u32 *)(data + off) = rewind_src[i];
	rewind_i = i + 1 < rewind_n ? i + 1 : 0;
	return 0;
bad:
	rewind_bad++;
	return -1;
}

/* Rewinds, then runs the program in next; XDP_ABORTED if either fails. */
static __always_inline int rewind_then(struct xdp_md *ctx, void *next)
{
	if (!rewind(ctx))
		bpf_tail_call(ctx, next, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int rewind_base(struct xdp_md *ctx)
{
	return rewind_then(ctx, &rewind_next);
}

SEC("xdp.frags")
int rewind_frags(struct xdp_md *ctx)
{
	return rewind_then(ctx, &rewind_next_frags);
}

char LICENSE[] SEC("license") = "GPL";
