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
      // One listing serves both the match of what follows `**` here (zero
      // directories) and the descent: a `**` costs one getdents per
      // directory, not two.
      const auto es = fs.entries(at);
      if (!match(at, i + 1, es)) return false;
      for (const auto& e : es) {
        if (++visited > kMaxGlobScan) return false;
        if (e.kind == FileKind::directory && !walk(join(at, e.name), i)) return false;
      }
      return true;
    }
    if (!has_glob(c)) {
      const std::string child = join(at, c);
      if (fs.kind(child) != FileKind::missing) return walk(child, i + 1);
      return true;
    }
    return match(at, i, fs.entries(at));
  }

  // Component i at `at`, whose entries are `es`.
  bool match(const std::string& at, std::size_t i, const std::vector<DirEntry>& es) {
    if (i == comps.size() || comps[i] == "**" || !has_glob(comps[i])) return walk(at, i);
    for (const auto& e : es) {
      if (++visited > kMaxGlobScan) return false;
      if (::fnmatch(comps[i].c_str(), e.name.c_str(), 0) != 0) continue;
      if (i + 1 < comps.size() && e.kind != FileKind::directory) continue;
      if (!walk(join(at, e.name), i + 1)) return false;
    }
    return true;
  }
};

}  // namespace

bool star_match(std::string_view pattern, std::string_view name, bool casefold) noexcept {
  const auto same = [casefold](char a, char b) {
    if (casefold) {
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
      if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    }
    return a == b;
  };
  const auto equal = [&](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same(a[i], b[i])) return false;
    return true;
  };
  // The literal head and tail first: most names fail there, at once.
  const std::size_t first = pattern.find('*');
  if (first == std::string_view::npos) return equal(pattern, name);
  const std::size_t last = pattern.rfind('*');
  const std::string_view head = pattern.substr(0, first), tail = pattern.substr(last + 1);
  if (name.size() < head.size() + tail.size() || !equal(head, name.substr(0, head.size())) ||
      !equal(tail, name.substr(name.size() - tail.size())))
    return false;
  // Between them: `*...*` against the rest, greedy, with one backtrack
  // point (the last `*` seen and where in the name it started).
  const std::string_view mid = pattern.substr(first, last - first + 1);
  const std::string_view rest = name.substr(head.size(), name.size() - head.size() - tail.size());
  std::size_t p = 0, n = 0, star = 0, from = 0;
  while (n < rest.size()) {
    if (p < mid.size() && mid[p] == '*') {
      star = p++;
      from = n;
    } else if (p < mid.size() && same(mid[p], rest[n])) {
      ++p;
      ++n;
    } else {
      p = star + 1;
      n = ++from;
    }
  }
  while (p < mid.size() && mid[p] == '*') ++p;
  return p == mid.size();
}

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
