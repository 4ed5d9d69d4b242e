// The summary --trace prints when the target exits, as text or JSON.
#include <cerrno>

#include "aisbx/trace.h"
#include "plan/json_writer.h"

namespace aisbx::trace {
namespace {

std::string errno_name(int err) {
  switch (err) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EROFS: return "EROFS";
    case EXDEV: return "EXDEV";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENOSYS: return "ENOSYS";
    default: return "errno " + std::to_string(err);
  }
}

std::string programs_of(const Denial& d) {
  std::string s;
  for (const auto& p : d.programs) s += (s.empty() ? "" : ", ") + p.substr(p.rfind('/') + 1);
  return s;
}

// network.allow's part: the proxy decides outside the sandbox, so these
// are no refused calls; each line is a destination and how often.
std::string network_text(const Report& r) {
  if (r.network.empty()) return {};
  std::uint64_t n = 0;
  for (const auto& d : r.network) n += d.count;
  std::string out = "aisbx-ns: trace: network.allow denied " + std::to_string(r.network.size()) +
                    (r.network.size() == 1 ? " destination" : " destinations") + " (" +
                    std::to_string(n) + (n == 1 ? " time" : " times") + "):\n";
  for (const auto& d : r.network)
    out += "  " + d.destination + ": " + d.why + " (" + std::to_string(d.count) + "x)\n";
  return out;
}

std::string render_calls(const Report& r, std::size_t limit) {
  std::string out;
  if (r.denials.empty()) {
    out = "aisbx-ns: trace: the sandbox refused nothing";
    if (r.events) out += " (" + std::to_string(r.events) + " failed calls had other causes)";
    return out + "\n";
  }
  std::uint64_t calls = 0;
  for (const auto& d : r.denials) calls += d.count;
  out = "aisbx-ns: trace: the sandbox refused " + std::to_string(r.denials.size()) +
        (r.denials.size() == 1 ? " access" : " accesses") + " (" + std::to_string(calls) +
        (calls == 1 ? " call" : " calls") + "), newest first:\n";
  std::size_t n = 0;
  for (const auto& d : r.denials) {
    if (n == limit) {
      out += "  ... and " + std::to_string(r.denials.size() - limit) +
             " more (--trace-output FILE --format json lists them all)\n";
      break;
    }
    ++n;
    const std::string who = programs_of(d);
    out += "  " + std::to_string(n) + ". " + d.operation + " " +
           (d.wall == Wall::seccomp || d.subject.starts_with("tcp ") ||
                    d.subject.starts_with("unix ") || d.subject.starts_with("pid ")
                ? d.subject
                : q(d.subject)) +
           ": " + errno_name(d.err) + ", " + to_string(d.wall) +
           (d.count > 1 ? " (" + std::to_string(d.count) + "x)" : std::string()) +
           (who.empty() ? std::string() : " [" + who + "]") + "\n";
    if (!d.why.empty()) out += "     why: " + d.why + "\n";
    if (!d.fix.empty())
      out += "     fix: " + d.fix + "\n";
    else
      out += "     fix: none: no profile line allows it\n";
    if (d.proposal.secret)
      out += "     warning: this is inside a secret store (~/.ssh, ~/.gnupg, ~/.aws, keyrings ...): "
             "allow it only if the tool must have it\n";
  }
  if (r.dropped)
    out += "  (" + std::to_string(r.dropped) +
           " distinct failed calls were not kept: the trace holds at most 4096)\n";
  return out;
}

}  // namespace

std::string render_text(const Report& r, std::size_t limit) {
  return render_calls(r, limit) + network_text(r);
}


std::string render_json(const Report& r) {
  plan::JsonWriter j;
  j.begin_object();
  j.key("version").value(1);
  j.key("failed_calls").value(static_cast<std::int64_t>(r.events));
  j.key("dropped").value(static_cast<std::int64_t>(r.dropped));
  j.key("denials").begin_array();
  for (const auto& d : r.denials) {
    j.begin_object();
    j.key("wall").value(wall_code(d.wall));
    j.key("operation").value(d.operation);
    j.key("syscall").value(d.syscall);
    j.key("subject").value(d.subject);
    if (d.proposal.kind == Proposal::Kind::root) j.key("path").value(d.proposal.path);
    if (d.proposal.port >= 0) j.key("port").value(d.proposal.port);
    j.key("errno").value(errno_name(d.err));
    j.key("errno_value").value(d.err);
    j.key("count").value(static_cast<std::int64_t>(d.count));
    j.key("programs").strings(d.programs);
    j.key("why").value(d.why);
    j.key("fix").value(d.fix);
    if (!d.section.empty()) {
      j.key("profile_line").begin_object();
      j.key("under").value(d.section);
      j.key("yaml").value(d.yaml);
      j.end_object();
    }
    j.key("secret_store").value(d.proposal.secret);
    j.end_object();
  }
  j.end_array();
  j.key("network_denials").begin_array();
  for (const auto& d : r.network) {
    j.begin_object();
    j.key("destination").value(d.destination);
    j.key("why").value(d.why);
    j.key("count").value(static_cast<std::int64_t>(d.count));
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.str();
}

}  // namespace aisbx::trace
