// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/1.x capture from the socket syscalls. accept/accept4 mark server sockets, connect marks
 * client sockets; read/readv/recvfrom/recvmsg and write/writev/sendto/sendmsg store their
 * arguments at entry and send the bytes actually moved at exit; sendfile sends a byte count;
 * close ends a connection.
 *
 * Where the kernel allows it (user space picks one with `attach`, best-first: sock_tracepoint,
 * fentry, kprobe, tracepoint), the data comes from the socket layer instead (kernel_path): the
 * sock/tcp tracepoints (BTF-typed, below), or tcp_sendmsg/tcp_recvmsg; one program per socket
 * message rather than per syscall of every file, sendfile/splice and io_uring included,
 * connections keyed by their struct sock (in the socket's own storage on the sock path). Those
 * programs are autoloaded only when chosen, so a kernel that refuses them (kprobes compiled out,
 * fentry under lockdown) loads the next path.
 *
 * Filtering in the kernel: TCP over IPv4/IPv6 only, the configured pids and server ports, and a
 * connection is followed once a message on it starts like HTTP/1.x (a request method or
 * "HTTP/1."). Only the first capture_bytes of each syscall (and its last HTTP_TAIL_LEN bytes)
 * leave the kernel; the byte count always does. Records: struct http_capture_event, variable
 * length (header + captured bytes), in the `events` ring buffer.
 *
 * TLS (tls_enabled): uprobes on SSL_read/SSL_write and their _ex forms, attached by user space
 * to each binary that defines them (libssl, or an executable that links OpenSSL statically),
 * send the plaintext as records of a connection of its own, keyed by (tgid, SSL pointer). Its
 * socket, hence addresses and role, is learned on the calling thread: the socket syscall made
 * inside the SSL call (OpenSSL's socket BIO, curl's BIO), else, for SSL_read, the thread's last
 * socket read just before it (memory BIOs: Node reads the ciphertext, then decrypts on the same
 * thread). The ciphertext on that socket never looks like HTTP, so it is never followed.
 * sched_process_exec sends an EXEC record: user space then looks for new TLS binaries.
 */
#include "sonde_bpf.h"
#include <bpf/bpf_endian.h>
#include "http_capture.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115
#define MAX_FILTER 16
/* receive flags: a peek returns bytes the next read returns again; a TCP receive with MSG_TRUNC
 * consumes bytes without copying them into the buffer (whose old contents are no capture) */
#define MSG_PEEK 2
#define MSG_TRUNC 0x20
#define MAX_IOV 8
#define TCP_CLOSE 7
/* data syscalls on a TCP socket found mid-stream that may pass without an HTTP start before
 * Sonde stops looking at that socket */
#define MIDSTREAM_TRIES 8

const volatile __u32 capture_bytes = 512;
const volatile __u32 filter_pids[MAX_FILTER] = {};
const volatile __u32 filter_pid_count = 0;
const volatile __u16 filter_ports[MAX_FILTER] = {};
const volatile __u32 filter_port_count = 0;
/* the executable filter lives in user space; it sets skip_bits (skip_tgids beyond them) */
const volatile bool use_skip_tgids = false;
/* bytes a CPU sends between two looks at the ring's fill level (0: a look per record) */
const volatile __u64 wakeup_check_bytes = 0;
/* TLS plaintext from the SSL uprobes (they are attached from user space per binary) */
const volatile bool tls_enabled = false;
/* data from the tcp_sendmsg/tcp_recvmsg probes (kprobe or fentry), not the syscall tracepoints */
const volatile bool kernel_path = false;
/* tcp_recvmsg's flags: its 4th argument since Linux 5.19, the 5th before (after `nonblock`) */
const volatile __u32 tcp_recvmsg_flags_arg = 4;

/* a record header for the BTF (layout test) */
const struct http_capture_event *sonde_btf_http_capture_event __attribute__((unused));

__u64 next_conn_id = 0;

struct conn_key {
	__u32 tgid;
	__s32 fd;
};

enum conn_state { CONN_UNDECIDED = 0, CONN_HTTP = 1, CONN_IGNORED = 2 };

struct conn_info {
	__u64 id;
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u8 role;
	__u8 flags;
	__u8 state;
	__u8 misses;
	__u64 ssl; /* fd path, on a socket carrying TLS: the SSL pointer whose plaintext Sonde
		    * follows (sock-keyed paths: sk_ssl) */
	__u8 comm_sent; /* a data record of this connection carried the thread name already */
	__u8 lost;      /* a record of it was lost: its next one carries HTTP_CONN_LOST */
	__u32 tgid;     /* sock-keyed paths: the process that first moved data on it (a socket's
			 * close may be seen in softirq, where the current task is any other) */
	__u32 portpair; /* the socket's ports as the kernel keeps them (skc_portpair): the
			 * kprobe/fentry path tells a reused struct sock address by them */
};

struct data_args {
	__u64 ts_ns;
	__u64 buf;   /* buffer, or the iovec array for readv/writev/recvmsg/sendmsg */
	__u32 iovcnt; /* 0: buf is a plain buffer */
	__s32 fd;
	__u32 syscall;
	__u32 direction;
	__u32 tls_only; /* the socket is not followed: only note it as the thread's last read */
	__u32 buf_len; /* kernel path: bytes of the first segment at buf (0: buf holds them all) */
	__u64 sk;      /* kernel path: the struct sock */
};

/* a TLS connection: (tgid, SSL pointer) */
struct tls_key {
	__u32 tgid;
	__u32 pad;
	__u64 ssl;
};

struct tls_conn {
	struct conn_info c;
	__s32 fd; /* the socket under it, -1 while unknown */
	__u32 pad;
	__u64 sk; /* sock-keyed paths: the struct sock under it, 0 while unknown */
};

/* a socket a thread used: the struct sock on the sock-keyed paths, with its connection's role and
 * flags (whether its start was seen: the sock path's socket storage is out of a uprobe's reach);
 * on the syscall path only the fd, in `sock` */
struct sock_seen {
	__u64 sock;
	__u8 role;
	__u8 flags;
	__u8 pad[6];
};

/* an SSL_read/SSL_write call in progress on a thread */
struct ssl_call {
	__u64 ssl;
	__u64 buf;
	__u64 len_ptr; /* the _ex forms: where the byte count is written; 0 for SSL_read/SSL_write */
	__u64 ts_ns;
	__s32 fd;      /* a TCP socket the call read or wrote, -1 if none */
	__u32 direction;
	struct sock_seen sk; /* sock-keyed paths: the socket the call read or wrote (sock 0 if none) */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* bytes; user space resizes before load */
} events SEC(".maps");

/* (tgid, fd) -> connection; LRU so processes that die without close cannot fill it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct conn_key);
	__type(value, struct conn_info);
} conns SEC(".maps");

/* kernel path: struct sock -> connection (LRU: a socket freed unseen cannot fill it) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct conn_info);
} sk_conns SEC(".maps");

/* thread -> arguments of the data syscall it is in */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct data_args);
} inflight SEC(".maps");

/* thread -> fd of the connect(2) it is in */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __s32);
} connecting SEC(".maps");

/*
 * Per-process flags asked on every syscall are bits, one per tgid below pid_max (user space
 * sizes the arrays): an array lookup the verifier inlines into one load, where a hash lookup
 * walks a bucket that is cache-cold at every request. A tgid beyond them (pid_max raised after
 * load) falls back to the hash maps.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 512); /* 64-bit words: user space sizes it from pid_max before load */
	__type(key, __u32);
	__type(value, __u64);
} skip_bits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u64);
} tls_bits SEC(".maps");

/* processes the executable filter ruled out (filled from user space), beyond skip_bits */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u8);
} skip_tgids SEC(".maps");

/* (tgid, SSL*) -> TLS connection; LRU: an SSL freed unseen cannot fill it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tls_key);
	__type(value, struct tls_conn);
} tls_conns SEC(".maps");

/* thread -> the SSL call it is in */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

/* thread -> its last successful read of a TCP socket not followed as plaintext HTTP (only in
 * processes that call SSL functions); taken by the next SSL_read on the thread */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_seen);
} last_recv SEC(".maps");

/* sock-keyed paths: struct sock -> the SSL pointer of the TLS session over it, ended with it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} sk_ssl SEC(".maps");

/* processes seen calling SSL_read/SSL_write, beyond tls_bits */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} tls_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HTTP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} http_counters SEC(".maps");

/* the record is built here; the slack lets the verifier accept offset + length < 2 * MAX */
struct scratch {
	struct http_capture_event ev;
	__u8 slack[HTTP_CAPTURE_MAX];
	__u64 unchecked; /* bytes this CPU sent since it last looked at the ring's fill level */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&http_counters, &idx);

	if (c)
		*c += 1;
}

/* The word holding tgid's bit in `bits`, or NULL beyond the array. */
static __always_inline __u64 *tgid_word(void *bits, __u32 tgid)
{
	__u32 w = tgid >> 6;

	return bpf_map_lookup_elem(bits, &w);
}

static __always_inline bool tgid_flag(void *bits, void *beyond, __u32 tgid)
{
	__u64 *w = tgid_word(bits, tgid);

	if (w)
		return (*w >> (tgid & 63)) & 1;
	return bpf_map_lookup_elem(beyond, &tgid) != NULL;
}

/* Not atomic (BPF atomics need Linux 5.12): a bit lost to a race with another CPU is set again
 * by the next call (the process's next SSL call). */
static __always_inline void set_tgid_flag(void *bits, void *beyond, __u32 tgid)
{
	__u64 *w = tgid_word(bits, tgid);
	__u64 bit = 1ULL << (tgid & 63);
	__u8 one = 1;

	if (!w) {
		if (!bpf_map_lookup_elem(beyond, &tgid))
			bpf_map_update_elem(beyond, &tgid, &one, BPF_ANY);
	} else if (!(*w & bit)) {
		*w |= bit;
	}
}

/* Not atomic either: a flag cleared in the same word at the same moment by another CPU or by
 * user space may come back. User space clears a skip flag again on the EXEC record; a TLS flag
 * left set only costs the TLS bookkeeping. */
static __always_inline void clear_tgid_flag(void *bits, void *beyond, __u32 tgid)
{
	__u64 *w = tgid_word(bits, tgid);
	__u64 bit = 1ULL << (tgid & 63);

	if (!w)
		bpf_map_delete_elem(beyond, &tgid);
	else if (*w & bit)
		*w &= ~bit;
}

/* Not Sonde itself, and among the configured pids (if any). */
static __always_inline bool pid_wanted(__u32 tgid)
{
	if (sonde_self_tgid && tgid == sonde_self_tgid)
		return false;
	if (!filter_pid_count)
		return true;
	for (int i = 0; i < MAX_FILTER; i++) {
		if (i >= filter_pid_count)
			break;
		if (filter_pids[i] == tgid)
			return true;
	}
	return false;
}

static __always_inline bool wanted(__u32 tgid)
{
	if (!pid_wanted(tgid))
		return false;
	if (use_skip_tgids && tgid_flag(&skip_bits, &skip_tgids, tgid))
		return false;
	return true;
}

static __always_inline bool port_listed(__u16 port)
{
	for (int i = 0; i < MAX_FILTER; i++) {
		if (i >= filter_port_count)
			break;
		if (filter_ports[i] == port)
			return true;
	}
	return false;
}

/* The server port is the local one of a server socket, the remote one of a client socket. */
static __always_inline bool port_wanted(const struct conn_info *c)
{
	if (!filter_port_count)
		return true;
	if (c->role == HTTP_ROLE_SERVER)
		return port_listed(c->lport);
	if (c->role == HTTP_ROLE_CLIENT)
		return port_listed(c->rport);
	return port_listed(c->lport) || port_listed(c->rport);
}

/* fd -> struct sock of a TCP socket (IPv4/IPv6), or NULL: task->files->fdt->fd[fd]. */
static __always_inline struct sock *tcp_sock_of(__s32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *sock = (struct socket *)BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return NULL;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return NULL;
	return sk;
}

static __always_inline void v4_mapped(__u8 *out, __u32 addr)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &addr, 4);
}

static __always_inline void read_tuple(struct sock *sk, struct conn_info *c)
{
	c->portpair = BPF_CORE_READ(sk, __sk_common.skc_portpair);
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET) {
		v4_mapped(c->laddr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		v4_mapped(c->raddr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
	} else {
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

/*
 * TCP moves each of its counter pairs (bytes_received with rcv_nxt as data arrives, bytes_acked
 * with snd_una as an ACK does) in two stores, in softirq, under no lock a BPF program can take:
 * a pair is read again until two looks agree, else a look between the stores mixes old and new
 * (on loopback the peer's ACK is often processed on the other CPU just as a send returns).
 */
#define PAIR_TRIES 4

/* A sequence number and the byte counter TCP moves with it (CO-RE field addresses), read until
 * two looks agree. false: no stable look. */
static __always_inline bool stable_pair(const void *seq_p, const void *count_p, __u32 *seq, __u64 *count)
{
	for (int i = 0; i < PAIR_TRIES; i++) {
		__u32 s1 = 0, s2 = 0;
		__u64 c1 = 0, c2 = 0;
		bpf_probe_read_kernel(&s1, sizeof(s1), seq_p);
		bpf_probe_read_kernel(&c1, sizeof(c1), count_p);
		bpf_probe_read_kernel(&s2, sizeof(s2), seq_p);
		bpf_probe_read_kernel(&c2, sizeof(c2), count_p);
		if (s1 == s2 && c1 == c2) {
			*seq = s1;
			*count = c1;
			return true;
		}
	}
	return false;
}

/* Bytes the application has read: what TCP received in order (RFC 4898's bytes_received) less
 * what still waits to be read. ~0: no stable look. */
static __always_inline __u64 app_received(struct tcp_sock *tp)
{
	__u32 nxt;
	__u64 received;

	if (!stable_pair(__builtin_preserve_access_index(&tp->rcv_nxt), __builtin_preserve_access_index(&tp->bytes_received), &nxt, &received))
		return ~0ULL;
	return received - (__u32)(nxt - BPF_CORE_READ(tp, copied_seq));
}

/* Bytes the application has written: what the peer acknowledged plus what is still queued. */
static __always_inline __u64 app_sent(struct tcp_sock *tp)
{
	__u32 una;
	__u64 acked;

	if (!stable_pair(__builtin_preserve_access_index(&tp->snd_una), __builtin_preserve_access_index(&tp->bytes_acked), &una, &acked))
		return ~0ULL;
	return acked + (__u32)(BPF_CORE_READ(tp, write_seq) - una);
}

/*
 * Whether a TCP socket Sonde did not see open has carried no bytes yet, apart from the `own_recv`
 * and `own_sent` of the call at hand: its stream starts here, it is not joined mid-stream. That
 * is a socket one process accepts and another serves (Node's cluster hands connections to its
 * workers, forking servers accept before they fork), and on the sock path every socket.
 */
static __always_inline bool stream_untouched(struct sock *sk, __u64 own_recv, __u64 own_sent)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 sent = app_sent(tp);

	/* a connect()ed socket's SYN counts one byte acknowledged (an accepted one's SYN-ACK none) */
	return app_received(tp) == own_recv && sent >= own_sent && sent - own_sent <= 1;
}

static __always_inline __u64 new_conn_id(void)
{
	return __sync_fetch_and_add(&next_conn_id, 1) + 1;
}

/* Fills and submits a record: header, the first capture bytes and the tail. */
static __always_inline void emit(struct conn_info *c, struct conn_key *key, __u8 kind,
				 const struct data_args *a, __u64 ts, __u64 total)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);

	if (!s)
		return;
	struct http_capture_event *e = &s->ev;
	__u64 id = bpf_get_current_pid_tgid();

	e->ts_ns = ts;
	e->conn_id = c->id;
	e->total = total;
	e->tgid = key->tgid;
	e->tid = (__u32)id;
	e->fd = key->fd;
	e->captured = 0;
	__builtin_memcpy(e->laddr, c->laddr, 16);
	__builtin_memcpy(e->raddr, c->raddr, 16);
	e->lport = c->lport;
	e->rport = c->rport;
	e->kind = kind;
	e->direction = a ? a->direction : 0;
	e->role = c->role;
	e->flags = c->lost ? c->flags | HTTP_CONN_LOST : c->flags;
	e->tail_len = 0;
	e->syscall = a ? a->syscall : HTTP_SC_CLOSE;
	/* the thread name once per connection (user space keeps it with the connection) */
	if (kind == HTTP_EV_DATA && !c->comm_sent) {
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		c->comm_sent = 1;
	} else {
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}

	__u32 want = capture_bytes;
	if (want > HTTP_CAPTURE_MAX)
		want = HTTP_CAPTURE_MAX;
	if (total < want)
		want = total;
	/* kernel path: only the first segment's user buffer is known */
	if (a && a->buf_len && want > a->buf_len)
		want = a->buf_len;

	if (a && a->syscall != HTTP_SC_SENDFILE && want > 0) {
		if (a->iovcnt == 0) {
			__u32 n = want & (2 * HTTP_CAPTURE_MAX - 1);
			if (n > HTTP_CAPTURE_MAX)
				n = HTTP_CAPTURE_MAX;
			if (!bpf_probe_read_user(e->data, n, (void *)a->buf))
				e->captured = n;
			if (total > n && (!a->buf_len || total <= a->buf_len)) {
				__u32 t = HTTP_TAIL_LEN;
				if (!bpf_probe_read_user(e->tail, t, (void *)(a->buf + total - t)))
					e->tail_len = t;
			}
		} else {
			/* walk the iovecs: the head from the first ones, the tail from the one holding
			 * the last byte (when it is among the first MAX_IOV) */
			__u64 seen = 0;
			__u32 off = 0;
			for (int i = 0; i < MAX_IOV; i++) {
				struct iovec iov;
				if (i >= a->iovcnt || seen >= total)
					break;
				if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(a->buf + i * sizeof(iov))))
					break;
				__u64 len = iov.iov_len;
				if (len > total - seen)
					len = total - seen;
				if (off < want) {
					__u32 n = want - off;
					if (n > len)
						n = len;
					__u32 o = off & (HTTP_CAPTURE_MAX - 1);
					n &= (2 * HTTP_CAPTURE_MAX - 1);
					if (n > HTTP_CAPTURE_MAX)
						n = HTTP_CAPTURE_MAX;
					if (bpf_probe_read_user(&e->data[o], n, iov.iov_base))
						break;
					off += n;
				}
				seen += len;
				/* the tail is the last iovec's last bytes, however few: nginx ends a
				 * chunked body with a 7-byte iovec, CRLF "0" CRLF CRLF */
				if (seen == total && total > off && len > 0) {
					__u32 t = len < HTTP_TAIL_LEN ? (__u32)len : HTTP_TAIL_LEN;
					void *end = (void *)((__u64)iov.iov_base + len - t);
					t &= 2 * HTTP_TAIL_LEN - 1;
					if (t > HTTP_TAIL_LEN)
						t = HTTP_TAIL_LEN;
					if (!bpf_probe_read_user(e->tail, t, end))
						e->tail_len = t;
				}
			}
			e->captured = off;
		}
	}

	__u64 size = offsetof(struct http_capture_event, data) + (e->captured & (2 * HTTP_CAPTURE_MAX - 1));
	if (size > sizeof(struct http_capture_event))
		size = sizeof(struct http_capture_event);
	/* the fill level is a cache line user space writes: looked at every wakeup_check_bytes */
	__u64 flags = BPF_RB_NO_WAKEUP;
	s->unchecked += size;
	if (s->unchecked >= wakeup_check_bytes) {
		s->unchecked = 0;
		if (sonde_wakeup_bytes == 0 || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= sonde_wakeup_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&events, e, size, flags)) {
		sonde_count_lost();
		/* the framing user space does from byte counts has a gap: it must know where */
		c->lost = 1;
	} else {
		if (c->lost)
			c->lost = 0;
		count(HTTP_CNT_EVENTS);
	}
}

/* Ends the TLS connection of `ssl`: its socket `fd` closed (any_fd: the SSL was freed), or on
 * the sock-keyed paths its struct sock `sk` (0: not a socket's end). */
static __always_inline void close_tls(__u32 tgid, __u64 ssl, __s32 fd, bool any_fd, __u64 sk)
{
	struct tls_key tk = { .tgid = tgid, .ssl = ssl };
	struct tls_conn *t = bpf_map_lookup_elem(&tls_conns, &tk);

	/* another socket: the SSL pointer was freed and reused for a newer connection (a socket
	 * reaches TCP_CLOSE after its peer's last ACK, when the server may have freed its SSL and
	 * given the same pointer to the next connection already) */
	if (!t || (!any_fd && t->fd != fd) || (sk && t->sk != sk))
		return;
	if (t->c.state == CONN_HTTP) {
		struct conn_key key = { .tgid = tgid, .fd = t->fd };
		emit(&t->c, &key, HTTP_EV_CLOSE, NULL, bpf_ktime_get_ns(), 0);
	}
	bpf_map_delete_elem(&tls_conns, &tk);
}

/* A new socket from accept/connect: replaces (and closes) what the fd meant before. */
static __always_inline void track(__s32 fd, __u8 role)
{
	__u32 tgid = sonde_tgid();
	struct sock *sk = tcp_sock_of(fd);

	if (!sk)
		return;
	struct conn_key key = { .tgid = tgid, .fd = fd };
	struct conn_info *old = bpf_map_lookup_elem(&conns, &key);
	if (old && old->state == CONN_HTTP)
		emit(old, &key, HTTP_EV_CLOSE, NULL, bpf_ktime_get_ns(), 0);
	if (old && old->ssl)
		close_tls(tgid, old->ssl, fd, false, 0);

	struct conn_info c = { .role = role, .tgid = tgid };
	read_tuple(sk, &c);
	c.id = new_conn_id();
	if (!port_wanted(&c)) {
		c.state = CONN_IGNORED;
		count(HTTP_CNT_FILTERED);
	}
	if (kernel_path) {
		/* the data probes see the sock, not the fd */
		__u64 skk = (__u64)sk;
		if (bpf_map_update_elem(&sk_conns, &skk, &c, BPF_ANY))
			count(HTTP_CNT_CONN_FULL);
		else if (c.state != CONN_IGNORED)
			count(HTTP_CNT_CONNS);
		return;
	}
	if (bpf_map_update_elem(&conns, &key, &c, BPF_ANY))
		count(HTTP_CNT_CONN_FULL);
	else if (c.state != CONN_IGNORED)
		count(HTTP_CNT_CONNS);
}

static __always_inline int on_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret < 0 || !wanted(sonde_tgid()))
		return 0;
	track((__s32)ctx->ret, HTTP_ROLE_SERVER);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tracepoint__syscalls__sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tracepoint__syscalls__sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tracepoint__syscalls__sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__s32 fd = (__s32)ctx->args[0];

	if (!wanted(id >> 32))
		return 0;
	bpf_map_update_elem(&connecting, &id, &fd, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tracepoint__syscalls__sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__s32 *fdp = bpf_map_lookup_elem(&connecting, &id);

	if (!fdp)
		return 0;
	__s32 fd = *fdp;
	bpf_map_delete_elem(&connecting, &id);
	if (ctx->ret == 0 || ctx->ret == -EINPROGRESS)
		track(fd, HTTP_ROLE_CLIENT);
	return 0;
}

/* A process that calls SSL functions (only those pay for the TLS socket bookkeeping). */
static __always_inline bool tls_process(__u32 tgid)
{
	return tls_enabled && tgid_flag(&tls_bits, &tls_tgids, tgid);
}

/* A socket with its connection's role and flags (c: NULL on the syscall path, which has none). */
static __always_inline struct sock_seen sock_seen_of(__u64 sock, const struct conn_info *c)
{
	struct sock_seen s = { .sock = sock };

	if (c) {
		s.role = c->role;
		s.flags = c->flags;
	}
	return s;
}

/* The thread's read of a socket not followed as plaintext HTTP (c: its connection on the
 * sock-keyed paths), for the SSL_read that may follow. */
static __always_inline void note_last_read(__u64 id, __u64 sock, const struct conn_info *c)
{
	struct sock_seen r = sock_seen_of(sock, c);

	bpf_map_update_elem(&last_recv, &id, &r, BPF_ANY);
}

/* Sock-keyed paths: inside an SSL call, the socket the thread uses is the one under that SSL. */
static __always_inline void note_ssl_sock(__u64 id, __u64 sk, const struct conn_info *c)
{
	struct ssl_call *call = bpf_map_lookup_elem(&ssl_calls, &id);

	if (call && !call->sk.sock)
		call->sk = sock_seen_of(sk, c);
}

/* The connection of a socket first seen by its data (it opened before Sonde started, or
 * unwatched): whether its start was seen, its addresses, the port filter. */
static __always_inline void new_conn(struct conn_info *n, struct sock *sk, __u32 tgid, __u64 own_recv,
				     __u64 own_sent)
{
	n->tgid = tgid;
	if (!stream_untouched(sk, own_recv, own_sent))
		n->flags = HTTP_CONN_MIDSTREAM;
	read_tuple(sk, n);
	n->id = new_conn_id();
	if (!port_wanted(n))
		n->state = CONN_IGNORED;
}

/* A socket first seen by its data: its connection, made and put in `map` (conns or sk_conns) at
 * `key`. NULL when it is not one to follow (an ignored one is returned in a process that calls
 * SSL functions: its reads matter to the SSL_read that may follow). */
static __always_inline struct conn_info *first_seen(void *map, void *key, struct sock *sk, __u32 tgid,
						    __u64 own_recv, __u64 own_sent)
{
	struct conn_info n = {};

	new_conn(&n, sk, tgid, own_recv, own_sent);
	bpf_map_update_elem(map, key, &n, BPF_NOEXIST);
	if (n.state == CONN_IGNORED && !tls_process(tgid))
		return NULL;
	return bpf_map_lookup_elem(map, key);
}

/* A data syscall's arguments, when the fd is (or may be) an HTTP socket: false otherwise. `ts`:
 * its time when the caller has it (a send's entry), 0 for now; `moved`: the bytes it moved when
 * called at its exit, 0 at its entry. */
static __always_inline bool data_args_of(__u64 id, __s32 fd, __u64 buf, __u32 iovcnt, __u32 sc, __u32 dir,
					 __u64 ts, __u64 moved, struct data_args *out, struct conn_info **conn)
{
	__u32 tgid = id >> 32;
	__u32 tls_only = 0;

	if (!wanted(tgid))
		return false;
	struct conn_key key = { .tgid = tgid, .fd = fd };
	struct conn_info *c = bpf_map_lookup_elem(&conns, &key);
	if (!c) {
		/* a socket Sonde did not see open (it started later): follow it from its data */
		struct sock *sk = tcp_sock_of(fd);
		if (!sk)
			return 0;
		bool recv = dir == HTTP_DIR_RECV;
		c = first_seen(&conns, &key, sk, tgid, recv ? moved : 0, recv ? 0 : moved);
		if (!c)
			return false;
	}
	/* plaintext HTTP carries no TLS: the TLS bookkeeping costs only the other sockets */
	bool tls = c->state != CONN_HTTP && tls_process(tgid);
	if (tls) {
		/* inside an SSL call, the TCP socket the thread uses is the one under that SSL */
		struct ssl_call *call = bpf_map_lookup_elem(&ssl_calls, &id);
		if (call && call->fd < 0)
			call->fd = fd;
	}
	if (c->state == CONN_IGNORED) {
		/* ciphertext: its read is noted for the SSL_read that may follow on this thread */
		if (!tls || dir != HTTP_DIR_RECV)
			return false;
		tls_only = 1;
	}
	out->ts_ns = ts ?: bpf_ktime_get_ns();
	out->buf = buf;
	out->iovcnt = iovcnt;
	out->fd = fd;
	out->syscall = sc;
	out->direction = dir;
	out->tls_only = tls_only;
	out->buf_len = 0;
	out->sk = 0;
	*conn = c;
	return true;
}

/* Entry of a data syscall: remember its arguments when the fd is (or may be) an HTTP socket. */
static __always_inline int on_data_enter(__s32 fd, __u64 buf, __u32 iovcnt, __u32 sc, __u32 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct conn_info *c;
	struct data_args a;

	if (!data_args_of(id, fd, buf, iovcnt, sc, dir, 0, 0, &a, &c))
		return 0;
	if (bpf_map_update_elem(&inflight, &id, &a, BPF_ANY)) {
		count(HTTP_CNT_ARGS_FULL);
		c->lost = 1; /* this syscall's bytes will not be seen */
	}
	return 0;
}

/* A request method or a status line at the start of a message. */
static __always_inline int http_start(const __u8 *b)
{
	if (b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' && b[4] == '/' && b[5] == '1' && b[6] == '.')
		return 2;
	if (b[0] == 'G' && b[1] == 'E' && b[2] == 'T' && b[3] == ' ')
		return 1;
	if (b[0] == 'P' && b[1] == 'O' && b[2] == 'S' && b[3] == 'T' && b[4] == ' ')
		return 1;
	if (b[0] == 'P' && b[1] == 'U' && b[2] == 'T' && b[3] == ' ')
		return 1;
	if (b[0] == 'H' && b[1] == 'E' && b[2] == 'A' && b[3] == 'D' && b[4] == ' ')
		return 1;
	if (b[0] == 'D' && b[1] == 'E' && b[2] == 'L' && b[3] == 'E' && b[4] == 'T' && b[5] == 'E' && b[6] == ' ')
		return 1;
	if (b[0] == 'P' && b[1] == 'A' && b[2] == 'T' && b[3] == 'C' && b[4] == 'H' && b[5] == ' ')
		return 1;
	if (b[0] == 'O' && b[1] == 'P' && b[2] == 'T' && b[3] == 'I' && b[4] == 'O' && b[5] == 'N' && b[6] == 'S')
		return 1;
	if (b[0] == 'C' && b[1] == 'O' && b[2] == 'N' && b[3] == 'N' && b[4] == 'E' && b[5] == 'C' && b[6] == 'T')
		return 1;
	if (b[0] == 'T' && b[1] == 'R' && b[2] == 'A' && b[3] == 'C' && b[4] == 'E' && b[5] == ' ')
		return 1;
	return 0;
}

/* The first 8 bytes the syscall moved. */
static __always_inline bool read_head(const struct data_args *a, __u8 *head)
{
	void *p = (void *)a->buf;

	if (a->iovcnt) {
		struct iovec iov;
		if (bpf_probe_read_user(&iov, sizeof(iov), p) || iov.iov_len < 8)
			return false;
		p = iov.iov_base;
	}
	return bpf_probe_read_user(head, 8, p) == 0;
}

/* Whether this syscall's data belongs to a followed connection, deciding undecided ones. */
static __always_inline bool follow(struct conn_info *c, const struct data_args *a, __s64 ret)
{
	if (c->state == CONN_HTTP)
		return true;
	/* sendfile carries no bytes to look at; too short to tell yet */
	if (c->state == CONN_IGNORED || a->syscall == HTTP_SC_SENDFILE || ret < 8)
		return false;
	__u8 head[8] = {};
	int kind = read_head(a, head) ? http_start(head) : 0;
	if (!kind) {
		/* accepted/connected sockets speak first: not HTTP. Mid-stream ones get a few tries
		 * (a body may be in flight when Sonde starts) */
		if (!(c->flags & HTTP_CONN_MIDSTREAM) || ++c->misses >= MIDSTREAM_TRIES)
			c->state = CONN_IGNORED;
		return false;
	}
	if (c->role == HTTP_ROLE_UNKNOWN) {
		/* receiving a request (or sending a response) makes it the server side */
		bool request = kind == 1;
		bool recv = a->direction == HTTP_DIR_RECV;
		c->role = request == recv ? HTTP_ROLE_SERVER : HTTP_ROLE_CLIENT;
		/* a TLS connection without addresses yet is filtered once its socket is known */
		if (!(c->flags & HTTP_CONN_NO_TUPLE) && !port_wanted(c)) {
			c->state = CONN_IGNORED;
			count(HTTP_CNT_FILTERED);
			return false;
		}
	}
	c->state = CONN_HTTP;
	count(HTTP_CNT_CONNS);
	return true;
}

/* The bytes a data syscall moved (ret > 0), with its arguments: follow, note, send. `c` is the
 * connection when the caller has just looked it up (arguments read at exit: a.ts_ns is a send's
 * start or the exit). */
static __always_inline int data_done(__u64 id, struct data_args a, __s64 ret, struct conn_info *c)
{
	if (a.tls_only) {
		note_last_read(id, (__u64)a.fd, NULL);
		return 0;
	}
	struct conn_key key = { .tgid = id >> 32, .fd = a.fd };
	bool at_exit = c != NULL;
	if (!c)
		c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	if (!follow(c, &a, ret)) {
		if (a.direction == HTTP_DIR_RECV && tls_process(key.tgid))
			note_last_read(id, (__u64)a.fd, NULL);
		return 0;
	}
	/* plaintext HTTP read: no SSL_read can be decrypting what this thread read last */
	if (a.direction == HTTP_DIR_RECV && tls_process(key.tgid))
		bpf_map_delete_elem(&last_recv, &id);
	/* a send starts when the process hands over its bytes, a receive when they arrive */
	__u64 ts = a.direction == HTTP_DIR_SEND || at_exit ? a.ts_ns : bpf_ktime_get_ns();
	emit(c, &key, HTTP_EV_DATA, &a, ts, (__u64)ret);
	return 0;
}

static __always_inline int on_data_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct data_args *ap = bpf_map_lookup_elem(&inflight, &id);

	if (!ap)
		return 0;
	struct data_args a = *ap;
	bpf_map_delete_elem(&inflight, &id);
	if (ctx->ret <= 0)
		return 0;
	return data_done(id, a, ctx->ret, NULL);
}

/*
 * args_at_exit (Linux 5.15+, bpf_task_pt_regs; user space turns it off where the kernel lacks
 * the helper): a syscall's arguments are read at its exit from the registers it was entered
 * with, so nothing is kept per syscall in a hash map. A receive needs no entry program at all
 * (its time is its exit), and nothing runs for one that moved nothing (EAGAIN: Go and nginx poll
 * that way). A send's entry only notes its time in a per-CPU slot (a request starts when the
 * process hands over its first byte); its exit takes that time when the slot still holds this
 * thread's entry of this syscall, else (the thread migrated, or another entered on this CPU in
 * between) the exit time.
 */
const volatile bool args_at_exit = false;

/* Where a syscall's data is: args[1] a buffer, an iovec array (count in args[2]), a msghdr, none. */
#define ARGS_BUF 0
#define ARGS_IOV 1
#define ARGS_MSGHDR 2
#define ARGS_NONE 3

struct send_start {
	__u64 id;  /* pid_tgid */
	__u64 ts;
	__u32 nr;  /* enum http_syscall */
	__s32 fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct send_start);
} send_starts SEC(".maps");

static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* A syscall's first arguments from the registers it was entered with. bpf_task_pt_regs gives
 * a BTF pointer: plain loads, where the CO-RE macros make a bpf_probe_read_kernel call each. */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_ARG1(r) ((r)->di)
#define SYSCALL_ARG2(r) ((r)->si)
#define SYSCALL_ARG3(r) ((r)->dx)
#define SYSCALL_ARG4(r) ((r)->r10)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_ARG1(r) ((r)->orig_x0)
#define SYSCALL_ARG2(r) ((r)->regs[1])
#define SYSCALL_ARG3(r) ((r)->regs[2])
#define SYSCALL_ARG4(r) ((r)->regs[3])
#else
#define SYSCALL_ARG1(r) PT_REGS_PARM1_CORE_SYSCALL(r)
#define SYSCALL_ARG2(r) PT_REGS_PARM2_CORE_SYSCALL(r)
#define SYSCALL_ARG3(r) PT_REGS_PARM3_CORE_SYSCALL(r)
#define SYSCALL_ARG4(r) PT_REGS_PARM4_CORE_SYSCALL(r)
#endif

static __always_inline int on_send_start(__u32 sc, __s32 fd)
{
	__u32 zero = 0;
	struct send_start *st = bpf_map_lookup_elem(&send_starts, &zero);

	if (st) {
		st->id = bpf_get_current_pid_tgid();
		st->ts = bpf_ktime_get_ns();
		st->nr = sc;
		st->fd = fd;
	}
	return 0;
}

/* This thread's entry of a send as noted in this CPU's slot, which it empties (id 0 when the slot
 * holds another's: the thread migrated, or another entered here in between). Emptied even when
 * the send moved nothing, so no later exit of the thread on this CPU takes a stale start. */
static __always_inline struct send_start take_send_start(__u64 id)
{
	__u32 zero = 0;
	struct send_start *st = bpf_map_lookup_elem(&send_starts, &zero);
	struct send_start out = {};

	if (st && st->id == id) {
		out = *st;
		st->id = 0;
	}
	return out;
}

/* What a receive's flags make of it: skipped (a peek: its bytes come again), or counted with
 * nothing captured (MSG_TRUNC: the buffer was not written). */
#define RECV_SKIP 1
#define RECV_NO_COPY 2
static __always_inline int recv_flags(__u64 flags)
{
	if (flags & MSG_PEEK)
		return RECV_SKIP;
	return flags & MSG_TRUNC ? RECV_NO_COPY : 0;
}

/* Where the data of a syscall entered with `regs` is, by its form: the buffer or iovec array,
 * and the iovec count (0: a plain buffer); left as they are for ARGS_NONE. false: its msghdr is
 * unreadable. */
static __always_inline bool syscall_buffers(struct pt_regs *regs, int form, __u64 *buf, __u32 *iovcnt)
{
	if (form == ARGS_MSGHDR) {
		struct user_msghdr msg;
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)SYSCALL_ARG2(regs)))
			return false;
		*buf = (__u64)msg.msg_iov;
		*iovcnt = (__u32)msg.msg_iovlen ?: 1;
	} else if (form != ARGS_NONE) {
		*buf = (__u64)SYSCALL_ARG2(regs);
		*iovcnt = form == ARGS_IOV ? (__u32)SYSCALL_ARG3(regs) : 0;
	}
	return true;
}

/* Exit with the arguments from the registers: buf/iovcnt, or a msghdr for recvmsg/sendmsg;
 * flags_arg: which argument holds a receive's flags (0: none). */
static __always_inline int on_exit_regs(struct trace_event_raw_sys_exit *ctx, __u32 sc, __u32 dir, int form,
					int flags_arg)
{
	__s64 ret = ctx->ret;
	__u64 id = bpf_get_current_pid_tgid();
	struct send_start start = {};

	if (dir == HTTP_DIR_SEND)
		start = take_send_start(id);
	if (ret <= 0)
		return 0;
	struct pt_regs *regs = syscall_regs();
	__s32 fd = (__s32)SYSCALL_ARG1(regs);
	__u64 buf = 0;
	__u32 iovcnt = 0;
	int rf = flags_arg == 4 ? recv_flags(SYSCALL_ARG4(regs)) : flags_arg == 3 ? recv_flags(SYSCALL_ARG3(regs)) : 0;
	if (rf == RECV_SKIP)
		return 0;
	if (rf == RECV_NO_COPY)
		form = ARGS_NONE;
	if (!syscall_buffers(regs, form, &buf, &iovcnt))
		return 0;
	/* a send starts at its entry (when this CPU saw it), else at its exit */
	__u64 ts = start.id == id && start.nr == sc && start.fd == fd ? start.ts : 0;
	struct conn_info *c;
	struct data_args a;
	if (!data_args_of(id, fd, buf, iovcnt, sc, dir, ts, (__u64)ret, &a, &c))
		return 0;
	return data_done(id, a, ret, c);
}

static __always_inline int on_msg_enter(struct trace_event_raw_sys_enter *ctx, __u32 sc, __u32 dir)
{
	struct user_msghdr msg;

	if (bpf_probe_read_user(&msg, sizeof(msg), (void *)ctx->args[1]))
		return 0;
	return on_data_enter((__s32)ctx->args[0], (__u64)msg.msg_iov, (__u32)msg.msg_iovlen ?: 1, sc, dir);
}

static __always_inline int on_enter(struct trace_event_raw_sys_enter *ctx, __u32 sc, __u32 dir, int form, int flags_arg)
{
	if (args_at_exit)
		return dir == HTTP_DIR_SEND ? on_send_start(sc, (__s32)ctx->args[0]) : 0;
	int rf = flags_arg == 4 ? recv_flags(ctx->args[3]) : flags_arg == 3 ? recv_flags(ctx->args[2]) : 0;
	if (rf == RECV_SKIP)
		return 0;
	if (rf == RECV_NO_COPY)
		form = ARGS_NONE;
	if (form == ARGS_MSGHDR)
		return on_msg_enter(ctx, sc, dir);
	return on_data_enter((__s32)ctx->args[0], form == ARGS_NONE ? 0 : (__u64)ctx->args[1],
			     form == ARGS_IOV ? (__u32)ctx->args[2] : 0, sc, dir);
}

/* Receive entries are not even attached with args_at_exit (user space leaves them out). */
/* FLAGS: which syscall argument holds a receive's flags (0: none) */
#define DATA_PROGS(name, SC, DIR, FORM, FLAGS)                                            \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                       \
	int tracepoint__syscalls__sys_enter_##name(struct trace_event_raw_sys_enter *ctx) \
	{                                                                                 \
		return on_enter(ctx, SC, DIR, FORM, FLAGS);                               \
	}                                                                                 \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                        \
	int tracepoint__syscalls__sys_exit_##name(struct trace_event_raw_sys_exit *ctx)   \
	{                                                                                 \
		return args_at_exit ? on_exit_regs(ctx, SC, DIR, FORM, FLAGS) : on_data_exit(ctx); \
	}

DATA_PROGS(read, HTTP_SC_READ, HTTP_DIR_RECV, ARGS_BUF, 0)
DATA_PROGS(readv, HTTP_SC_READV, HTTP_DIR_RECV, ARGS_IOV, 0)
DATA_PROGS(recvfrom, HTTP_SC_RECVFROM, HTTP_DIR_RECV, ARGS_BUF, 4)
DATA_PROGS(recvmsg, HTTP_SC_RECVMSG, HTTP_DIR_RECV, ARGS_MSGHDR, 3)
DATA_PROGS(write, HTTP_SC_WRITE, HTTP_DIR_SEND, ARGS_BUF, 0)
DATA_PROGS(writev, HTTP_SC_WRITEV, HTTP_DIR_SEND, ARGS_IOV, 0)
DATA_PROGS(sendto, HTTP_SC_SENDTO, HTTP_DIR_SEND, ARGS_BUF, 0)
DATA_PROGS(sendmsg, HTTP_SC_SENDMSG, HTTP_DIR_SEND, ARGS_MSGHDR, 0)
/* sendfile carries a body from a file: counted, never captured */
DATA_PROGS(sendfile64, HTTP_SC_SENDFILE, HTTP_DIR_SEND, ARGS_NONE, 0)

SEC("tracepoint/syscalls/sys_enter_close")
int tracepoint__syscalls__sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = sonde_tgid();

	if (!wanted(tgid))
		return 0;
	struct conn_key key = { .tgid = tgid, .fd = (__s32)ctx->args[0] };
	struct conn_info *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	if (c->state == CONN_HTTP)
		emit(c, &key, HTTP_EV_CLOSE, NULL, bpf_ktime_get_ns(), 0);
	if (c->ssl)
		close_tls(tgid, c->ssl, key.fd, false, 0);
	bpf_map_delete_elem(&conns, &key);
	return 0;
}

/* ---- TLS: SSL_read/SSL_write plaintext ------------------------------------------------------ */

static __always_inline int ssl_enter(void *ssl, void *buf, void *len_ptr, __u32 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (!tls_enabled || !wanted(tgid))
		return 0;
	set_tgid_flag(&tls_bits, &tls_tgids, tgid);
	struct ssl_call call = {
		.ssl = (__u64)ssl, .buf = (__u64)buf, .len_ptr = (__u64)len_ptr,
		.ts_ns = bpf_ktime_get_ns(), .fd = -1, .direction = dir,
	};
	if (bpf_map_update_elem(&ssl_calls, &id, &call, BPF_ANY)) {
		count(HTTP_CNT_TLS_CALLS_FULL);
		/* this call's plaintext will not be seen */
		struct tls_key tk = { .tgid = tgid, .ssl = (__u64)ssl };
		struct tls_conn *t = bpf_map_lookup_elem(&tls_conns, &tk);
		if (t)
			t->c.lost = 1;
	}
	return 0;
}

/* A TLS connection's addresses are known now: the port filter could not be applied before. */
static __always_inline void socket_known(struct tls_conn *t, __u32 tgid, __s32 fd)
{
	t->c.flags &= ~HTTP_CONN_NO_TUPLE;
	if (t->c.state != CONN_IGNORED && t->c.role != HTTP_ROLE_UNKNOWN && !port_wanted(&t->c)) {
		if (t->c.state == CONN_HTTP) {
			struct conn_key key = { .tgid = tgid, .fd = fd };
			emit(&t->c, &key, HTTP_EV_CLOSE, NULL, bpf_ktime_get_ns(), 0);
		}
		t->c.state = CONN_IGNORED;
		count(HTTP_CNT_FILTERED);
	}
}

/* The TLS connection learns its socket: addresses, role, whether its start was seen. */
static __always_inline void bind_socket(struct tls_conn *t, __u32 tgid, __s32 fd, __u64 ssl)
{
	struct conn_key fk = { .tgid = tgid, .fd = fd };
	struct conn_info *fc = bpf_map_lookup_elem(&conns, &fk);

	if (fc) {
		__builtin_memcpy(t->c.laddr, fc->laddr, 16);
		__builtin_memcpy(t->c.raddr, fc->raddr, 16);
		t->c.lport = fc->lport;
		t->c.rport = fc->rport;
		if (t->c.role == HTTP_ROLE_UNKNOWN)
			t->c.role = fc->role;
		/* the socket was seen opening, so was this TLS session's plaintext (user space
		 * confirms the requests it held as tentative) */
		if (!(fc->flags & HTTP_CONN_MIDSTREAM))
			t->c.flags &= ~HTTP_CONN_MIDSTREAM;
		fc->ssl = ssl;
		/* its ciphertext is never HTTP: stop looking at it */
		if (fc->state != CONN_HTTP)
			fc->state = CONN_IGNORED;
	} else {
		struct sock *sk = tcp_sock_of(fd);
		if (!sk)
			return;
		read_tuple(sk, &t->c);
		struct conn_info n = { .state = CONN_IGNORED, .flags = HTTP_CONN_MIDSTREAM, .ssl = ssl };
		read_tuple(sk, &n);
		n.id = new_conn_id();
		bpf_map_update_elem(&conns, &fk, &n, BPF_NOEXIST);
	}
	t->fd = fd;
	socket_known(t, tgid, fd);
}

/* Sock-keyed paths: the same, from the struct sock the SSL call read or wrote (its connection's
 * role and flags noted with it: the socket storage of the sock path is out of a uprobe's reach).
 * Its ciphertext stops being looked at as its bytes fail to look like HTTP. */
static __always_inline void bind_sock(struct tls_conn *t, __u32 tgid, const struct ssl_call *call)
{
	read_tuple((struct sock *)call->sk.sock, &t->c);
	if (t->c.role == HTTP_ROLE_UNKNOWN)
		t->c.role = call->sk.role;
	if (!(call->sk.flags & HTTP_CONN_MIDSTREAM))
		t->c.flags &= ~HTTP_CONN_MIDSTREAM;
	/* the socket's end ends the TLS connection */
	bpf_map_update_elem(&sk_ssl, &call->sk.sock, &call->ssl, BPF_ANY);
	/* bound: this path knows the sock, not the fd (records carry fd -1 anyway) */
	t->fd = 0;
	t->sk = call->sk.sock;
	socket_known(t, tgid, -1);
}

static __always_inline int ssl_return(long rc)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ssl_call *cp = bpf_map_lookup_elem(&ssl_calls, &id);

	if (!cp)
		return 0;
	struct ssl_call call = *cp;
	bpf_map_delete_elem(&ssl_calls, &id);
	__u64 n = 0;
	int ret = (int)rc; /* every SSL_read/SSL_write form returns an int */
	if (call.len_ptr) {
		if (ret == 1 && bpf_probe_read_user(&n, sizeof(n), (void *)call.len_ptr))
			n = 0;
	} else if (ret > 0) {
		n = ret;
	}
	__s32 fd = call.fd;
	if (fd < 0 && !call.sk.sock && call.direction == HTTP_DIR_RECV) {
		/* memory BIO: the ciphertext was read by this thread just before */
		struct sock_seen *lr = bpf_map_lookup_elem(&last_recv, &id);
		if (lr) {
			if (kernel_path)
				call.sk = *lr;
			else
				fd = (__s32)lr->sock;
			bpf_map_delete_elem(&last_recv, &id);
		}
	}
	struct tls_key tk = { .tgid = tgid, .ssl = call.ssl };
	struct tls_conn *t = bpf_map_lookup_elem(&tls_conns, &tk);
	if (t && fd >= 0 && t->fd >= 0 && t->fd != fd) {
		/* the SSL pointer runs over another socket now (freed and reused unseen) */
		close_tls(tgid, call.ssl, fd, true, 0);
		t = NULL;
	}
	if (!t) {
		if (n == 0 && fd < 0)
			return 0; /* nothing to learn, nothing to send */
		struct tls_conn nt = { .fd = -1 };
		nt.c.id = new_conn_id();
		nt.c.flags = HTTP_CONN_TLS | HTTP_CONN_MIDSTREAM | HTTP_CONN_NO_TUPLE;
		bpf_map_update_elem(&tls_conns, &tk, &nt, BPF_ANY);
		t = bpf_map_lookup_elem(&tls_conns, &tk);
		if (!t)
			return 0;
		count(HTTP_CNT_TLS_CONNS);
	}
	if (t->fd < 0 && fd >= 0)
		bind_socket(t, tgid, fd, call.ssl);
	else if (t->fd < 0 && call.sk.sock)
		bind_sock(t, tgid, &call);
	if (n == 0)
		return 0;
	struct data_args a = {
		.ts_ns = call.direction == HTTP_DIR_SEND ? call.ts_ns : bpf_ktime_get_ns(),
		.buf = call.buf, .iovcnt = 0, .fd = t->fd,
		.syscall = call.direction == HTTP_DIR_SEND ? HTTP_SC_SSL_WRITE : HTTP_SC_SSL_READ,
		.direction = call.direction,
	};
	if (!follow(&t->c, &a, (__s64)n))
		return 0;
	if (t->fd < 0)
		count(HTTP_CNT_TLS_NO_FD);
	struct conn_key key = { .tgid = tgid, .fd = t->fd };
	emit(&t->c, &key, HTTP_EV_DATA, &a, a.ts_ns, n);
	return 0;
}

/* int SSL_read(SSL *ssl, void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(uprobe__SSL_read, void *ssl, void *buf)
{
	return ssl_enter(ssl, buf, NULL, HTTP_DIR_RECV);
}

/* int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes) */
SEC("uprobe")
int BPF_KPROBE(uprobe__SSL_read_ex, void *ssl, void *buf, __u64 num, void *readbytes)
{
	return ssl_enter(ssl, buf, readbytes, HTTP_DIR_RECV);
}

/* int SSL_write(SSL *ssl, const void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(uprobe__SSL_write, void *ssl, void *buf)
{
	return ssl_enter(ssl, buf, NULL, HTTP_DIR_SEND);
}

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(uprobe__SSL_write_ex, void *ssl, void *buf, __u64 num, void *written)
{
	return ssl_enter(ssl, buf, written, HTTP_DIR_SEND);
}

/* the return of any of the four (the entry saved which) */
SEC("uretprobe")
int BPF_KRETPROBE(uretprobe__SSL_return, long rc)
{
	return ssl_return(rc);
}

/* void SSL_free(SSL *ssl): the TLS connection ends, and the pointer may be reused */
SEC("uprobe")
int BPF_KPROBE(uprobe__SSL_free, void *ssl)
{
	__u32 tgid = sonde_tgid();

	if (!tls_enabled || !ssl || !wanted(tgid))
		return 0;
	close_tls(tgid, (__u64)ssl, -1, true, 0);
	return 0;
}

/* ---- kernel path: tcp_sendmsg / tcp_recvmsg / tcp_close, by kprobe or fentry ------------------- */

/* before 6.4 the iovec pointer of struct iov_iter was named `iov` */
struct iov_iter___pre64 {
	const struct iovec *iov;
} __attribute__((preserve_access_index));

/* The user buffer of a message's first segment and its length; false for kernel pages
 * (sendfile, splice) and other iterator kinds. */
static __always_inline bool msg_user_buf(struct msghdr *msg, __u64 *buf, __u64 *len)
{
	struct iov_iter *it = &msg->msg_iter;
	__u8 type = BPF_CORE_READ(it, iter_type);
	__u64 off = BPF_CORE_READ(it, iov_offset);

	if (bpf_core_enum_value_exists(enum iter_type, ITER_UBUF) &&
	    type == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
		*buf = (__u64)BPF_CORE_READ(it, ubuf) + off;
		*len = BPF_CORE_READ(it, count);
		return true;
	}
	if (type != bpf_core_enum_value(enum iter_type, ITER_IOVEC))
		return false;
	const struct iovec *iov;
	if (bpf_core_field_exists(it->__iov))
		iov = BPF_CORE_READ(it, __iov);
	else
		iov = BPF_CORE_READ((struct iov_iter___pre64 *)it, iov);
	struct iovec v;
	if (!iov || bpf_probe_read_kernel(&v, sizeof(v), iov) || v.iov_len <= off)
		return false;
	*buf = (__u64)v.iov_base + off;
	*len = v.iov_len - off;
	return true;
}

/* A socket's end, on the sock-keyed paths: its connection's and that of the TLS session over it. */
static __always_inline void end_sock_conn(__u64 sk, struct conn_info *c)
{
	struct conn_key ck = { .tgid = c->tgid ?: sonde_tgid(), .fd = -1 };

	if (c->state == CONN_HTTP)
		emit(c, &ck, HTTP_EV_CLOSE, NULL, bpf_ktime_get_ns(), 0);
	if (!tls_enabled)
		return;
	__u64 *sslp = bpf_map_lookup_elem(&sk_ssl, &sk);
	if (!sslp)
		return;
	__u64 ssl = *sslp;
	bpf_map_delete_elem(&sk_ssl, &sk);
	close_tls(ck.tgid, ssl, -1, true, sk);
}

/* A kprobe/fentry-path connection ends: its socket reached TCP_CLOSE (or its address was reused). */
static __always_inline void end_sk_conn(__u64 key, struct conn_info *c)
{
	end_sock_conn(key, c);
	bpf_map_delete_elem(&sk_conns, &key);
}

/* A struct sock that may carry HTTP: TCP over IPv4/IPv6 on a socket a process holds (the sock
 * tracepoints fire for every protocol, and for the kernel's own sockets), not past its end (a
 * reset while a send was completing: no connection made again only to outlive it). */
static __always_inline bool followable(struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family != AF_INET && family != AF_INET6)
		return false;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP || !BPF_CORE_READ(sk, sk_socket, file))
		return false;
	return BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_CLOSE;
}

/*
 * The connection of a struct sock on the kprobe/fentry path, made when first seen.
 * `own_recv`/`own_sent`: the bytes the call at hand moved already (see stream_untouched).
 */
static __always_inline struct conn_info *sk_conn_of(struct sock *sk, __u32 tgid, __u64 own_recv, __u64 own_sent)
{
	__u64 key = (__u64)sk;
	struct conn_info *c = bpf_map_lookup_elem(&sk_conns, &key);

	if (c) {
		if (c->portpair == BPF_CORE_READ(sk, __sk_common.skc_portpair))
			return c;
		/* a freed sock's address, reused: its entry outlived it (a message that completed just
		 * after its TCP_CLOSE made it again, or its end was never seen) */
		end_sk_conn(key, c);
	}
	/* a socket Sonde did not see open (it started later, or no accept/connect is watched) */
	if (!followable(sk))
		return NULL;
	return first_seen(&sk_conns, &key, sk, tgid, own_recv, own_sent);
}

/* flags: a receive's (0 for a send) */
static __always_inline int on_sk_enter(struct sock *sk, struct msghdr *msg, __u32 dir, __u64 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u64 key = (__u64)sk;
	int rf = recv_flags(flags);

	if (!kernel_path || !sk || rf == RECV_SKIP || !wanted(tgid))
		return 0;
	struct conn_info *c = sk_conn_of(sk, tgid, 0, 0);
	if (!c)
		return 0;
	if (c->state != CONN_HTTP && tls_process(tgid))
		note_ssl_sock(id, key, c);
	if (c->state == CONN_IGNORED)
		return 0;
	struct data_args a = {
		.ts_ns = bpf_ktime_get_ns(), .fd = -1, .direction = dir, .sk = key,
		.syscall = dir == HTTP_DIR_SEND ? HTTP_SC_TCP_SENDMSG : HTTP_SC_TCP_RECVMSG,
	};
	__u64 buf = 0, len = 0;
	if (rf != RECV_NO_COPY && msg_user_buf(msg, &buf, &len) && len > 0) {
		a.buf = buf;
		a.buf_len = len > 0xffffffffULL ? 0xffffffff : (__u32)len;
	} else {
		a.syscall = HTTP_SC_SENDFILE; /* kernel pages, MSG_TRUNC: counted, never captured */
	}
	if (bpf_map_update_elem(&inflight, &id, &a, BPF_ANY)) {
		count(HTTP_CNT_ARGS_FULL);
		c->lost = 1; /* this call's bytes will not be seen */
	}
	return 0;
}

static __always_inline int on_sk_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct data_args *ap = bpf_map_lookup_elem(&inflight, &id);

	if (!ap)
		return 0;
	struct data_args a = *ap;
	bpf_map_delete_elem(&inflight, &id);
	if (ret <= 0)
		return 0;
	struct conn_info *c = bpf_map_lookup_elem(&sk_conns, &a.sk);
	if (!c || !follow(c, &a, ret))
		return 0;
	struct conn_key key = { .tgid = id >> 32, .fd = -1 };
	__u64 ts = a.direction == HTTP_DIR_SEND ? a.ts_ns : bpf_ktime_get_ns();
	emit(c, &key, HTTP_EV_DATA, &a, ts, (__u64)ret);
	return 0;
}

static __always_inline int on_sk_close(struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct conn_info *c = bpf_map_lookup_elem(&sk_conns, &key);

	if (c)
		end_sk_conn(key, c);
	return 0;
}

/* tcp_recvmsg's flags from its 4th and 5th arguments, both read first: the verifier refuses a
 * context load at an offset chosen at run time */
static __always_inline __u64 recvmsg_flags(__u64 arg4, __u64 arg5)
{
	asm volatile("" : "+r"(arg4), "+r"(arg5));
	return tcp_recvmsg_flags_arg == 5 ? arg5 : arg4;
}

/* int tcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size) */
SEC("fentry/tcp_sendmsg")
int BPF_PROG(fentry__tcp_sendmsg, struct sock *sk, struct msghdr *msg, size_t size)
{
	return on_sk_enter(sk, msg, HTTP_DIR_SEND, 0);
}

SEC("fexit/tcp_sendmsg")
int BPF_PROG(fexit__tcp_sendmsg, struct sock *sk, struct msghdr *msg, size_t size, int ret)
{
	return on_sk_exit(ret);
}

/* int tcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len)
 * (before 5.19: ..., size_t len, int nonblock, int flags, int *addr_len) */
SEC("fentry/tcp_recvmsg")
int BPF_PROG(fentry__tcp_recvmsg, struct sock *sk, struct msghdr *msg, size_t len)
{
	return on_sk_enter(sk, msg, HTTP_DIR_RECV, recvmsg_flags(ctx[3], ctx[4]));
}

SEC("fexit/tcp_recvmsg")
int BPF_PROG(fexit__tcp_recvmsg, struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len, int ret)
{
	return on_sk_exit(ret);
}

/* void tcp_close(struct sock *sk, long timeout) */
SEC("fentry/tcp_close")
int BPF_PROG(fentry__tcp_close, struct sock *sk, long timeout)
{
	return kernel_path ? on_sk_close(sk) : 0;
}

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(kprobe__tcp_sendmsg, struct sock *sk, struct msghdr *msg)
{
	return on_sk_enter(sk, msg, HTTP_DIR_SEND, 0);
}

SEC("kretprobe/tcp_sendmsg")
int BPF_KRETPROBE(kretprobe__tcp_sendmsg, int ret)
{
	return on_sk_exit(ret);
}

SEC("kprobe/tcp_recvmsg")
int BPF_KPROBE(kprobe__tcp_recvmsg, struct sock *sk, struct msghdr *msg)
{
	return on_sk_enter(sk, msg, HTTP_DIR_RECV, recvmsg_flags(PT_REGS_PARM4(ctx), PT_REGS_PARM5(ctx)));
}

SEC("kretprobe/tcp_recvmsg")
int BPF_KRETPROBE(kretprobe__tcp_recvmsg, int ret)
{
	return on_sk_exit(ret);
}

SEC("kprobe/tcp_close")
int BPF_KPROBE(kprobe__tcp_close, struct sock *sk)
{
	return kernel_path ? on_sk_close(sk) : 0;
}

/* ---- sock path: the sock and tcp tracepoints, no syscall tracepoint at all ----------------------
 *
 * sock:sock_send_length and sock:sock_recv_length fire once per socket message, after it moved
 * (sock_sendmsg/sock_recvmsg: read/write and friends, sendfile and splice, sendmmsg/recvmmsg,
 * io_uring), with the struct sock, the bytes moved and the receive flags. The user buffer is the
 * one of the data syscall the thread is in, read from the registers it entered with; a message
 * moved from anywhere else (sendfile, splice, io_uring, the mmsg calls) is counted, not captured.
 * tcp:tcp_sendmsg_locked fires before a TCP send queues its first byte: the send's start (a
 * request starts when the process hands over its first byte, so a CLIENT span encloses its
 * SERVER span). sock:inet_sock_set_state to TCP_CLOSE ends a connection. A connection's start is
 * told from TCP's byte counters (stream_untouched), its role from its first HTTP message.
 *
 * Enabling a syscall tracepoint puts every syscall of every process on the kernel's slow path;
 * these tracepoints cost only the socket calls they fire on. They are attached BTF-typed
 * (tp_btf): their struct sock is a typed pointer, so a connection lives in the socket's own
 * storage (bpf_sk_storage, Linux 5.11+ here), found without a hash walk and freed with the socket.
 * A uprobe cannot reach that storage: what an SSL call learns of its socket is noted with the
 * call (note_ssl_sock, note_last_read), and the socket's end finds its TLS session in sk_ssl.
 */

/* a TCP send in progress on this CPU: its thread, socket, start, and the sequence number its last
 * byte will have (write_seq plus what is left to queue: the same at every chunk of one send) */
struct sock_send {
	__u64 id;
	__u64 sk;
	__u64 ts;
	__u32 end_seq;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sock_send);
} sock_sends SEC(".maps");

/* the sock path's connections, kept with their socket: freed with it (no entry outlives its
 * socket, none is evicted while the socket lives), as many as there are sockets */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn_info);
} sock_conns SEC(".maps");

/* The connection of a socket on the sock path, made when first seen (see sk_conn_of). */
static __always_inline struct conn_info *sock_conn_of(struct sock *sk, __u32 tgid, __u64 own_recv, __u64 own_sent)
{
	struct conn_info *c = bpf_sk_storage_get(&sock_conns, sk, 0, 0);

	if (c)
		return c;
	if (!followable(sk))
		return NULL;
	struct conn_info n = {};
	new_conn(&n, sk, tgid, own_recv, own_sent);
	c = bpf_sk_storage_get(&sock_conns, sk, &n, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count(HTTP_CNT_CONN_FULL);
		return NULL;
	}
	if (c->state == CONN_IGNORED && !tls_process(tgid))
		return NULL;
	return c;
}

#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD 0x00200000

/* Syscall numbers of the data syscalls whose buffers are known. */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(r) ((r)->orig_ax)
enum { NR_READ = 0, NR_WRITE = 1, NR_READV = 19, NR_WRITEV = 20, NR_SENDFILE = 40, NR_SENDTO = 44,
       NR_RECVFROM = 45, NR_SENDMSG = 46, NR_RECVMSG = 47 };
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(r) ((r)->syscallno)
enum { NR_READ = 63, NR_WRITE = 64, NR_READV = 65, NR_WRITEV = 66, NR_SENDFILE = 71, NR_SENDTO = 206,
       NR_RECVFROM = 207, NR_SENDMSG = 211, NR_RECVMSG = 212 };
#endif

/* Where the message's bytes are in user memory: the buffer, iovec array or msghdr of the data
 * syscall this thread is in. false: none known (counted only, as sendfile's). */
static __always_inline bool syscall_data(struct data_args *a)
{
#ifdef SYSCALL_NR
	struct task_struct *task = bpf_get_current_task_btf();
	/* a kernel thread or an io_uring worker is in no syscall of its own */
	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return false;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 nr = SYSCALL_NR(regs);
	int form;
	__u32 sc;

	switch (nr) {
	case NR_READ: sc = HTTP_SC_READ; form = ARGS_BUF; break;
	case NR_WRITE: sc = HTTP_SC_WRITE; form = ARGS_BUF; break;
	case NR_READV: sc = HTTP_SC_READV; form = ARGS_IOV; break;
	case NR_WRITEV: sc = HTTP_SC_WRITEV; form = ARGS_IOV; break;
	case NR_RECVFROM: sc = HTTP_SC_RECVFROM; form = ARGS_BUF; break;
	case NR_SENDTO: sc = HTTP_SC_SENDTO; form = ARGS_BUF; break;
	case NR_RECVMSG: sc = HTTP_SC_RECVMSG; form = ARGS_MSGHDR; break;
	case NR_SENDMSG: sc = HTTP_SC_SENDMSG; form = ARGS_MSGHDR; break;
	default: return false;
	}
	a->syscall = sc;
	return syscall_buffers(regs, form, &a->buf, &a->iovcnt);
#else
	return false;
#endif
}

/* tcp:tcp_sendmsg_locked(sk, msg, skb, size_goal), at every chunk a send queues: the first
 * chunk's time is the send's start */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(tp_btf__tcp_sendmsg_locked, struct sock *sk, struct msghdr *msg)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;

	if (!wanted(id >> 32))
		return 0;
	struct sock_send *st = bpf_map_lookup_elem(&sock_sends, &zero);
	if (!st)
		return 0;
	__u32 end_seq = BPF_CORE_READ(tp, write_seq) + (__u32)BPF_CORE_READ(msg, msg_iter.count);
	if (st->id == id && st->sk == (__u64)tp && st->end_seq == end_seq)
		return 0; /* a later chunk of the same send */
	st->id = id;
	st->sk = (__u64)tp;
	st->end_seq = end_seq;
	st->ts = bpf_ktime_get_ns();
	return 0;
}

/* A socket message that moved `ret` bytes (flags: a receive's). */
static __always_inline int on_sock_msg(struct sock *sk, int ret, int flags, __u32 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u64 ts = 0;

	if (dir == HTTP_DIR_SEND) {
		/* this thread's send on this socket started on this CPU: its start (else: now) */
		__u32 zero = 0;
		struct sock_send *st = bpf_map_lookup_elem(&sock_sends, &zero);
		if (st && st->id == id && st->sk == (__u64)sk) {
			ts = st->ts;
			st->id = 0;
		}
	}
	if (ret <= 0 || !sk || !wanted(tgid))
		return 0;
	int rf = recv_flags(flags);
	if (rf == RECV_SKIP)
		return 0;
	bool recv = dir == HTTP_DIR_RECV;
	struct conn_info *c = sock_conn_of(sk, tgid, recv ? ret : 0, recv ? 0 : ret);
	if (!c)
		return 0;
	__u64 key = (__u64)sk;
	bool tls = c->state != CONN_HTTP && tls_process(tgid);
	if (tls)
		note_ssl_sock(id, key, c);
	struct data_args a = { .ts_ns = ts ?: bpf_ktime_get_ns(), .fd = -1, .direction = dir, .sk = key };
	if (c->state == CONN_IGNORED || !syscall_data(&a)) {
		/* no buffer known: counted, never captured */
		a.syscall = HTTP_SC_SENDFILE;
		a.buf = 0;
		a.iovcnt = 0;
	} else if (rf == RECV_NO_COPY) {
		/* MSG_TRUNC: the buffer was not written. As on the syscall path, nothing to look at
		 * (a connection first read this way is not taken for HTTP) */
		a.buf = 0;
		a.iovcnt = 0;
	}
	if (c->state == CONN_IGNORED || !follow(c, &a, ret)) {
		/* ciphertext: its read is noted for the SSL_read that may follow on this thread */
		if (recv && tls)
			note_last_read(id, key, c);
		return 0;
	}
	/* plaintext HTTP read: no SSL_read can be decrypting what this thread read last */
	if (recv && tls_process(tgid))
		bpf_map_delete_elem(&last_recv, &id);
	struct conn_key ck = { .tgid = tgid, .fd = -1 };
	emit(c, &ck, HTTP_EV_DATA, &a, a.ts_ns, (__u64)ret);
	return 0;
}

/* sock:sock_send_length(sk, ret, flags) */
SEC("tp_btf/sock_send_length")
int BPF_PROG(tp_btf__sock_send_length, struct sock *sk, int ret, int flags)
{
	return on_sock_msg(sk, ret, 0, HTTP_DIR_SEND);
}

/* sock:sock_recv_length(sk, ret, flags) */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(tp_btf__sock_recv_length, struct sock *sk, int ret, int flags)
{
	return on_sock_msg(sk, ret, flags, HTTP_DIR_RECV);
}

/* sock:inet_sock_set_state(sk, oldstate, newstate): a TCP socket reaching TCP_CLOSE is done
 * (after both sides closed, or a reset; before it is freed and its address reused) */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf__inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (newstate != TCP_CLOSE)
		return 0;
	struct conn_info *c = bpf_sk_storage_get(&sock_conns, (struct sock *)sk, 0, 0);
	if (!c)
		return 0;
	end_sock_conn((__u64)sk, c);
	bpf_sk_storage_delete(&sock_conns, (struct sock *)sk);
	return 0;
}

/* A new program: user space looks at its executable (and soon its libraries) for SSL symbols,
 * and decides the executable filter for it again (a process it ruled out is told too). */
SEC("tracepoint/sched/sched_process_exec")
int tracepoint__sched__sched_process_exec(void *ctx)
{
	__u32 zero = 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (tls_enabled) /* the new program has called no SSL function yet */
		clear_tgid_flag(&tls_bits, &tls_tgids, tgid);
	/* nor has it been judged by the executable filter: traced until user space has (it also
	 * clears the flag on the EXEC record, should a write of its own have raced this one) */
	if (use_skip_tgids)
		clear_tgid_flag(&skip_bits, &skip_tgids, tgid);
	if (!tls_enabled && !use_skip_tgids)
		return 0;
	if (!pid_wanted(tgid))
		return 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	struct http_capture_event *e = &s->ev;
	__builtin_memset(e, 0, offsetof(struct http_capture_event, data));
	e->ts_ns = bpf_ktime_get_ns();
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->fd = -1;
	e->kind = HTTP_EV_EXEC;
	e->syscall = HTTP_SC_EXEC;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_ringbuf_output(&events, e, offsetof(struct http_capture_event, data), BPF_RB_NO_WAKEUP))
		sonde_count_lost();
	return 0;
}
