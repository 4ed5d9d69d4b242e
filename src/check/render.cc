// The --check report as text (for people) and JSON (for editors and CI).
#include <sstream>

#include "check/parts.h"
#include "plan/json_writer.h"

namespace aisbx::check {
namespace {

std::string scan_line(const RootScan& s) {
  std::string line = s.root + ": " + std::to_string(s.scanned) + " entries scanned";
  if (s.not_scanned)
    line += ", " + std::string(s.count_capped ? "more than " : "") +
            std::to_string(s.not_scanned) + " not scanned (limit per root)";
  if (s.unreadable)
    line += ", " + std::to_string(s.unreadable) + " directories unreadable";
  return line;
}

// "1 error, 2 warnings": the counts that are not zero.
std::string counts(const Report& r) {
  std::size_t n[3] = {0, 0, 0};
  for (const auto& f : r.findings) ++n[static_cast<int>(f.severity)];
  std::string s;
  auto add = [&](std::size_t k, const char* one, const char* many) {
    if (k) s += (s.empty() ? "" : ", ") + std::to_string(k) + " " + (k == 1 ? one : many);
  };
  add(n[static_cast<int>(Severity::error)], "error", "errors");
  add(n[static_cast<int>(Severity::warning)], "warning", "warnings");
  add(n[static_cast<int>(Severity::info)], "info", "info");
  return s;
}

}  // namespace

std::string render_text(const plan::Plan& p, const Report& r) {
  std::ostringstream o;
  o << "check: profile " << p.profile << " (" << p.source << "), mode "
    << to_string(p.mode) << "\n";
  for (const auto& s : p.status) o << "  " << s << "\n";
  if (!r.findings.empty()) o << "findings:\n";
  for (const auto& f : r.findings) {
    o << "  " << to_string(f.severity) << " [" << f.kind << "]"
      << (f.path.empty() ? "" : " " + f.path) << "\n";
    o << "    problem: " << f.problem << "\n";
    if (!f.fix.empty()) o << "    fix: " << f.fix << "\n";
  }
  if (!r.scans.empty()) {
    o << "symlink scan:\n";
    for (const auto& s : r.scans) o << "  " << scan_line(s) << "\n";
  }
  if (!r.notes.empty()) {
    o << "notes (not findings):\n";
    for (const auto& n : r.notes) o << "  - " << n << "\n";
  }
  o << (r.findings.empty() ? std::string("result: clean")
                           : "result: " + std::to_string(r.findings.size()) + " finding" +
                                 (r.findings.size() == 1 ? "" : "s") + " (" + counts(r) +
                                 ")")
    << "\n";
  return o.str();
}

std::string render_json(const plan::Plan& p, const Report& r) {
  plan::JsonWriter j;
  j.begin_object();
  j.key("profile").value(p.profile);
  j.key("source").value(p.source);
  j.key("mode").value(to_string(p.mode));
  j.key("status").strings(p.status);
  j.key("findings").begin_array();
  for (const auto& f : r.findings) {
    j.begin_object();
    j.key("kind").value(f.kind);
    j.key("path").value(f.path);
    j.key("problem").value(f.problem);
    j.key("fix").value(f.fix);
    j.key("severity").value(to_string(f.severity));
    j.end_object();
  }
  j.end_array();
  j.key("scans").begin_array();
  for (const auto& s : r.scans) {
    j.begin_object();
    j.key("root").value(s.root);
    j.key("scanned").value(static_cast<std::int64_t>(s.scanned));
    j.key("not_scanned").value(static_cast<std::int64_t>(s.not_scanned));
    j.key("not_scanned_is_lower_bound").value(s.count_capped);
    j.key("unreadable_dirs").value(static_cast<std::int64_t>(s.unreadable));
    j.end_object();
  }
  j.end_array();
  j.key("notes").strings(r.notes);
  j.key("result").value(r.findings.empty() ? "clean" : "findings");
  j.end_object();
  return j.str();
}

}  // namespace aisbx::check
