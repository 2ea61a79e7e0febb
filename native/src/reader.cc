// Reader: drains a BPF ring buffer or perf buffer on a thread of its own and hands JS batches
// (one Buffer holding many records) through a ThreadSafeFunction whose queue is bounded. Each
// batch comes with the count of records dropped before it, so JS knows where a gap is.
//
// Why a std::thread and not an AsyncWorker: polling blocks for as long as the reader lives, and
// the libuv pool has four threads shared with fs and dns.
//
// Batch layout: with recordSize > 0, records are concatenated (each exactly recordSize bytes;
// perf buffer samples carry alignment padding, which is dropped); with recordSize 0, each record
// is preceded by its length as a little-endian u32.
//
// Loss accounting, all counted, none silent:
//  - kernelLost: perf buffer overflows reported by the kernel (ring buffer programs count their
//    own reserve failures in the `sonde_lost` map instead);
//  - droppedRecords/droppedBatches: the JS queue stayed full for maxBlockMs (JS slower than the
//    kernel for that long). Until then the poll thread waits, leaving records in the kernel
//    buffer: back-pressure first, loss (counted) last;
//  - malformed: a record shorter than recordSize.
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "addon.h"

namespace sonde {
namespace {

struct Batch {
  std::vector<uint8_t> data;
  uint32_t records = 0;
  // records dropped before this batch was handed over: JS sees a gap between two batches
  uint64_t dropped_before = 0;
};

class Reader : public Napi::ObjectWrap<Reader> {
 public:
  // new Reader(kind: 'ringbuf'|'perfbuf', mapFd, callback(batch, records), opts)
  explicit Reader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Reader>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString() || !info[1].IsNumber() || !info[2].IsFunction())
      throw Napi::TypeError::New(env, "Reader(kind, mapFd, callback, options)");
    kind_ = info[0].As<Napi::String>().Utf8Value();
    Napi::Object o = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
    auto num = [&](const char* k, double def) {
      Napi::Value v = o.Get(k);
      return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
    };
    record_size_ = static_cast<uint32_t>(num("recordSize", 0));
    batch_bytes_ = static_cast<size_t>(num("batchBytes", 256 * 1024));
    poll_ms_ = static_cast<int>(num("pollTimeoutMs", 50));
    size_t max_queue = static_cast<size_t>(num("maxQueuedBatches", 64));
    size_t pages = static_cast<size_t>(num("perfBufferPages", 64));
    flush_ms_ = static_cast<int>(num("flushIntervalMs", poll_ms_));
    max_block_ms_ = static_cast<int>(num("maxBlockMs", 1000));
    name_ = o.Get("name").IsString() ? o.Get("name").As<Napi::String>().Utf8Value() : kind_;
    if (batch_bytes_ < 4096) batch_bytes_ = 4096;
    if (poll_ms_ < 1) poll_ms_ = 1;
    if (max_queue < 1) max_queue = 1;

    // our own fd: the reader keeps the map alive even if its object is closed first
    fd_ = dup(info[1].As<Napi::Number>().Int32Value());
    if (fd_ < 0) ThrowBpfError(env, {"open reader", name_, ""}, errno);
    LogCapture log;
    if (kind_ == "ringbuf") {
      rb_ = ring_buffer__new(fd_, &Reader::OnRingSample, this, nullptr);
      if (!rb_) {
        int err = errno;
        close(fd_);
        ThrowBpfError(env, {"open ring buffer", name_, ""}, err, &log);
      }
    } else if (kind_ == "perfbuf") {
      pb_ = perf_buffer__new(fd_, pages, &Reader::OnPerfSample, &Reader::OnPerfLost, this, nullptr);
      if (!pb_) {
        int err = errno;
        close(fd_);
        ThrowBpfError(env, {"open perf buffer", name_, ""}, err, &log);
      }
    } else {
      close(fd_);
      throw Napi::TypeError::New(env, "Reader kind must be ringbuf or perfbuf");
    }
    cur_ = NewBatch();
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "sonde-" + kind_ + "-reader",
                                          max_queue, 1);
    running_ = true;
    thread_ = std::thread([this] { Run(); });
  }

  ~Reader() override { Stop(); }

  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Reader",
                       {
                           InstanceMethod<&Reader::Close>("close"),
                           InstanceMethod<&Reader::Stats>("stats"),
                       });
  }

 private:
  std::unique_ptr<Batch> NewBatch() {
    auto b = std::make_unique<Batch>();
    b->data.reserve(batch_bytes_ + 4096);
    return b;
  }

  // ---- poll thread ----
  void Run() {
    using clock = std::chrono::steady_clock;
    while (!stop_.load(std::memory_order_acquire)) {
      int n = rb_ ? ring_buffer__poll(rb_, poll_ms_) : perf_buffer__poll(pb_, poll_ms_);
      bool idle = n == 0;
      if (idle && rb_) {
        // Timed out: the BPF side submits without waking us until enough is pending
        // (BPF_RB_NO_WAKEUP), so whatever is in the ring now would otherwise wait forever.
        n = ring_buffer__consume(rb_);
      }
      if (n < 0 && n != -EINTR) {
        std::lock_guard<std::mutex> g(err_mu_);
        error_ = std::string("poll: ") + strerror(-n);
        break;
      }
      // Batches fill across polls (a perf buffer wakes us per record): hand one over when it is
      // full (done in Append), when the source went idle, or when its oldest record has waited
      // flushIntervalMs.
      if (cur_->records &&
          (idle || clock::now() - cur_started_ >= std::chrono::milliseconds(flush_ms_)))
        Flush();
    }
    // stop: take what is still in the buffers
    if (rb_) ring_buffer__consume(rb_);
    if (pb_) perf_buffer__consume(pb_);
    Flush();
  }

  static int OnRingSample(void* ctx, void* data, size_t size) {
    static_cast<Reader*>(ctx)->Append(data, size);
    return 0;
  }
  static void OnPerfSample(void* ctx, int /*cpu*/, void* data, __u32 size) {
    static_cast<Reader*>(ctx)->Append(data, size);
  }
  static void OnPerfLost(void* ctx, int /*cpu*/, __u64 count) {
    static_cast<Reader*>(ctx)->kernel_lost_.fetch_add(count, std::memory_order_relaxed);
  }

  void Append(const void* data, size_t size) {
    std::vector<uint8_t>& d = cur_->data;
    if (record_size_) {
      if (size < record_size_) {
        malformed_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      size = record_size_;
    } else {
      uint32_t len = static_cast<uint32_t>(size);
      const uint8_t* l = reinterpret_cast<const uint8_t*>(&len);  // host order = little-endian
      d.insert(d.end(), l, l + 4);
    }
    const uint8_t* p = static_cast<const uint8_t*>(data);
    d.insert(d.end(), p, p + size);
    if (cur_->records++ == 0) cur_started_ = std::chrono::steady_clock::now();
    read_.fetch_add(1, std::memory_order_relaxed);
    if (d.size() >= batch_bytes_) Flush();
  }

  void Flush() {
    if (cur_->records == 0) return;
    Batch* b = cur_.release();
    cur_ = NewBatch();
    uint32_t n = b->records;
    b->dropped_before = dropped_records_.load(std::memory_order_relaxed);
    napi_status st = tsfn_.NonBlockingCall(b, &Reader::Deliver);
    // queue full: wait for JS (bounded), unless stopping (the JS thread is then joining us and
    // cannot drain the queue)
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_block_ms_);
    while (st == napi_queue_full && !stop_.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < deadline) {
      blocked_.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      st = tsfn_.NonBlockingCall(b, &Reader::Deliver);
    }
    if (st != napi_ok) {  // napi_queue_full (JS is behind) or napi_closing
      dropped_records_.fetch_add(n, std::memory_order_relaxed);
      dropped_batches_.fetch_add(1, std::memory_order_relaxed);
      delete b;
    } else {
      queued_batches_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // ---- JS thread ----
  static void Deliver(Napi::Env env, Napi::Function cb, Batch* b) {
    if (!env) {  // the TSFN is being torn down
      delete b;
      return;
    }
    uint32_t n = b->records;
    double dropped_before = static_cast<double>(b->dropped_before);
    // hand the bytes over without copying; the finalizer frees them when the Buffer is collected
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::NewOrCopy(
        env, b->data.data(), b->data.size(), [](Napi::Env, uint8_t*, Batch* owned) { delete owned; }, b);
    cb.Call({buf, Napi::Number::New(env, n), Napi::Number::New(env, dropped_before)});
  }

  void Stop() {
    if (!running_) return;
    running_ = false;
    stop_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();  // returns within pollTimeoutMs
    // batches already queued are still delivered; then the TSFN lets the event loop go
    tsfn_.Release();
    if (rb_) ring_buffer__free(rb_);
    if (pb_) perf_buffer__free(pb_);
    rb_ = nullptr;
    pb_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    return Stats(info);
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    auto n = [&](const std::atomic<uint64_t>& a) { return Napi::Number::New(env, static_cast<double>(a.load())); };
    o.Set("records", n(read_));
    o.Set("batches", n(queued_batches_));
    o.Set("droppedRecords", n(dropped_records_));
    o.Set("droppedBatches", n(dropped_batches_));
    o.Set("kernelLost", n(kernel_lost_));
    o.Set("malformed", n(malformed_));
    o.Set("queueFullWaits", n(blocked_));
    o.Set("running", Napi::Boolean::New(env, running_));
    std::lock_guard<std::mutex> g(err_mu_);
    if (!error_.empty()) o.Set("error", error_);
    return o;
  }

  std::string kind_, name_;
  int fd_ = -1;
  ring_buffer* rb_ = nullptr;
  perf_buffer* pb_ = nullptr;
  uint32_t record_size_ = 0;
  size_t batch_bytes_ = 0;
  int poll_ms_ = 50;
  int flush_ms_ = 50;
  int max_block_ms_ = 1000;
  std::chrono::steady_clock::time_point cur_started_;
  std::unique_ptr<Batch> cur_;  // touched only by the poll thread once it runs
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
  bool running_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> read_{0}, queued_batches_{0}, dropped_records_{0}, dropped_batches_{0},
      kernel_lost_{0}, malformed_{0}, blocked_{0};
  std::mutex err_mu_;
  std::string error_;
};

}  // namespace

Napi::Function InitReader(Napi::Env env) { return Reader::Init(env); }

}  // namespace sonde
