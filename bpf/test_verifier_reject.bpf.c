// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Deliberately invalid: dereferences a map value without the NULL check the verifier demands.
 * Used only by test/integration/ebpf-errors.test.ts to prove the verifier log reaches JS.
 */
#include "sonde_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH); /* arrays with a constant key may be proven non-NULL */
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int tracepoint__syscalls__sys_enter_getppid(void *ctx)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&values, &zero);

	return *v != 0; /* the missing `if (!v)` is the point */
}
