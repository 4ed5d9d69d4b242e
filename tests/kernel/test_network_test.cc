// The kernel tests run in a network namespace made for them
// (tests/kernel/own_net.sh): a listener a test opens on 127.0.0.1, a
// sandbox with `network: host` and the proxy's view of "this host's own
// addresses" are that namespace's, never the machine's. What the tests
// see: one interface, `lo`, up, with 127.0.0.1. On the machine's own
// network namespace this fails (it has more than `lo`).
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <set>
#include <string>

#include "kernel_gap.h"

namespace aisbx::test {
namespace {

TEST(TestNetwork, OnlyItsOwnLoopback) {
  ifaddrs* ifs = nullptr;
  ASSERT_EQ(::getifaddrs(&ifs), 0);
  std::set<std::string> names;
  bool lo_up = false, lo_v4 = false;
  for (const ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
    names.insert(i->ifa_name);
    if (std::string(i->ifa_name) != "lo") continue;
    lo_up = lo_up || (i->ifa_flags & IFF_UP) != 0;
    if (i->ifa_addr != nullptr && i->ifa_addr->sa_family == AF_INET)
      lo_v4 = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr ==
              htonl(INADDR_LOOPBACK);
  }
  ::freeifaddrs(ifs);
  std::string listed;
  for (const auto& n : names) listed += (listed.empty() ? "" : ", ") + n;
  AISBX_SKIP_WITHOUT(names == std::set<std::string>{"lo"},
                     "the kernel tests run in the machine's network namespace (interfaces: " +
                         listed + "); run them through tests/kernel/own_net.sh as root");
  EXPECT_TRUE(lo_up) << "lo is down: listeners on 127.0.0.1 would be unreachable";
  EXPECT_TRUE(lo_v4);
}

}  // namespace
}  // namespace aisbx::test
