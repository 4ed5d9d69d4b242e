// Shared libraries, found the way glibc's ld.so finds them (ld.so(8)):
// DT_RPATH (when there is no DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH, the
// cache (/etc/ld.so.cache, made from the directories of /etc/ld.so.conf),
// then the system directories. The search is done twice: on the host (where
// the file is) and as the sandbox sees it (candidates it does not show are
// skipped, as the loader skips ENOENT; ones it shows but refuses are kept as
// the reason when nothing else is found). Transitive, bounded.
#include <glob.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {
namespace {

constexpr std::size_t kMaxObjects = 512;
constexpr int kMaxIncludeDepth = 8;
constexpr std::size_t kMaxConfBytes = 1 << 16;

struct GlobFree {
  glob_t* g;
  ~GlobFree() { ::globfree(g); }
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// /etc/ld.so.conf as ldconfig reads it: directories, `include GLOB` (relative
// to the file's directory), `hwcap` lines (ignored), `#` comments.
void parse_conf(const std::string& file, int depth, std::vector<std::string>& dirs) {
  if (depth > kMaxIncludeDepth) return;
  std::ifstream in(file);
  if (!in) return;
  std::string text(kMaxConfBytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty() || line.starts_with("hwcap ")) continue;
    if (line.starts_with("include ") || line.starts_with("include\t")) {
      std::string pattern = trim(line.substr(8));
      if (!pattern.starts_with("/")) pattern = dir_of(file) + "/" + pattern;
      glob_t g{};
      GlobFree free_g{&g};
      if (::glob(pattern.c_str(), 0, nullptr, &g) != 0) continue;  // sorted by glob
      for (std::size_t i = 0; i < g.gl_pathc; ++i)
        parse_conf(g.gl_pathv[i], depth + 1, dirs);
      continue;
    }
    std::string word;
    for (char c : line + " ") {
      if (c == ' ' || c == '\t' || c == ',' || c == ':' || c == '=') {
        if (word.starts_with("/")) add_unique(dirs, plan::normalize(word));
        word.clear();
      } else {
        word += c;
      }
    }
  }
}

std::vector<std::string> split_path_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ":") {
    if (c == ':' || c == ';') {
      if (!cur.empty()) out.push_back(cur);  // an empty entry is the cwd: not followed
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

struct Dir {
  std::string path;
  bool via_cache;  // only the cache leads there
};

struct Searcher {
  const plan::Oracle& oracle;
  const Fs& fs;
  std::uint16_t machine;
  std::vector<std::string> ld_library_path, conf_dirs, system_dirs;
  bool cache_readable = false;
  std::map<std::string, bool> compatible_cache;
  bool noted_dynamic_string = false;
  Report& report;

  // ld.so skips a file of another class or machine and keeps searching.
  bool compatible(const std::string& real) {
    auto it = compatible_cache.find(real);
    if (it != compatible_cache.end()) return it->second;
    auto elf = read_elf(real);
    const bool ok = elf && *elf && (*elf)->supported && (*elf)->machine == machine;
    compatible_cache.emplace(real, ok);
    return ok;
  }

  std::optional<std::string> expand(const std::string& dir, const std::string& origin) {
    std::string out;
    for (std::size_t i = 0; i < dir.size();) {
      if (dir.compare(i, 7, "$ORIGIN") == 0) {
        out += origin;
        i += 7;
      } else if (dir.compare(i, 9, "${ORIGIN}") == 0) {
        out += origin;
        i += 9;
      } else if (dir[i] == '$') {
        if (!noted_dynamic_string)
          report.notes.push_back("a library path with `" + dir +
                                 "` ($LIB, $PLATFORM) was not followed");
        noted_dynamic_string = true;
        return std::nullopt;
      } else {
        out += dir[i++];
      }
    }
    if (!out.starts_with("/")) return std::nullopt;  // relative: the loader's cwd
    return plan::normalize(out);
  }

  // `exe`: the program's own DT_RPATH also applies to every library that
  // has no DT_RUNPATH (ld.so(8)); null for the program itself.
  std::vector<Dir> order(const ElfInfo& obj, const std::string& origin,
                         const ElfInfo* exe, const std::string& exe_origin) {
    std::vector<Dir> dirs;
    auto add = [&](const std::vector<std::string>& list, bool cache,
                   const std::string& from) {
      for (const auto& d : list)
        if (auto e = expand(d, from)) dirs.push_back({*e, cache});
    };
    if (obj.runpath.empty()) {
      add(obj.rpath, false, origin);
      if (exe) add(exe->rpath, false, exe_origin);
    }
    add(ld_library_path, false, origin);
    add(obj.runpath, false, origin);
    std::vector<std::string> cache_only;
    for (const auto& d : conf_dirs)
      if (std::find(system_dirs.begin(), system_dirs.end(), d) == system_dirs.end())
        cache_only.push_back(d);
    add(cache_only, true, origin);
    add(system_dirs, false, origin);
    return dirs;
  }

  struct Found {
    std::optional<std::string> target;      // where the sandbox loads it from
    std::optional<plan::Verdict> refused;   // first candidate shown but refused
    std::vector<plan::Resolution> blocked;  // every candidate the sandbox does not show
  };

  Found in_sandbox(const std::vector<Dir>& dirs, const std::string& name,
                   bool use_cache) {
    Found f;
    for (const auto& d : dirs) {
      if (d.via_cache && !use_cache) continue;
      const std::string cand = d.path + "/" + name;
      const auto real = fs.realpath(cand);
      if (!real || !compatible(*real)) continue;
      const plan::Resolution r = oracle.resolve(fs, cand);
      if (!r.target) {
        f.blocked.push_back(r);
        continue;
      }
      const plan::Verdict v = oracle.check(*r.target, plan::need_load());
      if (!v.ok()) {
        if (!f.refused) f.refused = v;
        continue;
      }
      f.target = *r.target;
      return f;
    }
    return f;
  }

  std::optional<std::string> on_host(const std::vector<Dir>& dirs,
                                     const std::string& name) {
    for (const auto& d : dirs) {
      const auto real = fs.realpath(d.path + "/" + name);
      if (real && compatible(*real)) return real;
    }
    return std::nullopt;
  }

  // The library is not loadable in the sandbox: say why and what to add.
  void report_missing(const std::string& name, const std::string& by,
                      const std::vector<Dir>& dirs, const Found& f) {
    const std::string who = "library " + q(name) + " (needed by " + q(by) + ")";
    const auto host = on_host(dirs, name);
    if (!host) {
      report.findings.push_back({"library", name,
                                 who + " is not found on this host either",
                                 "install the package that provides it", Severity::error});
      return;
    }
    if (!cache_readable && in_sandbox(dirs, name, true).target) {
      const plan::Resolution r = oracle.resolve(fs, "/etc/ld.so.cache");
      const plan::Verdict v =
          oracle.check(r.target.value_or("/etc/ld.so.cache"), plan::need_read());
      report.findings.push_back(
          {"library", *host,
           who +
               ": the loader finds it only through `/etc/ld.so.cache`, which the sandbox "
               "cannot read",
           oracle.suggest("/etc/ld.so.cache", plan::need_read(),
                          r.target ? &v : nullptr), Severity::error});
      return;
    }
    if (f.refused) {
      report.findings.push_back(
          {"library", *host, who + ": " + oracle.explain(*f.refused),
           oracle.suggest(dir_of(f.refused->path), plan::need_load(), &*f.refused), Severity::error});
      return;
    }
    // Of the places the loader would look, suggest the narrowest root that
    // lets it through (`/usr/lib/x86_64-linux-gnu` rather than `/lib`).
    const plan::Resolution* best = nullptr;
    std::string add = dir_of(*host);
    for (const auto& r : f.blocked) {
      const std::string a = oracle.root_to_add(fs, r);
      if (!best || a.size() > add.size()) best = &r, add = a;
    }
    report.findings.push_back(
        {"library", *host,
         who + ": " +
             (best ? oracle.explain(*best) : q(*host) + " is not in the sandbox"),
         best ? oracle.suggest(fs, *best, plan::need_load())
              : oracle.suggest(add, plan::need_load()), Severity::error});
  }
};

}  // namespace

void check_libraries(const plan::Oracle& oracle, const Fs& fs, const std::string& program,
                     const ElfInfo& exe, Report& report) {
  if (exe.needed.empty()) return;
  Searcher s{oracle, fs, exe.machine, {}, {}, {}, false, {}, false, report};
  for (const auto& [k, v] : oracle.plan().exec.env)
    if (k == "LD_LIBRARY_PATH") s.ld_library_path = split_path_list(v);
  parse_conf("/etc/ld.so.conf", 0, s.conf_dirs);
  // glibc's system directories on a multiarch (Debian) system, in its order
  // (`ld.so --help`: "system search path").
  if (const std::string t = multiarch_triplet(exe.machine); !t.empty())
    s.system_dirs = {"/lib/" + t, "/usr/lib/" + t};
  s.system_dirs.insert(s.system_dirs.end(), {"/lib", "/usr/lib"});
  const plan::Resolution cache = oracle.resolve(fs, "/etc/ld.so.cache");
  s.cache_readable = cache.target && oracle.check(*cache.target, plan::need_read()).ok();

  struct Object {
    std::string path;
    ElfInfo info;
  };
  std::vector<Object> queue{{program, exe}};
  std::set<std::string> names_done;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    if (queue.size() > kMaxObjects) {
      report.notes.push_back("more than " + std::to_string(kMaxObjects) +
                             " libraries behind " + q(program) +
                             ": the rest were not checked");
      break;
    }
    const Object obj = queue[i];  // a copy: the queue grows below
    const auto dirs =
        s.order(obj.info, dir_of(obj.path), i == 0 ? nullptr : &exe, dir_of(program));
    for (const auto& name : obj.info.needed) {
      if (!names_done.insert(name).second) continue;  // loaded once, by name
      std::optional<std::string> target;
      Searcher::Found f;
      if (name.find('/') != std::string::npos) {
        // A name with a slash is a path: no search (ld.so(8)).
        const plan::Resolution r =
            oracle.resolve(fs, plan::absolute(name, dir_of(program)));
        if (r.target) {
          const plan::Verdict v = oracle.check(*r.target, plan::need_load());
          if (v.ok())
            target = r.target;
          else
            f.refused = v;
        } else {
          f.blocked.push_back(r);
        }
      } else {
        f = s.in_sandbox(dirs, name, s.cache_readable);
        target = f.target;
      }
      if (!target) {
        s.report_missing(name, obj.path, dirs, f);
        continue;
      }
      auto elf = read_elf(*target);
      if (!elf || !*elf || !(*elf)->supported) {
        report.notes.push_back(q(*target) + ": not an ELF library this check reads");
        continue;
      }
      queue.push_back({*target, **elf});
    }
  }
}

}  // namespace aisbx::check
