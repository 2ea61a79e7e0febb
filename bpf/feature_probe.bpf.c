// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Smallest possible program of each attach kind, for the feature probe (native/features.ts):
 * it loads exactly one of them (set_autoload) and attaches it for real, so `sonde doctor` reports
 * what this kernel accepts rather than what its version suggests. They do nothing.
 */
#include "sonde_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* created only when the ringbuf kind is probed (set_autocreate) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} probe_ring SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int tracepoint__syscalls__sys_enter_getppid(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int raw_tracepoint__sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(kprobe__vfs_read)
{
	return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(fentry__vfs_read)
{
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe__probe)
{
	return 0;
}

SEC("perf_event")
int perf_event__probe(struct bpf_perf_event_data *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int ringbuf__probe(void *ctx)
{
	__u32 *r = bpf_ringbuf_reserve(&probe_ring, sizeof(*r), 0);

	if (r) {
		*r = 0;
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
	return 0;
}
