// Link: what an attach returned. Owns libbpf links (each an fd: the kernel detaches when the last
// fd closes, so a crash detaches too) and plain fds (perf events, the stats fd).
#include <bpf/libbpf.h>
#include <unistd.h>

#include "addon.h"

namespace sonde {
namespace {

class Link : public Napi::ObjectWrap<Link> {
 public:
  explicit Link(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Link>(info) {}
  ~Link() override { Destroy(); }

  void Adopt(std::vector<bpf_link*> links, std::vector<int> fds) {
    links_ = std::move(links);
    fds_ = std::move(fds);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Destroy();
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), closed_);
  }

  Napi::Value Count(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(links_.size() + fds_.size()));
  }

 private:
  void Destroy() {
    // bpf_link__destroy of a perf_event link also closes its perf event fd
    for (bpf_link* l : links_) bpf_link__destroy(l);
    for (int fd : fds_) close(fd);
    links_.clear();
    fds_.clear();
    closed_ = true;
  }

  std::vector<bpf_link*> links_;
  std::vector<int> fds_;
  bool closed_ = false;
};

}  // namespace

Napi::Function InitLink(Napi::Env env) {
  return Link::DefineClass(env, "Link",
                           {
                               Link::InstanceMethod<&Link::Close>("close"),
                               Link::InstanceAccessor<&Link::Closed>("closed"),
                               Link::InstanceAccessor<&Link::Count>("count"),
                           });
}

Napi::Object NewLink(Napi::Env env, std::vector<bpf_link*> links, std::vector<int> fds,
                     const std::string& kind, const std::string& program,
                     const std::string& target) {
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object obj = data->link_ctor.New({});
  Link::Unwrap(obj)->Adopt(std::move(links), std::move(fds));
  obj.Set("kind", kind);
  obj.Set("program", program);
  obj.Set("target", target);
  return obj;
}

}  // namespace sonde
