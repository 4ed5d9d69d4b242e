// The traced system calls, the tracer's first cut, aggregation and the text
// form events travel in from the sandbox's init to the host launcher.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "aisbx/trace.h"
#include "plan/expand.h"

namespace aisbx::trace {
namespace {

constexpr std::size_t kMaxPrograms = 4;

std::string escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      o += "\\\\";
    else if (c == '\t')
      o += "\\t";
    else if (c == '\n')
      o += "\\n";
    else
      o += c;
  }
  return o;
}

std::string unescape(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      o += s[i];
      continue;
    }
    const char n = s[++i];
    o += n == 't' ? '\t' : n == 'n' ? '\n' : n;
  }
  return o;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  for (;;) {
    const auto j = s.find(sep, i);
    out.push_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

// Digits only, no sign: a garbled number is 0, not a surprise.
std::uint64_t to_u64(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::int64_t to_i64(std::string_view s) {
  if (!s.empty() && s[0] == '-') return -static_cast<std::int64_t>(to_u64(s.substr(1)));
  return static_cast<std::int64_t>(to_u64(s));
}

}  // namespace

const std::vector<SyscallShape>& traced_syscalls() {
  // clang-format off
  static const std::vector<SyscallShape> table = {
      // name         kind            dirfd path dirfd2 path2 flags  how
      {"open",        Kind::open,     -1, 0, -1, -1, 1},
      {"creat",       Kind::open,     -1, 0, -1, -1, -1},
      {"openat",      Kind::open,      0, 1, -1, -1, 2},
      {"openat2",     Kind::open,      0, 1, -1, -1, 2, true},
      {"execve",      Kind::exec,     -1, 0, -1, -1, -1},
      {"execveat",    Kind::exec,      0, 1, -1, -1, 4},
      {"stat",        Kind::lookup,   -1, 0, -1, -1, -1},
      {"lstat",       Kind::lookup,   -1, 0, -1, -1, -1},
      {"newfstatat",  Kind::lookup,    0, 1, -1, -1, 3, false, AT_EMPTY_PATH},
      {"statx",       Kind::lookup,    0, 1, -1, -1, 2, false, AT_EMPTY_PATH},
      {"access",      Kind::lookup,   -1, 0, -1, -1, -1},
      {"faccessat",   Kind::lookup,    0, 1, -1, -1, -1},
      {"faccessat2",  Kind::lookup,    0, 1, -1, -1, 3},
      {"readlink",    Kind::lookup,   -1, 0, -1, -1, -1},
      {"readlinkat",  Kind::lookup,    0, 1, -1, -1, -1},
      {"chdir",       Kind::lookup,   -1, 0, -1, -1, -1},
      {"chmod",       Kind::attr,     -1, 0, -1, -1, -1},
      {"fchmodat",    Kind::attr,      0, 1, -1, -1, -1},
      {"chown",       Kind::attr,     -1, 0, -1, -1, -1},
      {"lchown",      Kind::attr,     -1, 0, -1, -1, -1},
      {"fchownat",    Kind::attr,      0, 1, -1, -1, -1},
      {"utimensat",   Kind::attr,      0, 1, -1, -1, -1},
      {"mkdir",       Kind::mkdir,    -1, 0, -1, -1, -1},
      {"mkdirat",     Kind::mkdir,     0, 1, -1, -1, -1},
      {"mknod",       Kind::mknod,    -1, 0, -1, -1, 1},
      {"mknodat",     Kind::mknod,     0, 1, -1, -1, 2},
      {"symlink",     Kind::symlink,  -1, 1, -1, -1, -1},
      {"symlinkat",   Kind::symlink,   1, 2, -1, -1, -1},
      {"unlink",      Kind::unlink,   -1, 0, -1, -1, -1},
      {"unlinkat",    Kind::unlink,    0, 1, -1, -1, 2},
      {"rmdir",       Kind::rmdir,    -1, 0, -1, -1, -1},
      {"rename",      Kind::rename,   -1, 0, -1,  1, -1},
      {"renameat",    Kind::rename,    0, 1,  2,  3, -1},
      {"renameat2",   Kind::rename,    0, 1,  2,  3, 4},
      {"link",        Kind::link,     -1, 0, -1,  1, -1},
      {"linkat",      Kind::link,      0, 1,  2,  3, 4},
      {"truncate",    Kind::truncate, -1, 0, -1, -1, -1},
      {"connect",     Kind::connect,  -1, 1, -1, -1, 2},  // sockaddr, its length
      {"bind",        Kind::bind,     -1, 1, -1, -1, 2},
      {"kill",        Kind::signal,   -1, -1, -1, -1, -1},
      {"tkill",       Kind::signal,   -1, -1, -1, -1, -1},
      {"tgkill",      Kind::signal,   -1, -1, -1, -1, -1},
  };
  // clang-format on
  return table;
}

const SyscallShape* shape_of(const std::string& syscall) {
  for (const auto& s : traced_syscalls())
    if (syscall == s.name) return &s;
  return nullptr;
}

std::string Event::key() const {
  return syscall + '\t' + std::to_string(err) + '\t' + (seccomp ? "s" : "") + '\t' + path +
         '\t' + path2 + '\t' + std::to_string(flags) + '\t' + address + '\t' +
         std::to_string(port) + '\t' + std::to_string(target_pid);
}

bool interesting_errno(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case ENOENT:
    case EROFS:
    case EXDEV:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ECONNREFUSED:
    case EADDRNOTAVAIL:
      return true;
    default:
      return false;
  }
}

bool worth_keeping(const plan::Plan& plan, const Event& e) {
  if (e.seccomp) return true;
  if (!interesting_errno(e.err)) return false;
  if (e.err != ENOENT) return true;
  // ENOENT: only the namespace wall makes a file vanish.
  if (!plan.ns.enabled) return false;
  const plan::Oracle o(plan);
  auto hidden_on_the_way = [&](const std::string& path) {
    if (path.empty() || path[0] != '/') return false;
    const std::string p = plan::normalize(path);
    for (std::size_t i = 1; i <= p.size(); ++i)
      if (i == p.size() || p[i] == '/')
        if (o.seen(p.substr(0, i)) != plan::Seen::visible) return true;
    return false;
  };
  const std::string& p = e.family == 1 ? e.address : e.path;  // AF_UNIX: its path
  // In the private HOME: the real HOME may have what the tool looked for.
  const bool in_private_home = !plan.ns.home.empty() && plan::is_within(p, plan.ns.home);
  return in_private_home || hidden_on_the_way(p) || hidden_on_the_way(e.path2);
}

void Aggregate::add(Event e) {
  ++total_;
  e.last = ++seq_;
  const std::string k = e.key();
  auto it = by_key_.find(k);
  if (it == by_key_.end()) {
    if (by_key_.size() >= limit_) {
      ++dropped_;
      return;
    }
    by_key_.emplace(k, std::move(e));
    return;
  }
  Event& have = it->second;
  have.count += e.count;
  have.last = e.last;
  for (auto& p : e.programs)
    if (have.programs.size() < kMaxPrograms &&
        std::find(have.programs.begin(), have.programs.end(), p) == have.programs.end())
      have.programs.push_back(std::move(p));
}

std::vector<Event> Aggregate::events() const {
  std::vector<Event> out;
  out.reserve(by_key_.size());
  for (const auto& [k, e] : by_key_) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.last > b.last; });
  return out;
}

std::string serialize(const Batch& b) {
  std::string out = "aisbx-trace 1\t" + std::to_string(b.total) + '\t' +
                    std::to_string(b.dropped) + '\n';
  for (const Event& e : b.events) {
    std::string programs;
    for (const auto& p : e.programs) programs += (programs.empty() ? "" : "\n") + p;
    const std::string fields[] = {escape(e.syscall),
                                  std::to_string(e.err),
                                  e.seccomp ? "1" : "0",
                                  escape(e.path),
                                  escape(e.path2),
                                  std::to_string(e.flags),
                                  std::to_string(e.family),
                                  escape(e.address),
                                  std::to_string(e.port),
                                  std::to_string(e.target_pid),
                                  escape(programs),
                                  std::to_string(e.count),
                                  std::to_string(e.last)};
    std::string line;
    for (const auto& f : fields) line += (line.empty() ? "" : "\t") + f;
    out += line + '\n';
  }
  return out;
}

Batch parse(const std::string& text) {
  Batch b;
  const auto lines = split(text, '\n');
  if (lines.empty()) return b;
  const auto head = split(lines[0], '\t');
  if (head.size() != 3 || head[0] != "aisbx-trace 1") return b;
  b.total = to_u64(head[1]);
  b.dropped = to_u64(head[2]);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], '\t');
    if (f.size() != 13 || f[0].empty()) continue;
    Event e;
    e.syscall = unescape(f[0]);
    e.err = static_cast<int>(to_i64(f[1]));
    e.seccomp = f[2] == "1";
    e.path = unescape(f[3]);
    e.path2 = unescape(f[4]);
    e.flags = to_u64(f[5]);
    e.family = static_cast<int>(to_i64(f[6]));
    e.address = unescape(f[7]);
    e.port = static_cast<int>(to_i64(f[8]));
    e.target_pid = static_cast<long>(to_i64(f[9]));
    const std::string programs = unescape(f[10]);
    if (!programs.empty())
      for (auto p : split(programs, '\n'))
        if (b.events.size() < 1000000 && e.programs.size() < kMaxPrograms)
          e.programs.emplace_back(p);
    e.count = std::max<std::uint64_t>(1, to_u64(f[11]));
    e.last = to_u64(f[12]);
    b.events.push_back(std::move(e));
  }
  return b;
}

}  // namespace aisbx::trace
