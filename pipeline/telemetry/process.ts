// Process metrics (level normal), named as the Collector's: read once per collection, never on
// the data path. Node's heapUsed stands for Go's HeapAlloc.
import type { Meter } from '@opentelemetry/api';
import { PREFIX } from './names';

export function registerProcessMetrics(meter: Meter): void {
  const uptime = meter.createObservableCounter(`${PREFIX}process_uptime`, { description: 'Uptime of the process', unit: 's' });
  const cpu = meter.createObservableCounter(`${PREFIX}process_cpu_seconds`, { description: 'Total CPU user and system time in seconds', unit: 's' });
  const rss = meter.createObservableGauge(`${PREFIX}process_memory_rss`, { description: 'Total physical memory (resident set size)', unit: 'By' });
  const heap = meter.createObservableGauge(`${PREFIX}process_runtime_heap_alloc_bytes`, { description: 'Bytes of allocated heap objects (V8 heapUsed)', unit: 'By' });
  meter.addBatchObservableCallback((result) => {
    const mem = process.memoryUsage();
    const usage = process.cpuUsage();
    result.observe(uptime, process.uptime());
    result.observe(cpu, (usage.user + usage.system) / 1e6);
    result.observe(rss, mem.rss);
    result.observe(heap, mem.heapUsed);
  }, [uptime, cpu, rss, heap]);
}
