// Moved to pipeline/ebpf/libraries.ts (shared with ebpf_http's TLS attach); kept as a re-export.
export { resolveLibrary } from '../../pipeline/ebpf/libraries';
