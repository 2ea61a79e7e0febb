// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One probe, three ways to attach it, best first: fentry (cheapest, needs BTF trampolines),
 * kprobe (needs CONFIG_KPROBES), the syscalls tracepoint (always there, but only sees write(2),
 * not every vfs_write). The loader keeps only the chosen program (set_autoload) so a kernel that
 * refuses one kind does not fail the others; each counts into its own slot of `hits`.
 */
#include "sonde_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 target_tgid = 0;

enum { HIT_FENTRY, HIT_FEXIT, HIT_KPROBE, HIT_KRETPROBE, HIT_TRACEPOINT, HIT_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HIT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int hit(__u32 slot)
{
	__u32 tgid = sonde_tgid();
	__u64 *c;

	if ((sonde_self_tgid && tgid == sonde_self_tgid) || (target_tgid && tgid != target_tgid))
		return 0;
	c = bpf_map_lookup_elem(&hits, &slot);
	if (c)
		__sync_fetch_and_add(c, 1);
	return 0;
}

SEC("fentry/vfs_write")
int BPF_PROG(fentry__vfs_write)
{
	return hit(HIT_FENTRY);
}

SEC("fexit/vfs_write")
int BPF_PROG(fexit__vfs_write)
{
	return hit(HIT_FEXIT);
}

SEC("kprobe/vfs_write")
int BPF_KPROBE(kprobe__vfs_write)
{
	return hit(HIT_KPROBE);
}

SEC("kretprobe/vfs_write")
int BPF_KRETPROBE(kretprobe__vfs_write)
{
	return hit(HIT_KRETPROBE);
}

SEC("tracepoint/syscalls/sys_enter_write")
int tracepoint__syscalls__sys_enter_write(void *ctx)
{
	return hit(HIT_TRACEPOINT);
}
