// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * write(2) entering the kernel: counted per object and, when emit_events is set, one
 * struct sonde_write_event per call in the `events` ring buffer. Used by the tracepoint tests and
 * bench/ringbuf. Two attach points for the same thing: the syscalls tracepoint (preferred) and
 * the raw sys_enter tracepoint (every syscall, filtered on the number here).
 */
#include "sonde_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* the write syscall number of the target architecture (vmlinux.h carries no __NR_* macros) */
#if defined(__TARGET_ARCH_x86)
#define SONDE_NR_WRITE 1
#elif defined(__TARGET_ARCH_arm64) || defined(__TARGET_ARCH_riscv)
#define SONDE_NR_WRITE 64
#else
#error "SONDE_NR_WRITE: unknown architecture"
#endif

const volatile __u32 target_tgid = 0; /* 0 = every process except Sonde */
const volatile bool emit_events = true;
/* emit through the perf buffer `perf_events` instead of the ring buffer (kernels before 5.8) */
const volatile bool use_perfbuf = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* bytes; user space may resize before load */
} events SEC(".maps");

/* max_entries 0: libbpf sizes it to the number of CPUs */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

/* [0] calls seen by the tracepoint program, [1] by the raw tracepoint program */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} write_calls SEC(".maps");

static __always_inline bool wanted(__u32 tgid)
{
	if (sonde_self_tgid && tgid == sonde_self_tgid)
		return false;
	return target_tgid == 0 || tgid == target_tgid;
}

static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&write_calls, &slot);

	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("tracepoint/syscalls/sys_enter_write")
int tracepoint__syscalls__sys_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	__u64 ts = bpf_ktime_get_ns();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct sonde_write_event *e;

	if (!wanted(tgid))
		return 0;
	count(0);
	if (!emit_events)
		return 0;
	if (use_perfbuf) {
		struct sonde_write_event pe = {
			.ts_ns = ts,
			.pid = tgid,
			.tid = (__u32)id,
			.count = ctx->args[2],
			.fd = (__s32)ctx->args[0],
			.cpu = bpf_get_smp_processor_id(),
		};

		if (bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &pe, sizeof(pe)))
			sonde_count_lost();
		return 0;
	}
	e = sonde_reserve(events, struct sonde_write_event);
	if (!e)
		return 0;
	e->ts_ns = ts;
	e->pid = tgid;
	e->tid = (__u32)id;
	e->fd = (__s32)ctx->args[0];
	e->count = ctx->args[2];
	e->cpu = bpf_get_smp_processor_id();
	sonde_submit(events, e);
	return 0;
}

/* raw sys_enter: args[0] is the struct pt_regs *, args[1] the syscall number */
SEC("raw_tracepoint/sys_enter")
int raw_tracepoint__sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] != SONDE_NR_WRITE)
		return 0;
	if (!wanted(sonde_tgid()))
		return 0;
	count(1);
	return 0;
}
