// BpfObject: one BPF ELF object (bpf_object), from open to close. Spec-time operations (globals,
// autoload, map sizes) before load(); kernel-facing ones (attach, maps, stats) after.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "addon.h"

namespace sonde {
namespace {

bool IsPerCpu(enum bpf_map_type t) {
  return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
         t == BPF_MAP_TYPE_LRU_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

std::string OptString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

int64_t OptInt(const Napi::Object& o, const char* key, int64_t def) {
  Napi::Value v = o.Get(key);
  if (v.IsNumber()) return v.As<Napi::Number>().Int64Value();
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  return def;
}

bool OptBool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  // new BpfObject(path, { btfCustomPath?, objectName? })
  explicit BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "BpfObject: path must be a string");
    path_ = info[0].As<Napi::String>().Utf8Value();
    std::string btf_path, obj_name;
    if (info[1].IsObject()) {
      btf_path = OptString(info[1].As<Napi::Object>(), "btfCustomPath");
      obj_name = OptString(info[1].As<Napi::Object>(), "objectName");
    }
    LIBBPF_OPTS(bpf_object_open_opts, opts);
    if (!btf_path.empty()) opts.btf_custom_path = btf_path.c_str();
    btf_path_ = btf_path;
    if (!obj_name.empty()) opts.object_name = obj_name.c_str();
    LogCapture log;
    obj_ = bpf_object__open_file(path_.c_str(), &opts);
    if (!obj_) {
      int err = errno;
      obj_ = nullptr;
      ThrowBpfError(env, {"open", path_, ""}, err, &log);
    }
  }

  ~BpfObject() override {
    if (obj_) bpf_object__close(obj_);
  }

  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "BpfObject",
        {
            InstanceMethod<&BpfObject::Name>("name"),
            InstanceMethod<&BpfObject::Programs>("programs"),
            InstanceMethod<&BpfObject::Maps>("maps"),
            InstanceMethod<&BpfObject::SetGlobal>("setGlobal"),
            InstanceMethod<&BpfObject::HasGlobal>("hasGlobal"),
            InstanceMethod<&BpfObject::SetAutoload>("setAutoload"),
            InstanceMethod<&BpfObject::SetMapMaxEntries>("setMapMaxEntries"),
            InstanceMethod<&BpfObject::SetMapAutocreate>("setMapAutocreate"),
            InstanceMethod<&BpfObject::SetAttachTarget>("setAttachTarget"),
            InstanceMethod<&BpfObject::Load>("load"),
            InstanceMethod<&BpfObject::Attach>("attach"),
            InstanceMethod<&BpfObject::AttachTracepoint>("attachTracepoint"),
            InstanceMethod<&BpfObject::AttachRawTracepoint>("attachRawTracepoint"),
            InstanceMethod<&BpfObject::AttachKprobe>("attachKprobe"),
            InstanceMethod<&BpfObject::AttachTrace>("attachTrace"),
            InstanceMethod<&BpfObject::AttachUprobe>("attachUprobe"),
            InstanceMethod<&BpfObject::AttachPerfEvent>("attachPerfEvent"),
            InstanceMethod<&BpfObject::MapFd>("mapFd"),
            InstanceMethod<&BpfObject::MapLookup>("mapLookup"),
            InstanceMethod<&BpfObject::MapUpdate>("mapUpdate"),
            InstanceMethod<&BpfObject::MapDelete>("mapDelete"),
            InstanceMethod<&BpfObject::MapKeys>("mapKeys"),
            InstanceMethod<&BpfObject::ProgramInfo>("programInfo"),
            InstanceMethod<&BpfObject::Close>("close"),
        });
  }

 private:
  // ---- helpers ----
  void CheckOpen(Napi::Env env) const {
    if (!obj_) throw Napi::Error::New(env, "bpf object " + path_ + " is closed");
  }
  void CheckLoaded(Napi::Env env, const char* what) const {
    CheckOpen(env);
    if (!loaded_) throw Napi::Error::New(env, std::string(what) + ": object " + path_ + " is not loaded");
  }
  void CheckNotLoaded(Napi::Env env, const char* what) const {
    CheckOpen(env);
    if (loaded_) throw Napi::Error::New(env, std::string(what) + ": object " + path_ + " is already loaded");
    if (failed_) throw Napi::Error::New(env, std::string(what) + ": object " + path_ + " failed to load; open it again");
  }
  bpf_program* Prog(Napi::Env env, const Napi::Value& v) const {
    CheckOpen(env);
    if (!v.IsString()) throw Napi::TypeError::New(env, "program name must be a string");
    std::string name = v.As<Napi::String>().Utf8Value();
    bpf_program* p = bpf_object__find_program_by_name(obj_, name.c_str());
    if (!p) {
      std::string names;
      bpf_program* q;
      bpf_object__for_each_program(q, obj_) names += std::string(names.empty() ? "" : ", ") + bpf_program__name(q);
      throw Napi::Error::New(env, "no program " + name + " in " + path_ + " (it has: " + names + ")");
    }
    return p;
  }
  bpf_map* Map(Napi::Env env, const Napi::Value& v) const {
    CheckOpen(env);
    if (!v.IsString()) throw Napi::TypeError::New(env, "map name must be a string");
    std::string name = v.As<Napi::String>().Utf8Value();
    bpf_map* m = bpf_object__find_map_by_name(obj_, name.c_str());
    if (!m) throw Napi::Error::New(env, "no map " + name + " in " + path_);
    return m;
  }
  size_t ValueSize(bpf_map* m) const {
    size_t v = bpf_map__value_size(m);
    if (IsPerCpu(bpf_map__type(m))) {
      int n = libbpf_num_possible_cpus();
      v = ((v + 7) / 8) * 8 * (n > 0 ? n : 1);
    }
    return v;
  }
  Napi::Value Finish(Napi::Env env, bpf_link* link, int err, const ErrorContext& ctx,
                     const LogCapture& log, const char* kind, bpf_program* prog) {
    if (!link) ThrowBpfError(env, ctx, err, &log);
    return NewLink(env, {link}, {}, kind, bpf_program__name(prog), ctx.attach_point);
  }

  // ---- spec ----
  Napi::Value Name(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    return Napi::String::New(info.Env(), bpf_object__name(obj_));
  }

  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    Napi::Array out = Napi::Array::New(env);
    bpf_program* p;
    uint32_t i = 0;
    bpf_object__for_each_program(p, obj_) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_program__name(p));
      o.Set("section", bpf_program__section_name(p));
      const char* t = libbpf_bpf_prog_type_str(bpf_program__type(p));
      o.Set("type", t ? t : "unknown");
      o.Set("autoload", bpf_program__autoload(p));
      out.Set(i++, o);
    }
    return out;
  }

  Napi::Value Maps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    Napi::Array out = Napi::Array::New(env);
    bpf_map* m;
    uint32_t i = 0;
    bpf_object__for_each_map(m, obj_) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_map__name(m));
      const char* t = libbpf_bpf_map_type_str(bpf_map__type(m));
      o.Set("type", t ? t : "unknown");
      o.Set("keySize", bpf_map__key_size(m));
      o.Set("valueSize", bpf_map__value_size(m));
      o.Set("maxEntries", bpf_map__max_entries(m));
      o.Set("internal", bpf_map__is_internal(m));
      out.Set(i++, o);
    }
    return out;
  }

  // Finds a global variable in the BTF of the internal maps; returns its map, offset and size.
  bool FindGlobal(const std::string& name, bpf_map** map, uint32_t* offset, uint32_t* size) const {
    const struct btf* btf = bpf_object__btf(obj_);
    if (!btf) return false;
    bpf_map* m;
    bpf_object__for_each_map(m, obj_) {
      if (!bpf_map__is_internal(m)) continue;
      const struct btf_type* sec = btf__type_by_id(btf, bpf_map__btf_value_type_id(m));
      if (!sec || !btf_is_datasec(sec)) continue;
      const struct btf_var_secinfo* vs = btf_var_secinfos(sec);
      for (int i = 0; i < btf_vlen(sec); i++, vs++) {
        const struct btf_type* var = btf__type_by_id(btf, vs->type);
        if (name != btf__name_by_offset(btf, var->name_off)) continue;
        *map = m;
        *offset = vs->offset;
        *size = vs->size;
        return true;
      }
    }
    return false;
  }

  Napi::Value HasGlobal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    bpf_map* m;
    uint32_t off, size;
    return Napi::Boolean::New(env, FindGlobal(info[0].ToString().Utf8Value(), &m, &off, &size));
  }

  // setGlobal(name, Buffer): writes a global variable of .rodata/.data/.bss before load. The
  // variable is found through the section's BTF (DATASEC), so sizes are checked, not assumed.
  Napi::Value SetGlobal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotLoaded(env, "setGlobal");
    if (!info[0].IsString() || !info[1].IsBuffer())
      throw Napi::TypeError::New(env, "setGlobal(name: string, value: Buffer)");
    std::string name = info[0].As<Napi::String>().Utf8Value();
    Napi::Buffer<uint8_t> value = info[1].As<Napi::Buffer<uint8_t>>();
    bpf_map* m;
    uint32_t offset, vsize;
    if (!FindGlobal(name, &m, &offset, &vsize))
      throw Napi::Error::New(env, "setGlobal: no global variable " + name + " in " + path_);
    if (value.Length() != vsize)
      throw Napi::Error::New(env, "setGlobal " + name + ": variable is " + std::to_string(vsize) +
                                      " bytes, value is " + std::to_string(value.Length()));
    size_t size = 0;
    const void* init = bpf_map__initial_value(m, &size);
    if (!init || offset + vsize > size)
      throw Napi::Error::New(env, "setGlobal " + name + ": no initial data for its section");
    // set_initial_value replaces the whole section: copy it, patch the variable, write it back
    std::vector<uint8_t> data(static_cast<const uint8_t*>(init), static_cast<const uint8_t*>(init) + size);
    memcpy(data.data() + offset, value.Data(), vsize);
    LogCapture log;
    int err = bpf_map__set_initial_value(m, data.data(), data.size());
    if (err) ThrowBpfError(env, {"setGlobal", name, ""}, err, &log);
    return env.Undefined();
  }

  Napi::Value SetAutoload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotLoaded(env, "setAutoload");
    bpf_program* p = Prog(env, info[0]);
    int err = bpf_program__set_autoload(p, info[1].ToBoolean().Value());
    if (err) ThrowBpfError(env, {"setAutoload", bpf_program__name(p), ""}, err);
    return env.Undefined();
  }

  Napi::Value SetMapMaxEntries(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotLoaded(env, "setMapMaxEntries");
    bpf_map* m = Map(env, info[0]);
    int err = bpf_map__set_max_entries(m, info[1].As<Napi::Number>().Uint32Value());
    if (err) ThrowBpfError(env, {"setMapMaxEntries", bpf_map__name(m), ""}, err);
    return env.Undefined();
  }

  Napi::Value SetMapAutocreate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotLoaded(env, "setMapAutocreate");
    bpf_map* m = Map(env, info[0]);
    int err = bpf_map__set_autocreate(m, info[1].ToBoolean().Value());
    if (err) ThrowBpfError(env, {"setMapAutocreate", bpf_map__name(m), ""}, err);
    return env.Undefined();
  }

  // fentry/fexit with a bare SEC("fentry"): the kernel function is only known at run time, and
  // the verifier needs it at load. (prog, function) -> bpf_program__set_attach_target(vmlinux).
  Napi::Value SetAttachTarget(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotLoaded(env, "setAttachTarget");
    bpf_program* p = Prog(env, info[0]);
    if (!info[1].IsString()) throw Napi::TypeError::New(env, "setAttachTarget: function must be a string");
    std::string fn = info[1].As<Napi::String>().Utf8Value();
    LogCapture log;
    int err = bpf_program__set_attach_target(p, 0, fn.c_str());
    if (err) ThrowBpfError(env, {"setAttachTarget", bpf_program__name(p), fn}, err, &log);
    return env.Undefined();
  }

  // The verifier stops with EAGAIN when a signal is pending, and libbpf retries only a few
  // times: a CPU profiler's SIGPROF every millisecond (node --cpu-prof, the pprof extension)
  // makes a large object fail to load. Blocked, the signal waits until the load is done.
  int LoadHoldingProfilerSignals() {
    sigset_t prof, old;
    sigemptyset(&prof);
    sigaddset(&prof, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &prof, &old);
    int err = bpf_object__load(obj_);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return err;
  }

  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotLoaded(env, "load");
    LogCapture log;
    int err = LoadHoldingProfilerSignals();
    if (err) {
      // libbpf cannot load an object twice, even after a failure: the caller reopens it
      failed_ = true;
      // the file's name: bpf_object__name() is cut to 15 characters
      std::string base = path_.substr(path_.find_last_of('/') + 1);
      for (const char* ext : {".o", ".bpf"})
        if (base.size() > strlen(ext) && base.compare(base.size() - strlen(ext), strlen(ext), ext) == 0)
          base.resize(base.size() - strlen(ext));
      ErrorContext ctx{"load", base, ""};
      bpf_program* p;
      bpf_object__for_each_program(p, obj_) {
        if (!bpf_program__autoload(p)) continue;
        ctx.programs += std::string(ctx.programs.empty() ? "" : ", ") + bpf_program__name(p);
      }
      if (!btf_path_.empty()) ctx.note = "target BTF: " + btf_path_;
      ThrowBpfError(env, ctx, err, &log);
    }
    loaded_ = true;
    return env.Undefined();
  }

  // ---- attach ----
  Napi::Value Attach(const Napi::CallbackInfo& info) {  // by section name
    Napi::Env env = info.Env();
    CheckLoaded(env, "attach");
    bpf_program* p = Prog(env, info[0]);
    LogCapture log;
    bpf_link* l = bpf_program__attach(p);
    int err = errno;
    return Finish(env, l, err, {"attach", bpf_program__name(p), bpf_program__section_name(p)}, log,
                  "auto", p);
  }

  Napi::Value AttachTracepoint(const Napi::CallbackInfo& info) {  // (prog, category, name)
    Napi::Env env = info.Env();
    CheckLoaded(env, "attachTracepoint");
    bpf_program* p = Prog(env, info[0]);
    std::string cat = info[1].ToString().Utf8Value(), name = info[2].ToString().Utf8Value();
    LogCapture log;
    bpf_link* l = bpf_program__attach_tracepoint(p, cat.c_str(), name.c_str());
    int err = errno;
    return Finish(env, l, err, {"attach tracepoint", bpf_program__name(p), cat + "/" + name}, log,
                  "tracepoint", p);
  }

  Napi::Value AttachRawTracepoint(const Napi::CallbackInfo& info) {  // (prog, name)
    Napi::Env env = info.Env();
    CheckLoaded(env, "attachRawTracepoint");
    bpf_program* p = Prog(env, info[0]);
    std::string name = info[1].ToString().Utf8Value();
    LogCapture log;
    bpf_link* l = bpf_program__attach_raw_tracepoint(p, name.c_str());
    int err = errno;
    return Finish(env, l, err, {"attach raw_tracepoint", bpf_program__name(p), name}, log,
                  "raw_tracepoint", p);
  }

  Napi::Value AttachKprobe(const Napi::CallbackInfo& info) {  // (prog, func, {retprobe, offset})
    Napi::Env env = info.Env();
    CheckLoaded(env, "attachKprobe");
    bpf_program* p = Prog(env, info[0]);
    std::string func = info[1].ToString().Utf8Value();
    Napi::Object o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
    bool ret = OptBool(o, "retprobe");
    LIBBPF_OPTS(bpf_kprobe_opts, opts);
    opts.retprobe = ret;
    opts.offset = static_cast<size_t>(OptInt(o, "offset", 0));
    LogCapture log;
    bpf_link* l = bpf_program__attach_kprobe_opts(p, func.c_str(), &opts);
    int err = errno;
    const char* kind = ret ? "kretprobe" : "kprobe";
    return Finish(env, l, err, {std::string("attach ") + kind, bpf_program__name(p), func}, log, kind, p);
  }

  Napi::Value AttachTrace(const Napi::CallbackInfo& info) {  // fentry/fexit/fmod_ret/tp_btf
    Napi::Env env = info.Env();
    CheckLoaded(env, "attachTrace");
    bpf_program* p = Prog(env, info[0]);
    LogCapture log;
    bpf_link* l = bpf_program__attach_trace(p);
    int err = errno;
    return Finish(env, l, err, {"attach trace", bpf_program__name(p), bpf_program__section_name(p)},
                  log, "trace", p);
  }

  // attachUprobe(prog, {binary, symbol?, offset?, pid?, retprobe?})
  Napi::Value AttachUprobe(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLoaded(env, "attachUprobe");
    bpf_program* p = Prog(env, info[0]);
    if (!info[1].IsObject()) throw Napi::TypeError::New(env, "attachUprobe(program, {binary, symbol|offset})");
    Napi::Object o = info[1].As<Napi::Object>();
    std::string binary = OptString(o, "binary"), symbol = OptString(o, "symbol");
    int64_t offset = OptInt(o, "offset", 0);
    int pid = static_cast<int>(OptInt(o, "pid", -1));
    bool ret = OptBool(o, "retprobe");
    const char* kind = ret ? "uretprobe" : "uprobe";
    std::string where = binary + ":" + (symbol.empty() ? "" : symbol) +
                        (offset || symbol.empty() ? "+0x" + ToHex(offset) : "");
    if (pid >= 0) where += " pid " + std::to_string(pid);
    ErrorContext ctx{std::string("attach ") + kind, bpf_program__name(p), where};
    // libbpf resolves bare names through PATH / library dirs; a path must exist, and saying so
    // beats the ENOENT libbpf would give for a missing symbol as well
    if (binary.empty()) throw Napi::TypeError::New(env, "attachUprobe: binary is required");
    if (binary.find('/') != std::string::npos && access(binary.c_str(), R_OK) != 0) {
      int err = errno;
      LogCapture log;
      log.Append("binary not found: " + binary + "\n");
      ThrowBpfError(env, ctx, err, &log);
    }
    LIBBPF_OPTS(bpf_uprobe_opts, opts);
    opts.retprobe = ret;
    if (!symbol.empty()) opts.func_name = symbol.c_str();
    LogCapture log;
    bpf_link* l = bpf_program__attach_uprobe_opts(p, pid, binary.c_str(), static_cast<size_t>(offset), &opts);
    int err = errno;
    return Finish(env, l, err, ctx, log, kind, p);
  }

  static std::string ToHex(int64_t v) {
    char b[32];
    snprintf(b, sizeof(b), "%llx", static_cast<unsigned long long>(v));
    return b;
  }

  // attachPerfEvent(prog, {frequency?, period?, event?: 'cpu-clock'|'cpu-cycles', pid?, cpus?})
  // Opens one sampling perf event per CPU and attaches the program to each; offline CPUs are
  // skipped. The returned Link owns them all.
  Napi::Value AttachPerfEvent(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLoaded(env, "attachPerfEvent");
    bpf_program* p = Prog(env, info[0]);
    Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    int64_t freq = OptInt(o, "frequency", 0), period = OptInt(o, "period", 0);
    if (!freq && !period) freq = 99;
    std::string event = OptString(o, "event");
    if (event.empty()) event = "cpu-clock";
    int pid = static_cast<int>(OptInt(o, "pid", -1));
    std::vector<int> cpus;
    if (o.Get("cpus").IsArray()) {
      Napi::Array a = o.Get("cpus").As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) cpus.push_back(a.Get(i).As<Napi::Number>().Int32Value());
    } else {
      int n = libbpf_num_possible_cpus();
      for (int i = 0; i < n; i++) cpus.push_back(i);
    }
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    if (event == "cpu-clock") {
      attr.type = PERF_TYPE_SOFTWARE;
      attr.config = PERF_COUNT_SW_CPU_CLOCK;
    } else if (event == "cpu-cycles") {
      attr.type = PERF_TYPE_HARDWARE;
      attr.config = PERF_COUNT_HW_CPU_CYCLES;
    } else {
      throw Napi::TypeError::New(env, "attachPerfEvent: event must be cpu-clock or cpu-cycles");
    }
    if (freq) {
      attr.freq = 1;
      attr.sample_freq = static_cast<uint64_t>(freq);
    } else {
      attr.sample_period = static_cast<uint64_t>(period);
    }
    std::string what = event + (freq ? "@" + std::to_string(freq) + "Hz" : "/" + std::to_string(period));
    std::vector<bpf_link*> links;
    auto fail = [&](int err, const std::string& where, const LogCapture* log) {
      for (bpf_link* l : links) bpf_link__destroy(l);
      ThrowBpfError(env, {"attach perf_event", bpf_program__name(p), where}, err, log);
    };
    for (int cpu : cpus) {
      int fd = static_cast<int>(syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
      if (fd < 0) {
        if (errno == ENODEV) continue;  // possible but offline CPU
        fail(errno, what + " cpu " + std::to_string(cpu) + " (perf_event_open)", nullptr);
      }
      LogCapture log;
      bpf_link* l = bpf_program__attach_perf_event(p, fd);
      if (!l) {
        int err = errno;
        close(fd);
        fail(err, what + " cpu " + std::to_string(cpu), &log);
      }
      links.push_back(l);
    }
    if (links.empty()) fail(ENODEV, what + " (no online CPU)", nullptr);
    return NewLink(env, std::move(links), {}, "perf_event", bpf_program__name(p), what);
  }

  // ---- maps ----
  Napi::Value MapFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLoaded(env, "mapFd");
    return Napi::Number::New(env, bpf_map__fd(Map(env, info[0])));
  }

  Napi::Buffer<uint8_t> Key(Napi::Env env, bpf_map* m, const Napi::Value& v) {
    if (!v.IsBuffer()) throw Napi::TypeError::New(env, "map key must be a Buffer");
    Napi::Buffer<uint8_t> k = v.As<Napi::Buffer<uint8_t>>();
    if (k.Length() != bpf_map__key_size(m))
      throw Napi::Error::New(env, std::string("map ") + bpf_map__name(m) + ": key is " +
                                      std::to_string(bpf_map__key_size(m)) + " bytes, got " +
                                      std::to_string(k.Length()));
    return k;
  }

  // mapLookup(map, key) -> Buffer | null (per-CPU maps: one 8-byte-aligned slot per CPU)
  Napi::Value MapLookup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLoaded(env, "mapLookup");
    bpf_map* m = Map(env, info[0]);
    Napi::Buffer<uint8_t> k = Key(env, m, info[1]);
    Napi::Buffer<uint8_t> v = Napi::Buffer<uint8_t>::New(env, ValueSize(m));
    if (bpf_map_lookup_elem(bpf_map__fd(m), k.Data(), v.Data()) != 0) {
      if (errno == ENOENT) return env.Null();
      ThrowBpfError(env, {"map lookup", bpf_map__name(m), ""}, errno);
    }
    return v;
  }

  Napi::Value MapUpdate(const Napi::CallbackInfo& info) {  // (map, key, value, flags?)
    Napi::Env env = info.Env();
    CheckLoaded(env, "mapUpdate");
    bpf_map* m = Map(env, info[0]);
    Napi::Buffer<uint8_t> k = Key(env, m, info[1]);
    if (!info[2].IsBuffer()) throw Napi::TypeError::New(env, "map value must be a Buffer");
    Napi::Buffer<uint8_t> v = info[2].As<Napi::Buffer<uint8_t>>();
    if (v.Length() != ValueSize(m))
      throw Napi::Error::New(env, std::string("map ") + bpf_map__name(m) + ": value is " +
                                      std::to_string(ValueSize(m)) + " bytes, got " + std::to_string(v.Length()));
    uint64_t flags = info[3].IsNumber() ? info[3].As<Napi::Number>().Int64Value() : static_cast<uint64_t>(BPF_ANY);
    if (bpf_map_update_elem(bpf_map__fd(m), k.Data(), v.Data(), flags) != 0)
      ThrowBpfError(env, {"map update", bpf_map__name(m), ""}, errno);
    return env.Undefined();
  }

  Napi::Value MapDelete(const Napi::CallbackInfo& info) {  // -> true if it was there
    Napi::Env env = info.Env();
    CheckLoaded(env, "mapDelete");
    bpf_map* m = Map(env, info[0]);
    Napi::Buffer<uint8_t> k = Key(env, m, info[1]);
    if (bpf_map_delete_elem(bpf_map__fd(m), k.Data()) != 0) {
      if (errno == ENOENT) return Napi::Boolean::New(env, false);
      ThrowBpfError(env, {"map delete", bpf_map__name(m), ""}, errno);
    }
    return Napi::Boolean::New(env, true);
  }

  Napi::Value MapKeys(const Napi::CallbackInfo& info) {  // (map, max?) -> Buffer[]
    Napi::Env env = info.Env();
    CheckLoaded(env, "mapKeys");
    bpf_map* m = Map(env, info[0]);
    uint32_t max = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : bpf_map__max_entries(m);
    size_t ks = bpf_map__key_size(m);
    std::vector<uint8_t> prev(ks), next(ks);
    Napi::Array out = Napi::Array::New(env);
    int fd = bpf_map__fd(m);
    const void* p = nullptr;  // NULL: first key
    for (uint32_t i = 0; i < max; i++) {
      if (bpf_map_get_next_key(fd, p, next.data()) != 0) {
        if (errno == ENOENT) break;
        ThrowBpfError(env, {"map iterate", bpf_map__name(m), ""}, errno);
      }
      out.Set(i, Napi::Buffer<uint8_t>::Copy(env, next.data(), ks));
      prev.swap(next);
      p = prev.data();
    }
    return out;
  }

  // programInfo(prog) -> {id, runCount, runTimeNs, verifiedInstructions}; run stats count only
  // while BPF stats are enabled (enableStats()).
  Napi::Value ProgramInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLoaded(env, "programInfo");
    bpf_program* p = Prog(env, info[0]);
    int fd = bpf_program__fd(p);
    if (fd < 0) throw Napi::Error::New(env, std::string("programInfo ") + bpf_program__name(p) + ": not loaded (autoload off?)");
    struct bpf_prog_info pi;
    memset(&pi, 0, sizeof(pi));
    __u32 len = sizeof(pi);
    if (bpf_obj_get_info_by_fd(fd, &pi, &len) != 0)
      ThrowBpfError(env, {"program info", bpf_program__name(p), ""}, errno);
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", pi.id);
    o.Set("runCount", Napi::BigInt::New(env, static_cast<uint64_t>(pi.run_cnt)));
    o.Set("runTimeNs", Napi::BigInt::New(env, static_cast<uint64_t>(pi.run_time_ns)));
    o.Set("verifiedInstructions", pi.verified_insns);
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (obj_) bpf_object__close(obj_);
    obj_ = nullptr;
    return info.Env().Undefined();
  }

  bpf_object* obj_ = nullptr;
  std::string path_;
  std::string btf_path_;
  bool loaded_ = false;
  bool failed_ = false;
};

}  // namespace

Napi::Function InitBpfObject(Napi::Env env) { return BpfObject::Init(env); }

}  // namespace sonde
