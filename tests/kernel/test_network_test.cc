// The kernel tests run in a network namespace made for them
// (tests/kernel/own_net.sh): a listener a test opens on 127.0.0.1, a
// sandbox with `network: host` and the proxy's view of "this host's own
// addresses" are that namespace's, never the machine's. The test first
// checks that it is in the namespace own_net.sh made (named in
// AISBX_TEST_NETNS), and looks at interfaces only once it knows they are
// that namespace's: outside it, it stops without listing the machine's.
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_gap.h"

namespace aisbx::test {
namespace {

std::string own_net_ns() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/ns/net", buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

TEST(TestNetwork, OnlyItsOwnLoopback) {
  const char* made = std::getenv("AISBX_TEST_NETNS");
  const std::string here = own_net_ns();
  ASSERT_FALSE(here.empty());
  AISBX_SKIP_WITHOUT(made != nullptr && here == made,
                     "the kernel tests run outside the network namespace tests/kernel/own_net.sh "
                     "makes for them; run them through it, as root");
  // Inside it: `lo` and nothing else, up.
  std::vector<std::string> names;
  if (struct if_nameindex* ifs = ::if_nameindex()) {
    for (const struct if_nameindex* i = ifs; i->if_index != 0; ++i) names.emplace_back(i->if_name);
    ::if_freenameindex(ifs);
  }
  EXPECT_EQ(names, std::vector<std::string>{"lo"});
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  ifreq r{};
  std::strncpy(r.ifr_name, "lo", IFNAMSIZ - 1);
  ASSERT_EQ(::ioctl(s, SIOCGIFFLAGS, &r), 0) << std::strerror(errno);
  ::close(s);
  EXPECT_TRUE(r.ifr_flags & IFF_UP) << "lo is down: listeners on 127.0.0.1 would be unreachable";
}

}  // namespace
}  // namespace aisbx::test
