// Shared declarations of the sonde_bpf addon: a thin N-API layer over libbpf (Debian's 1.1).
// Everything here runs on the JS thread except the reader poll threads (reader.cc).
#pragma once

#include <napi.h>

#include <string>
#include <vector>

struct bpf_link;

namespace sonde {

// Per-environment state (one per worker thread that loads the addon).
struct AddonData {
  Napi::FunctionReference link_ctor;
};

// ---- errors.cc --------------------------------------------------------------------------------

// Collects libbpf's log lines emitted on this thread while it lives (open, load, attach), so an
// error can say what libbpf saw. Not nested; reader threads have their own (none).
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  const std::string& text() const { return text_; }
  void Append(const std::string& line);

 private:
  std::string text_;
  LogCapture* prev_;
};

// Installs the libbpf print callback (once, at module init).
void InstallLibbpfPrint();

// Where a failure happened, for the JS Error's message and properties.
struct ErrorContext {
  std::string op;           // "open", "load", "attach uprobe", "map lookup"...
  std::string program;      // program (or object / map) name
  std::string attach_point; // "syscalls/sys_enter_write", "/bin/x:main", ... or ""
  std::string programs = "";  // load: the programs being loaded, named when libbpf names none
  std::string note = "";      // appended to the message, e.g. "target BTF: /path"
};

// Throws a JS Error "<op> <program> at <attach point>: <strerror(err)> (<libbpf cause>)" with
// properties errno, code, op, program, attachPoint, libbpfLog, verifierLog.
[[noreturn]] void ThrowBpfError(Napi::Env env, const ErrorContext& ctx, int err,
                                const LogCapture* log = nullptr);

// ---- link.cc ----------------------------------------------------------------------------------

// Creates a JS Link owning the given libbpf links and raw fds; close() releases them all.
Napi::Object NewLink(Napi::Env env, std::vector<bpf_link*> links, std::vector<int> fds,
                     const std::string& kind, const std::string& program,
                     const std::string& target);
Napi::Function InitLink(Napi::Env env);

// ---- object.cc / reader.cc --------------------------------------------------------------------
Napi::Function InitBpfObject(Napi::Env env);
Napi::Function InitReader(Napi::Env env);

}  // namespace sonde
