/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record layouts shared by the BPF programs (bpf/NAME.bpf.c) and user space (native/records.ts
 * decodes them; test/integration/ebpf-layout.test.ts checks that both agree, field by field).
 *
 * Rules: fixed-size structs, explicit widths, naturally aligned, sizes a multiple of 8, no
 * implicit padding (holes are named `_pad*`), little-endian as the host. Times are
 * bpf_ktime_get_ns() values (CLOCK_MONOTONIC); native/clock.ts turns them into epoch time.
 */
#ifndef SONDE_H
#define SONDE_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* user-space builds; BPF builds take the types from vmlinux.h */
#endif

#define SONDE_COMM_LEN 16

/* One write(2) entering the kernel (tracepoint syscalls/sys_enter_write). 32 bytes. */
struct sonde_write_event {
	__u64 ts_ns;   /* bpf_ktime_get_ns() at syscall entry */
	__u32 pid;     /* tgid, the process */
	__u32 tid;     /* pid in kernel terms, the thread */
	__u64 count;   /* bytes the caller asked to write */
	__s32 fd;
	__u32 cpu;
};

/* One call of a user function, paired entry -> return (uprobe + uretprobe). 32 bytes. */
struct sonde_latency_event {
	__u64 start_ns;    /* entry time */
	__u64 duration_ns; /* return time - entry time */
	__u32 pid;
	__u32 tid;
	__s64 retval;      /* the function's return register */
};

/* One CPU sample (perf_event). 48 bytes. */
struct sonde_sample_event {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	__s32 user_stack_id;   /* id in the `stacks` map, or negative errno / -1 when not captured */
	__s32 kernel_stack_id;
	__u32 _pad0;
	char comm[SONDE_COMM_LEN];
};

#endif /* SONDE_H */
