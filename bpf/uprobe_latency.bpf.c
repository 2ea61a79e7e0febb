// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Latency of one user-space function: uprobe at entry, uretprobe at return, paired by thread.
 * Each completed call becomes a struct sonde_latency_event in `events`; `totals` and the log2
 * histogram `latency_log2` keep the same numbers in the kernel for readers that only scrape.
 * Attached by the loader to a binary + symbol (or offset); the sections carry no target.
 */
#include "sonde_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 target_tgid = 0; /* 0 = every process except Sonde */

/* entry timestamp per thread; a recursive function keeps the outermost call */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

enum { TOTAL_ENTERED, TOTAL_RETURNED, TOTAL_SUM_NS, TOTAL_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TOTAL_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

/* bucket i counts durations d with 2^i <= d < 2^(i+1) ns (bucket 0 also takes d = 0) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} latency_log2 SEC(".maps");

static __always_inline void add(void *map, __u32 slot, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(map, &slot);

	if (c)
		__sync_fetch_and_add(c, v);
}

SEC("uprobe")
int BPF_KPROBE(uprobe__func_entry)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	__u64 ts;

	if (sonde_self_tgid && tgid == sonde_self_tgid)
		return 0;
	if (target_tgid && tgid != target_tgid)
		return 0;
	ts = bpf_ktime_get_ns();
	/* BPF_NOEXIST: an inner recursive call must not overwrite the outer start */
	bpf_map_update_elem(&starts, &tid, &ts, BPF_NOEXIST);
	add(&totals, TOTAL_ENTERED, 1);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe__func_return, long ret)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct sonde_latency_event *e;
	__u64 *start, dur;

	start = bpf_map_lookup_elem(&starts, &tid);
	if (!start)
		return 0; /* entered before we attached, or filtered out at entry */
	dur = now - *start;
	e = sonde_reserve(events, struct sonde_latency_event);
	if (e) {
		e->start_ns = *start;
		e->duration_ns = dur;
		e->pid = tgid;
		e->tid = tid;
		e->retval = ret;
		sonde_submit(events, e);
	}
	bpf_map_delete_elem(&starts, &tid);
	add(&totals, TOTAL_RETURNED, 1);
	add(&totals, TOTAL_SUM_NS, dur);
	add(&latency_log2, sonde_log2(dur) & 63, 1);
	return 0;
}
