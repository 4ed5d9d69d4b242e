#include "plan/expand.h"

#include <vector>

namespace aisbx::plan {

Expected<std::string> expand(const profile::Located<std::string>& raw, const Vars& vars) {
  const std::string& s = raw.value;
  // Only an error names the place: formatting it for every path of every
  // launch was a tenth of the planning of a profile with many roots.
  const auto at = [&] { return raw.where.str() + ": "; };
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  if (!s.empty() && s[0] == '~') {
    if (s.size() > 1 && s[1] != '/')
      return fail(at() + "`" + s + "`: only `~` and `~/...` are supported, not `~user`");
    auto home = vars.find("HOME");
    if (home == vars.end() || home->second.empty())
      return fail(at() + "`" + s + "`: `~` needs HOME, which is not set");
    out = home->second;
    i = 1;
  }
  while (i < s.size()) {
    if (s[i] != '$') {
      const auto dollar = s.find('$', i);
      const std::size_t end = dollar == std::string::npos ? s.size() : dollar;
      out.append(s, i, end - i);
      i = end;
      continue;
    }
    if (i + 1 >= s.size() || s[i + 1] != '{')
      return fail(at() + "`" + s + "`: a `$` must start `${NAME}`");
    const auto close = s.find('}', i + 2);
    if (close == std::string::npos)
      return fail(at() + "`" + s + "`: `${` without a closing `}`");
    const std::string name = s.substr(i + 2, close - i - 2);
    auto v = vars.find(name);
    if (v == vars.end()) {
      std::string known;
      for (const auto& [k, _] : vars) known += (known.empty() ? "" : ", ") + k;
      return fail(at() + "`" + s + "`: unknown variable `${" + name + "}` (known: " + known +
                  ")");
    }
    if (v->second.empty())
      return fail(at() + "`" + s + "`: `${" + name + "}` is empty in this environment");
    out += v->second;
    i = close + 1;
  }
  return out;
}

Expected<std::string> expand_path(const profile::Located<std::string>& raw,
                                  const Vars& vars) {
  AISBX_ASSIGN(s, expand(raw, vars));
  // The parser refuses such text in the file; a variable (HOME, the
  // project, the cwd) or a command-line value can still bring it in.
  if (auto bad = profile::path_text_problem(s))
    return fail(raw.where.str() + ": `" + profile::escaped_path(raw.value) + "`" +
                    (s != raw.value ? " expands to `" + profile::escaped_path(s) + "`, which " : " ") +
                    *bad,
                "rename the directory, or name another path");
  if (s.empty() || s[0] != '/')
    return fail(raw.where.str() + ": `" + raw.value + "` expands to `" + s +
                    "`, which is not an absolute path",
                "write the path from `/`, or start it with `~/` or `${PROJECT}/`");
  return normalize(s);
}

namespace {

// Already in normal form: `/`, or `/` then components that are neither
// empty, `.` nor `..`, and no trailing `/`.
bool is_normal(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  if (p.size() == 1) return true;
  if (p.back() == '/') return false;
  std::size_t start = 1;
  for (;;) {
    const auto slash = p.find('/', start);
    const std::size_t len = (slash == std::string::npos ? p.size() : slash) - start;
    if (len == 0) return false;
    if (p[start] == '.' && (len == 1 || (len == 2 && p[start + 1] == '.'))) return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

std::string normalize(const std::string& abs_path) {
  if (is_normal(abs_path)) return abs_path;
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < abs_path.size()) {
    const auto j = abs_path.find('/', i);
    const std::string part =
        abs_path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (j == std::string::npos) break;
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

bool is_within(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

bool is_merged_usr_link(const std::string& path) {
  for (const char* l : kMergedUsrLinks)
    if (path == l) return true;
  return false;
}

std::string absolute(const std::string& rel, const std::string& base) {
  if (!rel.empty() && rel[0] == '/') return normalize(rel);
  return normalize(base + "/" + rel);
}

}  // namespace aisbx::plan
