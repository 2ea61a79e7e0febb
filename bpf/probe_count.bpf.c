// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The generic counting probe of the tracepoint, kprobe and uprobe receivers. One entry program
 * and one return program per attach kind; the loader keeps only the pair it attaches, and gives
 * the target at run time (tracepoint category/name, kernel function, binary + symbol). The
 * programs never read their context, so one object fits any tracepoint or function.
 *
 * Everything is aggregated here, in `probe_stats` keyed by (tgid, cgroup id): calls, and with
 * entry/return pairing (track_latency) the sum and log2 histogram of latencies. User space only
 * scrapes the map every collection interval; no per-event ring buffer traffic.
 */
#include "sonde_bpf.h"
#include "probe_count.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* filters, set before load */
const volatile __u32 filter_pids[SONDE_PROBE_MAX_PIDS] = {};
const volatile __u32 filter_pid_count = 0;       /* 0 = every process (but Sonde) */
const volatile __u64 filter_cgroup_id = 0;       /* 0 = every cgroup */
const volatile __u32 filter_cgroup_level = 0;    /* depth of filter_cgroup_id below the root */
const volatile bool per_cgroup = false;          /* key series by cgroup id too */
const volatile bool track_latency = false;       /* pair entry -> return by thread */
const volatile bool use_skip_tgids = false;      /* an executable filter is on: consult skip_tgids */

/* capacity = max_processes, set by user space before load */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct sonde_probe_key);
	__type(value, struct sonde_probe_stats);
} probe_stats SEC(".maps");

/* processes user space ruled out (executable filter): their events are not aggregated */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u8);
} skip_tgids SEC(".maps");

/* entry time per thread; LRU, so threads that die inside the function cannot fill it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SONDE_PROBE_DROP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} probe_drops SEC(".maps");

/* a zeroed value to insert from: 560 bytes do not fit the 512-byte BPF stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sonde_probe_stats);
} scratch SEC(".maps");

static __always_inline bool wanted(__u32 tgid)
{
	__u32 i;
	bool hit;

	if (sonde_self_tgid && tgid == sonde_self_tgid)
		return false;
	if (filter_pid_count) {
		hit = false;
		for (i = 0; i < SONDE_PROBE_MAX_PIDS; i++) {
			if (i < filter_pid_count && filter_pids[i] == tgid)
				hit = true;
		}
		if (!hit)
			return false;
	}
	/* a subtree: the current cgroup's ancestor at the filter's depth is the filter cgroup */
	if (filter_cgroup_id && bpf_get_current_ancestor_cgroup_id(filter_cgroup_level) != filter_cgroup_id)
		return false;
	if (use_skip_tgids && bpf_map_lookup_elem(&skip_tgids, &tgid))
		return false;
	return true;
}

static __always_inline void count_drop(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&probe_drops, &slot);

	if (c)
		*c += 1; /* per-CPU slot */
}

/* The series of the current task, created on first sight; NULL when the map is full. */
static __always_inline struct sonde_probe_stats *series(__u32 tgid)
{
	struct sonde_probe_key key = { .tgid = tgid };
	struct sonde_probe_stats *s;
	__u32 zero = 0;
	long err;

	if (per_cgroup)
		key.cgroup_id = bpf_get_current_cgroup_id();
	s = bpf_map_lookup_elem(&probe_stats, &key);
	if (s)
		return s;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return NULL;
	__builtin_memset(s, 0, sizeof(*s));
	s->first_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	err = bpf_map_update_elem(&probe_stats, &key, s, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU created it first */) {
		count_drop(SONDE_PROBE_DROP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&probe_stats, &key);
}

/* see SONDE_PROBE_SLOTS: the exponential histogram bucket of d, shifted by 2 */
static __always_inline __u32 slot_of(__u64 d)
{
	__u32 k;

	if (d <= 1)
		return (__u32)d;
	k = sonde_log2(d - 1) + 2;
	return k < SONDE_PROBE_SLOTS ? k : SONDE_PROBE_SLOTS - 1;
}

static __always_inline int on_entry(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct sonde_probe_stats *s;
	__u64 ts;

	if (!wanted(tgid))
		return 0;
	s = series(tgid);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->calls, 1);
	if (track_latency) {
		ts = bpf_ktime_get_ns();
		/* BPF_NOEXIST: a recursive inner call keeps the outermost start */
		bpf_map_update_elem(&starts, &tid, &ts, BPF_NOEXIST);
	}
	return 0;
}

static __always_inline int on_return(void)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct sonde_probe_stats *s;
	__u64 *start, d;

	start = bpf_map_lookup_elem(&starts, &tid);
	if (!start)
		return 0; /* entered before attach, or filtered out at entry */
	d = now - *start;
	bpf_map_delete_elem(&starts, &tid);
	s = series(tgid);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->returns, 1);
	__sync_fetch_and_add(&s->sum_ns, d);
	__sync_fetch_and_add(&s->hist[slot_of(d) & (SONDE_PROBE_SLOTS - 1)], 1);
	return 0;
}

SEC("tracepoint")
int tracepoint__probe_enter(void *ctx)
{
	return on_entry();
}

SEC("tracepoint")
int tracepoint__probe_return(void *ctx)
{
	return on_return();
}

SEC("kprobe")
int kprobe__probe_enter(void *ctx)
{
	return on_entry();
}

SEC("kretprobe")
int kretprobe__probe_return(void *ctx)
{
	return on_return();
}

/* fentry/fexit: the target function is set before load (bpf_program__set_attach_target) */
SEC("fentry")
int BPF_PROG(fentry__probe_enter)
{
	return on_entry();
}

SEC("fexit")
int BPF_PROG(fexit__probe_return)
{
	return on_return();
}

SEC("uprobe")
int uprobe__probe_enter(void *ctx)
{
	return on_entry();
}

SEC("uretprobe")
int uretprobe__probe_return(void *ctx)
{
	return on_return();
}
