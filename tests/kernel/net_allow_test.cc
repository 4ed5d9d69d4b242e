// network.allow replayed in a lab (tests/net/lab.sh): namespaces the test
// makes, servers on TEST-NET addresses, never the machine's real network.
// Each run prints one line per scenario (`ok NAME` / `FAIL NAME: ...`);
// every scenario is an attack from issue 23 or the allowlist working.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "kernel_gap.h"
#include "paths.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

// The scenarios every run must report `ok`: a missing line is a failure too.
const char* const kScenarios[] = {
    "allowed-http-proxy-vars", "allowed-connect", "allowed-raw-socket", "allowed-raw-python",
    "allowed-20mb-checksum", "allowed-20mb-checksum-raw", "allowed-100-concurrent",
    "allowed-https-connect", "allowed-https-raw", "allowed-https-verifies-certificate",
    "allowed-20mb-checksum-https", "allowed-100-concurrent-proxy-vars",
    "allowed-100-concurrent-https-connect", "denied-https-connect", "denied-https-connect-reported",
    "denied-https-raw", "denied-https-raw-reported", "rebinding-meta-https-connect",
    "rebinding-meta-https-reported", "allowed-name-resolved-upstream", "upstream-dns-log-works", "denied-http-proxy",
    "denied-http-proxy-reported", "denied-connect", "denied-raw", "denied-raw-reported",
    "bare-ip-198.51.100.20", "bare-ip-3325256724", "bare-ip-0xC6336414", "bare-ip-reported", "bare-ip-ipv4-mapped-ipv6",
    "bare-ip-ipv4-mapped-ipv6-reported", "bare-ip-ipv4-mapped-ipv6-proxy",
    "bare-ip-proxy", "host-own-address", "host-own-address-reported", "unlisted-host-port", "udp-datagram-reaches-nothing",
    "smuggle-host-header", "smuggle-absolute-host-header", "smuggle-userinfo", "smuggle-crlf",
    "proxy-unreachable-502", "proxy-head-too-large-431", "silent-connect-reported",
    "rebinding-loop-proxy", "rebinding-loop-raw", "rebinding-own-proxy", "rebinding-own-raw",
    "rebinding-meta-proxy", "rebinding-meta-raw", "rebinding-ranged-proxy", "rebinding-ranged-raw",
    "rebinding-loop-reported", "rebinding-own-reported", "rebinding-meta-reported",
    "dns-unlisted-A-udp", "dns-unlisted-A-tcp", "dns-unlisted-AAAA-udp", "dns-unlisted-AAAA-tcp",
    "dns-unlisted-TXT-udp", "dns-unlisted-TXT-tcp", "dns-allowed-answers", "dns-never-forwarded",
    "host-port-reaches-local-service", "host-port-by-localhost", "host-port-inside-ipv6-loopback",
    "host-port-to-ipv6-only-service", "publish-reaches-inside-server-from-ipv6-loopback",
    "publish-closed-after-run-ipv6",
    "publish-reaches-inside-server", "publish-server-served", "publish-closed-after-run",
    "publish-not-on-host-own-address", "publish-port-in-use-refused", "publish-port-in-use-named",
    "trace-counts-denials", "trace-counts-denied-name", "trace-counts-rebinding",
    "check-warns-unresolved", "check-warns-refused", "check-quiet-on-good-name",
    "landlock-best-effort-proxy-allows", "landlock-best-effort-warns",
    "landlock-best-effort-proxy-denies", "landlock-best-effort-direct-connect-refused",
    "landlock-best-effort-host-port",
    "io-uring-refused", "mptcp-refused",
    "socket-refused-AF_PACKET-SOCK_RAW-0", "socket-refused-AF_INET-SOCK_RAW-1",
    "socket-refused-AF_INET6-SOCK_RAW-58", "socket-refused-AF_INET-SOCK_STREAM-132",
    "socket-refused-AF_NETLINK-SOCK_RAW-9", "socket-netlink-route-allowed",
    "sigkill-leaves-nothing", "sigkill-no-proxy-or-relay", "sigkill-publish-closed", "clean-exit", "clean-exit-no-process", "no-socket-files",
};

struct LabCase {
  As as;
  std::string mode;
};

std::string case_name(const ::testing::TestParamInfo<LabCase>& i) {
  return runner::name_of(i.param.as) + "_" + i.param.mode;
}

class NetAllowLab : public ::testing::TestWithParam<LabCase> {
 protected:
  void SetUp() override {
    if (auto why = kernel_gap({Need::Userns, Need::Seccomp})) {
      if (must_work()) FAIL() << *why;
      GTEST_SKIP() << *why;
    }
  }
};

TEST_P(NetAllowLab, EveryAttackIsRefusedAndAllowedNamesWork) {
  const LabCase& c = GetParam();
  runner::TempTree work(As::self, "aisbx-netlab");
  ::chmod(work.path().c_str(), 0755);
  // The scripts are copied where every user of the lab can read them.
  for (const char* f : {"lab.sh", "lab_servers.py", "lab_client.py", "lab_scenarios.sh"})
    work.file(std::string("lab/") + f,
              runner::read_text(std::string(AISBX_SOURCE_DIR) + "/tests/net/" + f), 0755);
  runner::RunSpec spec;
  spec.argv = {"/bin/bash", work.at("lab/lab.sh"), binary_path(), sysprobe_path(), work.path(),
               c.as == As::nobody ? "nobody" : (::geteuid() == 0 ? "root" : "self"), c.mode};
  spec.timeout_seconds = 600;
  const runner::Result r = runner::run(spec);
  ASSERT_FALSE(r.timed_out) << r.describe();
  std::istringstream lines(r.out);
  std::string line;
  std::set<std::string> ok;
  while (std::getline(lines, line)) {
    if (line.starts_with("ok ")) ok.insert(line.substr(3));
    EXPECT_FALSE(line.starts_with("FAIL")) << line;
  }
  for (const char* s : kScenarios) EXPECT_TRUE(ok.contains(s)) << "no `ok " << s << "`\n" << r.describe();
}

std::vector<LabCase> lab_cases() {
  std::vector<LabCase> out;
  for (As as : runner::users_to_test())
    for (const char* mode : {"layered", "strict"}) out.push_back({as, mode});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Users, NetAllowLab, ::testing::ValuesIn(lab_cases()), case_name);

}  // namespace
}  // namespace aisbx::test
