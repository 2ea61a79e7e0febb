/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record bpf/http_capture.bpf.c sends for each socket syscall of a followed HTTP/1.x
 * connection, defined once here; receivers/ebpf_http/record.ts decodes it and
 * test/integration/ebpf-http-layout.test.ts checks both sides agree, field by field.
 *
 * A record is the fixed header (struct http_capture_event up to `data`) followed by `captured`
 * bytes of data: the ring buffer carries only what was captured (variable-length records).
 * Addresses are IPv6 (IPv4 as v4-mapped ::ffff:a.b.c.d), ports in host byte order.
 */
#ifndef SONDE_HTTP_CAPTURE_H
#define SONDE_HTTP_CAPTURE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* upper bound of capture_bytes (a power of two: the verifier bounds offsets by masking) */
#define HTTP_CAPTURE_MAX 4096
/* the last bytes of a syscall's data, sent when the head capture did not reach them:
 * a chunked body's end ("0\r\n\r\n") is found there without copying the body */
#define HTTP_TAIL_LEN 16

enum http_event_kind {
	HTTP_EV_DATA = 1,  /* bytes moved by a syscall (captured: the first of them) */
	HTTP_EV_CLOSE = 2, /* the connection's fd was closed (or replaced), or its SSL freed */
	HTTP_EV_EXEC = 3,  /* a process exec'd (tgid, comm only): user space looks for TLS libraries
			    * and judges the new program by the executable filter again */
};

enum http_direction {
	HTTP_DIR_RECV = 0, /* bytes the process read from the socket */
	HTTP_DIR_SEND = 1, /* bytes the process wrote to the socket */
};

enum http_role {
	HTTP_ROLE_UNKNOWN = 0,
	HTTP_ROLE_SERVER = 1, /* accepted socket (or inferred: it received a request first) */
	HTTP_ROLE_CLIENT = 2, /* connected socket (or inferred: it sent a request first) */
};

enum http_conn_flags {
	HTTP_CONN_MIDSTREAM = 1, /* found by its data, not by accept/connect: its start was missed */
	HTTP_CONN_TLS = 2,       /* plaintext of a TLS connection (SSL_read/SSL_write uprobes) */
	HTTP_CONN_NO_TUPLE = 4,  /* TLS connection whose socket is not known (yet): no addresses */
	HTTP_CONN_LOST = 8,      /* records of this connection were lost (ring buffer full) before this one */
};

enum http_syscall {
	HTTP_SC_READ = 1, HTTP_SC_READV, HTTP_SC_RECVFROM, HTTP_SC_RECVMSG,
	HTTP_SC_WRITE, HTTP_SC_WRITEV, HTTP_SC_SENDTO, HTTP_SC_SENDMSG, HTTP_SC_SENDFILE,
	HTTP_SC_CLOSE,
	HTTP_SC_SSL_READ, HTTP_SC_SSL_WRITE, /* TLS plaintext (the _ex forms included) */
	HTTP_SC_SSL_FREE, HTTP_SC_EXEC,
	HTTP_SC_TCP_SENDMSG, HTTP_SC_TCP_RECVMSG, /* the kprobe/fentry path (attach: kprobe|fentry) */
};

/* 120-byte header + data. */
struct http_capture_event {
	__u64 ts_ns;    /* bpf_ktime_get_ns(): syscall entry for sends, exit for receives */
	__u64 conn_id;  /* unique per followed connection (not reused when the fd is) */
	__u64 total;    /* bytes the syscall moved (its return value) */
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__u32 captured; /* bytes of data[] present: min(total, capture_bytes), first iovecs only */
	__u8 laddr[16]; /* local address */
	__u8 raddr[16]; /* remote address */
	__u16 lport;
	__u16 rport;
	__u8 kind;      /* enum http_event_kind */
	__u8 direction; /* enum http_direction */
	__u8 role;      /* enum http_role */
	__u8 flags;     /* enum http_conn_flags */
	__u32 tail_len; /* bytes in tail[] (0 when data[] already holds the end) */
	__u32 syscall;  /* enum http_syscall */
	__u8 tail[HTTP_TAIL_LEN]; /* the last tail_len bytes of the syscall's data */
	char comm[16];  /* the thread's name, in a connection's first data record only (zeros in
			 * the others): the process may be gone when user space looks */
	__u8 data[HTTP_CAPTURE_MAX];
};

/* kernel-side counters (per-CPU array http_counters), by index */
enum http_counter {
	HTTP_CNT_EVENTS = 0,       /* records submitted */
	HTTP_CNT_CONNS = 1,        /* connections followed */
	HTTP_CNT_CONN_FULL = 2,    /* connections not followed: map update failed */
	HTTP_CNT_ARGS_FULL = 3,    /* syscalls missed: the in-flight args map was full */
	HTTP_CNT_FILTERED = 4,     /* HTTP-looking connections left out by the port filter */
	HTTP_CNT_TLS_CONNS = 5,    /* TLS connections (SSL pointers) followed */
	HTTP_CNT_TLS_NO_FD = 6,    /* TLS plaintext records sent before their socket was known */
	HTTP_CNT_TLS_CALLS_FULL = 7, /* SSL calls missed: the in-flight SSL call map was full */
	HTTP_CNT_MAX = 8,
};

#endif /* SONDE_HTTP_CAPTURE_H */
