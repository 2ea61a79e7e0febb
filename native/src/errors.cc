// libbpf log capture and libbpf errors -> JS Errors.
#include <bpf/libbpf.h>
#include <string.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "addon.h"

namespace sonde {
namespace {

thread_local LogCapture* g_capture = nullptr;
bool g_debug = false;  // SONDE_LIBBPF_DEBUG=1: also print every libbpf line to stderr

// Verifier logs can be megabytes; keep the head (where libbpf names the failure) and the tail
// (where the verifier says why it refused).
constexpr size_t kMaxLog = 64 * 1024;

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (!g_capture && !g_debug) return 0;
  if (level == LIBBPF_DEBUG && !g_debug) return 0;
  char buf[2048];
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(buf, sizeof(buf), fmt, copy);
  va_end(copy);
  if (n < 0) return 0;
  if (g_debug) fputs(buf, stderr);
  if (g_capture) g_capture->Append(buf);
  return 0;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

LogCapture::LogCapture() : prev_(g_capture) { g_capture = this; }
LogCapture::~LogCapture() { g_capture = prev_; }

void LogCapture::Append(const std::string& line) {
  if (text_.size() + line.size() > kMaxLog) {
    // drop the middle, keep the first half as it is
    size_t keep = kMaxLog / 2;
    if (text_.size() > keep) {
      size_t cut = text_.size() - keep / 2;
      text_ = text_.substr(0, keep / 2) + "\n[... libbpf log truncated ...]\n" + text_.substr(cut);
    }
  }
  text_ += line;
}

void InstallLibbpfPrint() {
  const char* d = getenv("SONDE_LIBBPF_DEBUG");
  g_debug = d && *d && strcmp(d, "0") != 0;
  libbpf_set_print(LibbpfPrint);
}

void ThrowBpfError(Napi::Env env, const ErrorContext& ctx, int err, const LogCapture* log) {
  if (err < 0) err = -err;
  if (err == 0) err = EINVAL;  // libbpf failed without setting errno: say something
  std::string log_text = log ? log->text() : "";

  // Split the libbpf log: the verifier's own output sits between BEGIN/END PROG LOAD LOG lines;
  // the first other lines carry libbpf's reason ("failed to find symbol ...").
  std::string verifier, cause, failed_prog;
  {
    std::istringstream in(log_text);
    std::string line;
    bool in_verifier = false;
    int causes = 0;
    while (std::getline(in, line)) {
      if (line.find("-- BEGIN PROG LOAD LOG --") != std::string::npos) { in_verifier = true; continue; }
      if (line.find("-- END PROG LOAD LOG --") != std::string::npos) { in_verifier = false; continue; }
      if (in_verifier) { verifier += line + "\n"; continue; }
      std::string t = Trim(line);
      if (t.empty()) continue;
      if (failed_prog.empty()) {
        size_t p = t.find("prog '");
        if (p != std::string::npos) {
          size_t e = t.find('\'', p + 6);
          if (e != std::string::npos) failed_prog = t.substr(p + 6, e - p - 6);
        }
      }
      // libbpf's generic EPERM advice; the JS side says what is really missing
      if (t.find("try raising 'ulimit -l'") != std::string::npos) continue;
      if (causes < 2) {
        if (t.rfind("libbpf: ", 0) == 0) t = t.substr(8);
        cause += (causes ? "; " : "") + t;
        causes++;
      }
    }
  }

  std::string msg = ctx.op;
  if (!ctx.program.empty()) msg += " " + ctx.program;
  if (!failed_prog.empty() && failed_prog != ctx.program) msg += " (program " + failed_prog + ")";
  else if (failed_prog.empty() && !ctx.programs.empty()) msg += " (programs " + ctx.programs + ")";
  if (!ctx.attach_point.empty()) msg += " at " + ctx.attach_point;
  msg += ": ";
  msg += strerror(err);
  if (!cause.empty()) msg += " (libbpf: " + cause + ")";
  if (!ctx.note.empty()) msg += "; " + ctx.note;

  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  const char* name = strerrorname_np(err);
  e.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  e.Set("op", Napi::String::New(env, ctx.op));
  e.Set("program", Napi::String::New(env, failed_prog.empty() ? ctx.program : failed_prog));
  e.Set("attachPoint", Napi::String::New(env, ctx.attach_point));
  e.Set("libbpfLog", Napi::String::New(env, log_text));
  if (!verifier.empty()) e.Set("verifierLog", Napi::String::New(env, verifier));
  throw e;
}

}  // namespace sonde
