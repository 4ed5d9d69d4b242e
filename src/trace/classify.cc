// Which wall refused a traced call, and the profile line that would allow
// it. Runs in the host launcher, which still sees the host's tree: "not in
// the sandbox" needs the host to have the path, and the Oracle (the same
// one --check and the exec diagnosis ask) tells which wall, which rights
// and which group.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

#include "aisbx/trace.h"
#include "plan/expand.h"

namespace aisbx::trace {
namespace {

// <sys/socket.h> and <sys/stat.h> values, spelled out: this file is pure.
constexpr int kAfUnix = 1;
constexpr int kAfInet6 = 10;
constexpr std::uint64_t kIfMt = 0170000, kIfSock = 0140000, kIfChr = 0020000,
                        kIfBlk = 0060000, kIfFifo = 0010000;

std::string dir_of(const std::string& p) {
  const auto slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

std::string base_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }

// ld.so opens a library read-only, then maps it executable: the mount must
// allow exec, which an open alone does not show.
bool looks_like_library(const std::string& path) {
  const std::string b = base_of(path);
  const auto so = b.find(".so");
  return so != std::string::npos && so > 0 &&
         (so + 3 == b.size() || b[so + 3] == '.');
}

bool is_loopback(const std::string& addr) {
  return addr.starts_with("127.") || addr == "::1" || addr == "::ffff:127.0.0.1";
}

std::string ports_yaml(std::vector<int> ports) {
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  std::string s;
  for (int p : ports) s += (s.empty() ? "" : ", ") + std::to_string(p);
  return "[" + s + "]";
}

// One path a call needs something of, and what.
struct Subject {
  std::string path;
  plan::Need need;
  bool directory = false;  // the subject is a directory (a parent, a listing)
};

struct FsCall {
  std::string operation;
  std::vector<Subject> subjects;  // in the order the kernel checks them
};

FsCall describe_fs(const Fs& fs, const Event& e, Kind kind) {
  FsCall c;
  const bool exists = fs.realpath(e.path).has_value();
  const bool is_dir = exists && fs.kind(*fs.realpath(e.path)) == FileKind::directory;
  const std::string parent = dir_of(e.path);
  auto on_parent = [&](AccessMask rights) { c.subjects.push_back({parent, {rights, false}, true}); };
  switch (kind) {
    case Kind::open: {
      const std::uint64_t flags =
          e.syscall == "creat" ? std::uint64_t{O_CREAT | O_WRONLY | O_TRUNC} : e.flags;
      const std::uint64_t acc = flags & O_ACCMODE;
      const bool write = acc == O_WRONLY || acc == O_RDWR;
      AccessMask rights = 0;
      if (acc != O_WRONLY) rights |= fs::kReadFile;
      if (write) rights |= fs::kWriteFile;
      if (write && (flags & O_TRUNC)) rights |= fs::kTruncate;
      if ((flags & O_CREAT) && !exists) {
        c.operation = "create";
        on_parent(fs::kMakeReg | (rights & (fs::kWriteFile | fs::kTruncate)));
      } else if ((flags & O_DIRECTORY) || is_dir) {
        c.operation = "list";
        c.subjects.push_back({e.path, {fs::kReadDir, false}, true});
      } else {
        c.operation = write ? "write" : "read";
        const bool lib = !write && looks_like_library(e.path);
        c.subjects.push_back({e.path, {rights, lib}, false});
      }
      break;
    }
    case Kind::exec:
      c.operation = "exec";
      c.subjects.push_back({e.path, plan::need_exec(), false});
      break;
    case Kind::lookup:
      // Landlock does not check stat, access, readlink or chdir: only a
      // path the namespace wall does not show fails them.
      c.operation = e.syscall == "chdir" ? "chdir" : e.syscall.starts_with("readlink") ? "readlink"
                    : e.syscall.find("access") != std::string::npos ? "access" : "stat";
      c.subjects.push_back({e.path, {is_dir ? fs::kReadDir : fs::kReadFile, false}, is_dir});
      break;
    case Kind::attr:
      c.operation = e.syscall.find("chmod") != std::string::npos   ? "chmod"
                    : e.syscall.find("chown") != std::string::npos ? "chown"
                                                                    : "set times";
      // Only a read-only mount refuses these; write_file makes it writable.
      c.subjects.push_back({e.path, {fs::kWriteFile, false}, is_dir});
      break;
    case Kind::mkdir:
      c.operation = "mkdir";
      on_parent(fs::kMakeDir);
      break;
    case Kind::mknod: {
      const std::uint64_t type = e.flags & kIfMt;
      c.operation = "mknod";
      on_parent(type == kIfFifo ? fs::kMakeFifo : type == kIfSock ? fs::kMakeSock
                : type == kIfChr ? fs::kMakeChar : type == kIfBlk ? fs::kMakeBlock
                                                                  : fs::kMakeReg);
      break;
    }
    case Kind::symlink:
      c.operation = "symlink";
      on_parent(fs::kMakeSym);
      break;
    case Kind::unlink:
    case Kind::rmdir: {
      const bool dir = kind == Kind::rmdir || (e.flags & AT_REMOVEDIR);
      c.operation = dir ? "rmdir" : "remove";
      on_parent(dir ? fs::kRemoveDir : fs::kRemoveFile);
      break;
    }
    case Kind::rename:
    case Kind::link: {
      // Landlock: moving or linking into another directory needs `refer`
      // on both (EXDEV without it).
      const bool across = dir_of(e.path) != dir_of(e.path2);
      const AccessMask refer = across ? fs::kRefer : 0;
      const AccessMask make = is_dir ? fs::kMakeDir : fs::kMakeReg;
      c.operation = kind == Kind::rename ? "rename" : "link";
      if (kind == Kind::rename)
        c.subjects.push_back({parent, {(is_dir ? fs::kRemoveDir : fs::kRemoveFile) | refer, false}, true});
      else if (across)
        c.subjects.push_back({parent, {refer, false}, true});
      c.subjects.push_back({dir_of(e.path2), {make | refer, false}, true});
      break;
    }
    case Kind::truncate:
      c.operation = "truncate";
      c.subjects.push_back({e.path, {fs::kTruncate, false}, false});
      break;
    default:
      break;
  }
  return c;
}

// A group line to paste under access_roots.
std::string root_yaml(const std::string& path, AccessMask rights) {
  const std::string key = plan::yaml_key_of(path);
  const std::string name = "learned" + (key.empty() ? std::string() : "-" + key);
  return name + ": {paths: [" + plan::yaml_quote(path) + "], permissions: {" + plan::rights_yaml(rights) +
         "}}";
}

void set_root(Denial& d, const plan::Plan& p, const std::string& path, const plan::Need& need,
              const std::string& home) {
  AccessMask rights = need.rights;
  // A mount is noexec unless its group grants execute (DESIGN.md).
  if (need.exec_mount && p.ns.enabled) rights |= fs::kExecute;
  if (!rights) rights = fs::kReadFile;
  d.proposal.kind = Proposal::Kind::root;
  d.proposal.path = path;
  d.proposal.rights = rights;
  d.proposal.secret = is_secret_path(path, home);
  d.section = "access_roots";
  d.yaml = root_yaml(path, rights);
}

std::optional<Denial> classify_fs(const plan::Plan& p, const Fs& fs, const std::string& home,
                                  const Event& e, Kind kind, Denial d) {
  if (e.path.empty() || e.path[0] != '/') return std::nullopt;
  if ((kind == Kind::rename || kind == Kind::link) && (e.path2.empty() || e.path2[0] != '/'))
    return std::nullopt;
  const FsCall call = describe_fs(fs, e, kind);
  d.operation = call.operation;
  d.subject = e.path + (e.path2.empty() ? std::string() : " -> " + e.path2);
  const plan::Oracle o(p);
  for (const Subject& s : call.subjects) {
    const plan::Resolution r = o.resolve(fs, s.path);
    const std::string& private_home = p.ns.home;
    if (!r.target && r.blocked.empty() && e.err == ENOENT && !private_home.empty() &&
        !home.empty() && plan::is_within(s.path, private_home) && s.path != private_home &&
        home != private_home) {
      // The tool looked in the private HOME for what the real one has.
      const std::string real = home + s.path.substr(private_home.size());
      if (!fs.realpath(real)) continue;
      d.wall = Wall::namespace_;
      d.why = q(s.path) + " is in the sandbox's private HOME, which lacks it; the real HOME has " +
              q(real);
      set_root(d, p, real, s.need, home);
      d.proposal.private_home = true;
      d.fix = "copy " + q(real) + " into the private HOME (" + q(s.path) +
              "), or show the real file at its own path: under access_roots `" + d.yaml +
              "`, and point the tool at " + q(real);
      return d;
    }
    if (!r.target) {
      // Not reachable in the sandbox. A refusal only if the host has it.
      if (r.blocked.empty() || !fs.realpath(s.path)) continue;
      if (e.err != ENOENT && e.err != EACCES) continue;
      // Through a symlink the sandbox lacks: list the link (roots.cc
      // recreates it), except a merged-/usr one (/lib -> usr/lib), which
      // would bring the whole tree; the loader and PATH look in /usr too.
      static constexpr const char* kMergedUsr[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
      const bool merged = std::any_of(std::begin(kMergedUsr), std::end(kMergedUsr),
                                      [&](const char* m) { return r.blocked == m; });
      const std::string add = fs.kind(r.blocked) != FileKind::symlink ? r.reached
                              : merged ? *fs.realpath(s.path)
                                       : o.root_to_add(fs, r);
      const plan::Verdict v = o.check(r.blocked, s.need);
      d.wall = Wall::namespace_;
      d.why = o.explain(r);
      d.fix = o.suggest(add, s.need, &v);
      set_root(d, p, add, s.need, home);
      return d;
    }
    const std::string& target = *r.target;
    const plan::Verdict v = o.check(target, s.need);
    switch (e.err) {
      case EROFS: {
        if (!p.ns.enabled) break;  // the host's own read-only mount
        d.wall = Wall::read_only;
        d.why = v.missing_mount ? o.explain(v)
                                : q(target) + " is on a read-only mount of the namespace wall";
        plan::Need need = s.need;
        if (!(need.rights & fs::kWriteRights)) need.rights |= fs::kWriteFile;
        const plan::Verdict vw = o.check(target, need);
        d.fix = o.suggest(target, need, &vw);
        set_root(d, p, target, need, home);
        return d;
      }
      case EACCES:
      case EPERM:
      case EXDEV: {
        if (e.err == EXDEV && !(v.missing_landlock & fs::kRefer)) break;
        if (s.need.exec_mount && (v.missing_mount & fs::kExecute) && e.err == EACCES) {
          d.wall = Wall::noexec;
        } else if (v.missing_landlock) {
          d.wall = Wall::landlock;
        } else {
          break;  // the file's mode, an ACL, another LSM: not the sandbox
        }
        d.why = o.explain(v);
        d.fix = o.suggest(target, s.need, &v);
        set_root(d, p, target, s.need, home);
        return d;
      }
      default:
        break;  // ENOENT on a visible path: the host lacks it too
    }
  }
  return std::nullopt;
}

std::optional<Denial> classify_net(const plan::Plan& p, const Fs& fs, const std::string& home,
                                   const Event& e, Kind kind, Denial d) {
  const bool connect = kind == Kind::connect;
  d.operation = connect ? "connect" : "bind";
  if (e.family == kAfUnix) {
    if (e.address.starts_with("@")) {
      d.subject = "unix " + e.address;
      if (e.err != EPERM || !(p.landlock.scoped & scope::kAbstractUnixSocket)) return std::nullopt;
      d.wall = Wall::scope;
      d.why = "the abstract unix socket " + q(e.address) +
              " lies outside the sandbox's Landlock domain (scope abstract_unix_socket)";
      d.fix = "allow abstract unix sockets outside the sandbox: `scope: {abstract_unix_socket: false}`";
      d.section = "scope";
      d.yaml = "{abstract_unix_socket: false}";
      d.proposal.kind = Proposal::Kind::scope_abstract;
      return d;
    }
    Event as_file = e;
    as_file.path = e.address;
    as_file.syscall = "openat";
    as_file.flags = O_RDWR;
    auto f = classify_fs(p, fs, home, as_file, Kind::open, d);
    if (f) {
      f->operation = d.operation;
      f->subject = "unix " + e.address;
    }
    return f;
  }
  const std::string addr = e.family == kAfInet6 ? "[" + e.address + "]" : e.address;
  d.subject = "tcp " + addr + ":" + std::to_string(e.port);
  if (e.port < 0) return std::nullopt;
  const AccessMask right = connect ? net::kConnectTcp : net::kBindTcp;
  if (e.err == EACCES && (p.landlock.handled_net & right)) {
    d.wall = Wall::landlock;
    d.why = std::string("Landlock allows TCP ") + (connect ? "connect" : "bind") +
            " only to the ports the profile lists, not " + std::to_string(e.port);
  } else if (p.ns.enabled && p.ns.net != profile::NetMode::host &&
             (e.err == ENETUNREACH || e.err == EHOSTUNREACH || e.err == EADDRNOTAVAIL ||
              (e.err == ECONNREFUSED && is_loopback(e.address)) ||
              (e.err == EACCES && !connect))) {
    d.wall = Wall::netns;
    d.why = std::string("the sandbox has its own network namespace (network: ") +
            profile::to_string(p.ns.net) + ")" +
            (is_loopback(e.address) ? ", whose loopback is not the host's" : ", with no route out");
  } else {
    return std::nullopt;
  }
  std::vector<int> ports{e.port};
  for (const auto& r : p.landlock.net_rules)
    if (r.access & right) ports.push_back(r.port);
  const std::string key = connect ? "connect_tcp" : "bind_tcp";
  d.section = "network";
  d.yaml = "{mode: host, " + key + ": " + ports_yaml(ports) + "}";
  d.fix = "allow TCP " + std::string(connect ? "connections to" : "listening on") + " port " +
          std::to_string(e.port) + " only: `network: " + d.yaml + "`";
  d.proposal.kind = connect ? Proposal::Kind::connect_tcp : Proposal::Kind::bind_tcp;
  d.proposal.port = e.port;
  return d;
}

std::optional<Denial> classify_seccomp(const plan::Plan& p, const Event& e, Denial d) {
  // glibc tries clone3 first and takes ENOSYS as the cue to use clone.
  if (e.syscall == "clone3") return std::nullopt;
  d.wall = Wall::seccomp;
  d.operation = "syscall";
  d.subject = e.syscall;
  d.section = "seccomp";
  const auto& deny = p.seccomp.deny;
  std::string allow;
  for (const auto& a : p.seccomp.allow) allow += a + ", ";
  const std::string preset = p.seccomp.preset ? "preset: default, " : "";
  if (std::find(deny.begin(), deny.end(), e.syscall) != deny.end()) {
    d.why = q(e.syscall) + " is on the seccomp deny list";
    d.yaml = "{" + preset + "allow: [" + allow + e.syscall + "]}";
    d.fix = "allow the system call: `seccomp: " + d.yaml + "`";
    d.proposal.kind = Proposal::Kind::seccomp_allow;
    d.proposal.syscall = e.syscall;
  } else if ((e.syscall == "unshare" || e.syscall == "clone") && !p.seccomp.allow_nested_userns) {
    d.why = q(e.syscall) + " with CLONE_NEWUSER: the seccomp preset refuses nested user namespaces";
    d.yaml = "{" + preset + "allow_nested_userns: true}";
    d.fix = "allow nested user namespaces (Electron, Chromium need them): `seccomp: " + d.yaml + "`";
    d.proposal.kind = Proposal::Kind::nested_userns;
  } else {
    d.why = q(e.syscall) + " with arguments the default seccomp preset always refuses "
            "(TIOCSTI/TIOCLINUX, MPTCP sockets, personality flags that weaken ASLR)";
    d.section.clear();
  }
  return d;
}

}  // namespace

const char* to_string(Wall w) {
  switch (w) {
    case Wall::namespace_: return "namespace";
    case Wall::read_only: return "read-only mount";
    case Wall::noexec: return "noexec mount";
    case Wall::landlock: return "Landlock";
    case Wall::netns: return "network namespace";
    case Wall::scope: return "Landlock scope";
    case Wall::seccomp: return "seccomp";
  }
  return "?";
}

const char* wall_code(Wall w) {
  switch (w) {
    case Wall::namespace_: return "namespace";
    case Wall::read_only: return "read_only";
    case Wall::noexec: return "noexec";
    case Wall::landlock: return "landlock";
    case Wall::netns: return "netns";
    case Wall::scope: return "scope";
    case Wall::seccomp: return "seccomp";
  }
  return "?";
}

bool is_secret_path(const std::string& path, const std::string& home) {
  if (home.empty() || home[0] != '/') return false;
  static const char* const kStores[] = {
      ".ssh", ".gnupg", ".aws", ".azure", ".config/gcloud", ".kube", ".docker",
      ".netrc", ".git-credentials", ".password-store", ".local/share/keyrings",
      ".gnome2/keyrings", ".config/gh", ".pki", ".vault-token"};
  const std::string h = plan::normalize(home);
  const std::string norm = path.empty() || path[0] != '/' ? path : plan::normalize(path);
  for (const char* s : kStores) {
    const std::string store = h + "/" + s;
    // Inside a store, or a root that would contain one (HOME itself, `/`).
    if (plan::is_within(norm, store) || plan::is_within(store, norm)) return true;
  }
  return false;
}

std::optional<Denial> classify(const plan::Plan& plan, const Fs& host_fs, const std::string& home,
                               const Event& e) {
  Denial d;
  d.syscall = e.syscall;
  d.err = e.err;
  d.programs = e.programs;
  d.count = e.count;
  d.last = e.last;
  if (e.seccomp) return classify_seccomp(plan, e, std::move(d));
  const SyscallShape* s = shape_of(e.syscall);
  if (!s) return std::nullopt;
  switch (s->kind) {
    case Kind::connect:
    case Kind::bind:
      return classify_net(plan, host_fs, home, e, s->kind, std::move(d));
    case Kind::signal:
      if (e.err != EPERM || !plan.landlock.enabled || !(plan.landlock.scoped & scope::kSignal))
        return std::nullopt;
      d.wall = Wall::scope;
      d.operation = "signal";
      d.subject = "pid " + std::to_string(e.target_pid);
      d.why = "process " + std::to_string(e.target_pid) +
              " is outside the sandbox's Landlock domain (scope signal)";
      d.section = "scope";
      d.yaml = "{signal: false}";
      d.fix = "allow signals to processes outside the sandbox: `scope: {signal: false}`";
      d.proposal.kind = Proposal::Kind::scope_signal;
      return d;
    case Kind::other:
      return std::nullopt;
    default:
      return classify_fs(plan, host_fs, home, e, s->kind, std::move(d));
  }
}

Report classify_all(const plan::Plan& plan, const Fs& host_fs, const std::string& home,
                    const Batch& batch) {
  Report r;
  r.events = batch.total;
  r.dropped = batch.dropped;
  r.network = batch.network;
  for (const Event& e : batch.events) {
    auto d = classify(plan, host_fs, home, e);
    if (!d) continue;
    // One file reached by several names (/lib/... and /usr/lib/...) is one denial.
    auto what = [](const Denial& x) {
      return x.proposal.kind == Proposal::Kind::root ? x.proposal.path : x.subject;
    };
    auto same = std::find_if(r.denials.begin(), r.denials.end(), [&](const Denial& x) {
      return x.wall == d->wall && x.operation == d->operation && what(x) == what(*d) &&
             x.err == d->err;
    });
    if (same == r.denials.end()) {
      r.denials.push_back(std::move(*d));
      continue;
    }
    same->count += d->count;
    same->last = std::max(same->last, d->last);
    for (const auto& prog : d->programs)
      if (std::find(same->programs.begin(), same->programs.end(), prog) == same->programs.end())
        same->programs.push_back(prog);
  }
  std::stable_sort(r.denials.begin(), r.denials.end(),
                   [](const Denial& a, const Denial& b) { return a.last > b.last; });
  return r;
}

}  // namespace aisbx::trace
