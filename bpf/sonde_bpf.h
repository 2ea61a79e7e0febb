/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every Sonde BPF object shares: includes, the per-CPU lost-record counter and the ring
 * buffer submit with adaptive wake-up. Include once per object (it defines maps and globals).
 */
#ifndef SONDE_BPF_H
#define SONDE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sonde.h"

/*
 * Records a ring buffer had no room for, per CPU (user space sums the CPUs). Every object that
 * reserves ring buffer space has it, under this name, so the addon can report kernel-side loss
 * without knowing the object.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sonde_lost SEC(".maps");

/*
 * Waking user space for every record costs more than the record (an epoll wake-up per event
 * caps a consumer at ~190K events/s here). Submit without a wake-up until this many bytes are
 * pending, then force one; the reader drains whatever is left on its poll timeout.
 * 0 = wake on every record (lowest latency).
 */
const volatile __u64 sonde_wakeup_bytes = 256 * 1024;

/* Sonde never observes itself: set to the agent's pid before load. */
const volatile __u32 sonde_self_tgid = 0;

/*
 * Keep every record struct in each object's BTF (locals alone do not put a type there), so the
 * layout test and tools like `bpftool btf dump` can read the layout the BPF compiler used.
 */
const struct sonde_write_event *sonde_btf_write_event __attribute__((unused));
const struct sonde_latency_event *sonde_btf_latency_event __attribute__((unused));
const struct sonde_sample_event *sonde_btf_sample_event __attribute__((unused));

static __always_inline void sonde_count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&sonde_lost, &zero);

	if (lost)
		*lost += 1; /* per-CPU slot: no atomic needed */
}

/* Reserve a record in ring buffer map `rb`, counting a failure. Evaluates to a pointer or NULL. */
#define sonde_reserve(rb, type)                                        \
	({                                                             \
		type *__r = bpf_ringbuf_reserve(&(rb), sizeof(type), 0); \
		if (!__r)                                              \
			sonde_count_lost();                            \
		__r;                                                   \
	})

/* Submit a reserved record, waking the reader only once enough data is pending. */
#define sonde_submit(rb, rec)                                                          \
	bpf_ringbuf_submit((rec), sonde_wakeup_bytes == 0 ||                           \
					  bpf_ringbuf_query(&(rb), BPF_RB_AVAIL_DATA) >= \
						  sonde_wakeup_bytes                 \
				      ? BPF_RB_FORCE_WAKEUP                            \
				      : BPF_RB_NO_WAKEUP)

static __always_inline __u32 sonde_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* floor(log2(v)) for v > 0, without loops (the verifier prefers straight-line code) */
static __always_inline __u32 sonde_log2(__u64 v)
{
	__u32 r, s;

	r = (v > 0xFFFFFFFFULL) << 5; v >>= r;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	return r;
}

#endif /* SONDE_BPF_H */
