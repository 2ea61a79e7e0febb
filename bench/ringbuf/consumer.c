// The baseline of bench/ringbuf: a plain C libbpf consumer of the same BPF program
// (build/bpf/syscall_write.bpf.o, through a bpftool skeleton), the same wake-up policy, the same
// writer. Prints one JSON object: records, seconds (go -> last record), rate, losses, CPU time.
// usage: consumer <writer> <n> <ring_bytes> <wakeup_bytes>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sonde.h"
#include "syscall_write.skel.h"

static long long received, bytes, wrong_pid;
static int target;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct sonde_write_event *e = data;

	/* the same light work the JS side does per record */
	if (e->pid != (__u32)target)
		wrong_pid++;
	bytes += e->count;
	received++;
	return 0;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s writer n ring_bytes wakeup_bytes\n", argv[0]);
		return 2;
	}
	long long n = atoll(argv[2]);
	int gate[2];

	if (pipe(gate))
		return 1;
	pid_t child = fork();
	if (child == 0) {
		dup2(gate[0], 0);
		close(gate[1]);
		execl(argv[1], argv[1], argv[2], (char *)NULL);
		_exit(127);
	}
	close(gate[0]);
	target = child;

	struct syscall_write *skel = syscall_write__open();
	if (!skel) {
		perror("open skeleton");
		return 1;
	}
	skel->rodata->target_tgid = child;
	skel->rodata->sonde_self_tgid = getpid();
	skel->rodata->emit_events = true;
	skel->rodata->sonde_wakeup_bytes = strtoull(argv[4], NULL, 10);
	bpf_map__set_max_entries(skel->maps.events, strtoul(argv[3], NULL, 10));
	bpf_program__set_autoload(skel->progs.raw_tracepoint__sys_enter, false);
	if (syscall_write__load(skel)) {
		perror("load");
		return 1;
	}
	struct bpf_link *link = bpf_program__attach_tracepoint(skel->progs.tracepoint__syscalls__sys_enter_write,
							       "syscalls", "sys_enter_write");
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, NULL, NULL);
	if (!link || !rb) {
		perror("attach");
		return 1;
	}

	double cpu0 = cpu_s(), t0 = now_s(), t_last = t0;
	if (write(gate[1], "g", 1) != 1)
		return 1;
	close(gate[1]);
	int exited = 0, status = 0;
	while (received < n) {
		int r = ring_buffer__poll(rb, 50);
		if (r == 0) /* wake-ups are suppressed below the threshold: drain on timeout */
			r = ring_buffer__consume(rb);
		if (r > 0)
			t_last = now_s();
		if (r < 0)
			break;
		if (!exited && waitpid(child, &status, WNOHANG) == child)
			exited = 1;
		else if (exited && r == 0)
			break; /* writer done and nothing more arrives: the rest is lost */
	}
	double secs = t_last - t0, cpu = cpu_s() - cpu0;
	if (!exited)
		waitpid(child, &status, 0);

	long long lost = 0;
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[ncpu];
	__u32 zero = 0;
	if (bpf_map__lookup_elem(skel->maps.sonde_lost, &zero, sizeof(zero), vals, sizeof(vals), 0) == 0)
		for (int i = 0; i < ncpu; i++)
			lost += vals[i];

	printf("{\"records\":%lld,\"seconds\":%.6f,\"rate\":%.1f,\"kernel_lost\":%lld,\"wrong_pid\":%lld,"
	       "\"bytes\":%lld,\"cpu_seconds\":%.3f}\n",
	       received, secs, secs > 0 ? received / secs : 0, lost, wrong_pid, bytes, cpu);
	ring_buffer__free(rb);
	bpf_link__destroy(link);
	syscall_write__destroy(skel);
	return 0;
}
