// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU sampling: a perf_event program (the loader opens a cpu-clock event at some frequency on
 * every CPU) recording which process/thread was on the CPU, optionally with stack ids.
 */
#include "sonde_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SONDE_MAX_STACK_DEPTH 127

const volatile __u32 target_tgid = 0; /* 0 = every process except Sonde (and idle) */
const volatile bool capture_stacks = false;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, SONDE_MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* [0] samples taken for the target */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} samples SEC(".maps");

SEC("perf_event")
int perf_event__sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0;
	struct sonde_sample_event *e;
	__u64 *n;

	if (tgid == 0 || (sonde_self_tgid && tgid == sonde_self_tgid))
		return 0;
	if (target_tgid && tgid != target_tgid)
		return 0;
	n = bpf_map_lookup_elem(&samples, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	e = sonde_reserve(events, struct sonde_sample_event);
	if (!e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = (__u32)id;
	e->cpu = bpf_get_smp_processor_id();
	e->user_stack_id = capture_stacks ? bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK) : -1;
	e->kernel_stack_id = capture_stacks ? bpf_get_stackid(ctx, &stacks, 0) : -1;
	e->_pad0 = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	sonde_submit(events, e);
	return 0;
}
