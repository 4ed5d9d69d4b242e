#include "plan/glob.h"

#include <fnmatch.h>

#include <algorithm>

#include "plan/expand.h"

namespace aisbx::plan {
namespace {

std::vector<std::string> split(const std::string& pattern) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= pattern.size()) {
    const auto j = pattern.find('/', i);
    const std::string c = pattern.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!c.empty() && c != ".") out.push_back(c);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

struct Walker {
  const Fs& fs;
  const std::vector<std::string>& comps;
  std::vector<std::string>& out;
  std::size_t visited = 0;

  bool walk(const std::string& at, std::size_t i) {
    if (i == comps.size()) {
      out.push_back(at);
      return true;
    }
    const std::string& c = comps[i];
    if (c == "**") {
      if (!walk(at, i + 1)) return false;  // zero directories
      for (const auto& name : fs.list(at)) {
        if (++visited > kMaxGlobScan) return false;
        const std::string child = join(at, name);
        if (fs.kind(child) == FileKind::directory && !walk(child, i)) return false;
      }
      return true;
    }
    if (!has_glob(c)) {
      const std::string child = join(at, c);
      if (fs.kind(child) != FileKind::missing) return walk(child, i + 1);
      return true;
    }
    for (const auto& name : fs.list(at)) {
      if (++visited > kMaxGlobScan) return false;
      if (::fnmatch(c.c_str(), name.c_str(), 0) != 0) continue;
      const std::string child = join(at, name);
      if (i + 1 < comps.size() && fs.kind(child) != FileKind::directory) continue;
      if (!walk(child, i + 1)) return false;
    }
    return true;
  }
};

}  // namespace

bool has_glob(const std::string& p) { return p.find_first_of("*?[") != std::string::npos; }

Expected<std::vector<std::string>> expand_glob(const Fs& fs, const std::string& root,
                                               const std::string& pattern) {
  std::vector<std::string> out;
  const auto comps = split(pattern);
  if (std::find(comps.begin(), comps.end(), "..") != comps.end())
    return fail("`" + pattern + "`: `..` is not allowed in a subpath");
  if (!has_glob(pattern)) {
    out.push_back(normalize(root + "/" + pattern));
    return out;
  }
  Walker w{fs, comps, out};
  if (!w.walk(root, 0))
    return fail("`" + pattern + "` visits more than " + std::to_string(kMaxGlobScan) +
                    " entries under `" + root + "`",
                "make the pattern narrower (e.g. `.env` or `config/**/.env`)");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace aisbx::plan
