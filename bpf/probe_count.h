/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Map layouts of bpf/probe_count.bpf.c, the generic counting probe behind the tracepoint, kprobe
 * and uprobe receivers; pipeline/ebpf/probe-stats.ts reads them (and its test checks the sizes).
 * Same rules as sonde.h: explicit widths, no implicit padding, sizes a multiple of 8.
 */
#ifndef SONDE_PROBE_COUNT_H
#define SONDE_PROBE_COUNT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SONDE_PROBE_MAX_PIDS 16
#define SONDE_PROBE_COMM_LEN 16
/*
 * Latency buckets, laid out for an OTLP exponential histogram of scale 0 (base 2, buckets
 * (2^i, 2^(i+1)] ns): slot 0 counts d == 0 (the zero bucket), slot 1 d == 1 (index -1), slot
 * k >= 2 counts 2^(k-2) < d <= 2^(k-1) (index k-2). The last slot also takes anything longer.
 */
#define SONDE_PROBE_SLOTS 64

/* One series: a process, or a process in one cgroup (cgroup_id 0 unless per_cgroup). 16 bytes. */
struct sonde_probe_key {
	__u32 tgid;
	__u32 _pad0;
	__u64 cgroup_id;
};

/* What the kernel aggregated for one series. 560 bytes. */
struct sonde_probe_stats {
	__u64 calls;     /* entries seen */
	__u64 returns;   /* entry/return pairs completed (latency on) */
	__u64 sum_ns;    /* total latency of the completed pairs */
	__u64 first_ns;  /* bpf_ktime_get_ns() when the series was created */
	char comm[SONDE_PROBE_COMM_LEN]; /* the thread's comm at creation */
	__u64 hist[SONDE_PROBE_SLOTS];
};

/* slots of the per-CPU `probe_drops` array */
enum sonde_probe_drop {
	SONDE_PROBE_DROP_FULL = 0,  /* an event of a new series found `probe_stats` full */
	SONDE_PROBE_DROP_SLOTS = 1,
};

#endif /* SONDE_PROBE_COUNT_H */
