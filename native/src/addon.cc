// Module entry: registers the classes and the few free functions (clock, stats, CPUs).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <time.h>

#include "addon.h"

namespace sonde {
namespace {

uint64_t Now(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// clockPair() -> {monotonicNs, realtimeNs, uncertaintyNs}: one CLOCK_MONOTONIC reading (the clock
// of bpf_ktime_get_ns) and the CLOCK_REALTIME reading taken at the same instant, within
// uncertaintyNs: the realtime read is sandwiched between two monotonic reads; the tightest of a
// few tries wins.
Napi::Value ClockPair(const Napi::CallbackInfo& info) {
  uint64_t best_width = UINT64_MAX, mono = 0, real = 0;
  for (int i = 0; i < 7; i++) {
    uint64_t m1 = Now(CLOCK_MONOTONIC), r = Now(CLOCK_REALTIME), m2 = Now(CLOCK_MONOTONIC);
    if (m2 - m1 < best_width) {
      best_width = m2 - m1;
      mono = m1 + (m2 - m1) / 2;
      real = r;
    }
  }
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("monotonicNs", Napi::BigInt::New(env, mono));
  o.Set("realtimeNs", Napi::BigInt::New(env, real));
  o.Set("uncertaintyNs", Napi::Number::New(env, static_cast<double>(best_width)));
  return o;
}

// enableStats() -> Link: the kernel accounts run count/time of every BPF program while one such
// fd is open (BPF_ENABLE_STATS; it costs two clock reads per program run).
Napi::Value EnableStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LogCapture log;
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) ThrowBpfError(env, {"enable stats", "BPF_STATS_RUN_TIME", ""}, errno, &log);
  return NewLink(env, {}, {fd}, "stats", "", "BPF_STATS_RUN_TIME");
}

Napi::Value PossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLibbpfPrint();
  auto* data = new AddonData();
  data->link_ctor = Napi::Persistent(InitLink(env));
  env.SetInstanceData(data);
  exports.Set("BpfObject", InitBpfObject(env));
  exports.Set("Reader", InitReader(env));
  exports.Set("Link", data->link_ctor.Value());
  exports.Set("clockPair", Napi::Function::New<ClockPair>(env, "clockPair"));
  exports.Set("enableStats", Napi::Function::New<EnableStats>(env, "enableStats"));
  exports.Set("possibleCpus", Napi::Function::New<PossibleCpus>(env, "possibleCpus"));
  exports.Set("libbpfVersion", Napi::Function::New<LibbpfVersion>(env, "libbpfVersion"));
  return exports;
}

}  // namespace
}  // namespace sonde

static Napi::Object InitSondeBpf(Napi::Env env, Napi::Object exports) { return sonde::Init(env, exports); }

NODE_API_MODULE(sonde_bpf, InitSondeBpf)
