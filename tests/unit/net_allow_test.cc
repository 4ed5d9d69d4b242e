// The egress allowlist's pure parts: entries, name matching, the address
// policy, DNS messages, the profile keys and the Plan (net_plan.cc).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aisbx/net_rules.h"
#include "aisbx/plan.h"
#include "fake_fs.h"
#include "net/dns_message.h"
#include "test_profile.h"
#include "test_world.h"

namespace aisbx::net {
namespace {

AllowEntry entry(const std::string& text) {
  std::string why;
  auto e = parse_allow_entry(text, why);
  EXPECT_TRUE(e) << text << ": " << why;
  return e.value_or(AllowEntry{});
}

Address addr(const std::string& text) {
  auto a = parse_address(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(Address{});
}

TEST(NetAllowEntry, ParsesNamesWildcardsPortsAndLiterals) {
  EXPECT_EQ(to_string(entry("Registry.NPMJS.org.")), "registry.npmjs.org");
  EXPECT_EQ(entry("*.pypi.org").kind, AllowEntry::Kind::wildcard);
  EXPECT_EQ(entry("*.pypi.org").host, "pypi.org");
  EXPECT_EQ(entry("api.example.com:443").port, 443);
  EXPECT_EQ(entry("203.0.113.7:8443").kind, AllowEntry::Kind::address);
  EXPECT_EQ(to_string(entry("203.0.113.7:8443")), "203.0.113.7:8443");
  EXPECT_EQ(to_string(entry("[2001:DB8::1]:443")), "[2001:db8::1]:443");
  EXPECT_EQ(to_string(entry("2001:db8::1")), "2001:db8::1");
  EXPECT_EQ(to_string(entry("under_score-1.test")), "under_score-1.test");
}

TEST(NetAllowEntry, RefusesWhatCouldSmuggleOrMislead) {
  // Strings, not pointers: a label of 64 letters is built here and must
  // outlive the loop.
  const std::vector<std::string> bads{
      "", "a..b", ".a", "a b", "a\r\nHost: x", "user@host", "ex*.com", "*", "*.", "a.*.b",
      "**.x", "host:", "host:0", "host:65536", "host:08", "host:x", "[::1", "[1.2.3.4]:80",
      "[::1]x", "2130706433", "0x7f.1", "127.1", "0177.0.0.1", "1.2.3.4.5", "é.com",
      "a/b", "host:80:81", "1::2::3", std::string(64, 'a')};
  for (const std::string& bad : bads) {
    std::string why;
    EXPECT_FALSE(parse_allow_entry(bad, why)) << "accepted `" << bad << "`";
  }
}

TEST(NetNames, MatchCaseInsensitivelyWithoutTheTrailingDot) {
  const std::vector<AllowEntry> allow{entry("api.example.com"), entry("*.pypi.org")};
  EXPECT_TRUE(name_allowed(allow, *normalize_name("API.Example.COM."), 443));
  EXPECT_TRUE(name_allowed(allow, *normalize_name("files.pypi.org"), 80));
  EXPECT_TRUE(name_allowed(allow, *normalize_name("a.b.PYPI.org"), 443));
  EXPECT_FALSE(name_allowed(allow, "api.example.com", 22));  // default ports only
  EXPECT_FALSE(normalize_name("a\nb"));
  EXPECT_FALSE(normalize_name("a..b"));
}

TEST(NetNames, AWildcardNeverMatchesTheApexOrLookAlikes) {
  const AllowEntry w = entry("*.example.com");
  EXPECT_TRUE(name_matches(w, "a.example.com"));
  EXPECT_FALSE(name_matches(w, "example.com"));
  EXPECT_FALSE(name_matches(w, "xexample.com"));
  EXPECT_FALSE(name_matches(w, "example.com.evil.org"));
  EXPECT_FALSE(name_matches(w, ".example.com"));
  EXPECT_FALSE(name_matches(entry("example.com"), "a.example.com"));
}

TEST(NetNames, PortsAreTheEntrysOrTheDefaults) {
  EXPECT_TRUE(port_allowed(entry("a.test"), 80));
  EXPECT_TRUE(port_allowed(entry("a.test"), 443));
  EXPECT_FALSE(port_allowed(entry("a.test"), 8080));
  EXPECT_TRUE(port_allowed(entry("a.test:8080"), 8080));
  EXPECT_FALSE(port_allowed(entry("a.test:8080"), 443));
}

TEST(NetAddress, ParsesStrictFormsOnly) {
  EXPECT_EQ(to_string(addr("1.2.3.4")), "1.2.3.4");
  EXPECT_EQ(to_string(addr("::")), "::");
  EXPECT_EQ(to_string(addr("::1")), "::1");
  EXPECT_EQ(to_string(addr("fd00:ec2:0:0:0:0:0:254")), "fd00:ec2::254");
  EXPECT_EQ(to_string(addr("::ffff:127.0.0.1")), "::ffff:127.0.0.1");
  EXPECT_EQ(to_string(unmapped(addr("::ffff:127.0.0.1"))), "127.0.0.1");
  EXPECT_EQ(to_string(addr("1:0:0:2:0:0:0:3")), "1:0:0:2::3");
  for (const char* bad : {"1.2.3", "01.2.3.4", "1.2.3.256", "0x7f000001", ":::", "1:2:3:4:5:6:7:8:9",
                          "fe80::1%eth0", "1::2::3", "::ffff:1.2.3", "12345::"})
    EXPECT_FALSE(parse_address(bad)) << bad;
}

TEST(NetAddress, CidrsHoldTheirAddressesAndMappedForms) {
  std::string why;
  const auto c = parse_cidr("10.1.2.3/8", why);
  ASSERT_TRUE(c);
  EXPECT_EQ(to_string(*c), "10.0.0.0/8");
  EXPECT_TRUE(contains(*c, addr("10.200.0.1")));
  EXPECT_TRUE(contains(*c, addr("::ffff:10.0.0.1")));
  EXPECT_FALSE(contains(*c, addr("11.0.0.1")));
  EXPECT_FALSE(parse_cidr("10.0.0.0/33", why));
  EXPECT_FALSE(parse_cidr("10.0.0.0/", why));
  EXPECT_FALSE(parse_cidr("ten/8", why));
}

struct RefusedRow {
  const char* address;
  const char* why;  // nullptr: allowed
};

TEST(NetAddressPolicy, RefusesEveryRangeThatLeadsHome) {
  AddressPolicy pol;
  pol.own = {addr("192.0.2.1"), addr("2001:db8::7")};
  std::string why;
  pol.deny_resolved = {*parse_cidr("10.0.0.0/8", why)};
  const RefusedRow rows[] = {
      {"127.0.0.1", "a loopback address"},
      {"127.8.9.10", "a loopback address"},
      {"::1", "a loopback address"},
      {"::ffff:127.0.0.1", "a loopback address"},
      {"0.0.0.0", "an unspecified address"},
      {"::", "an unspecified address"},
      {"169.254.169.254", "the cloud metadata address"},
      {"::ffff:169.254.169.254", "the cloud metadata address"},
      {"fd00:ec2::254", "the cloud metadata address"},
      {"100.100.100.200", "the cloud metadata address"},
      {"169.254.1.1", "a link-local address"},
      {"fe80::1", "a link-local address"},
      {"224.0.0.1", "a multicast address"},
      {"ff02::1", "a multicast address"},
      {"255.255.255.255", "the broadcast address"},
      {"192.0.2.1", "an address of this host"},
      {"::ffff:192.0.2.1", "an address of this host"},
      {"2001:db8::7", "an address of this host"},
      {"10.9.8.7", "an address in network.deny_resolved, 10.0.0.0/8"},
      {"198.51.100.7", nullptr},
      {"2001:db8::8", nullptr},
  };
  for (const auto& r : rows) {
    const auto got = refused(addr(r.address), 443, pol);
    if (r.why)
      EXPECT_EQ(got.value_or("<allowed>"), r.why) << r.address;
    else
      EXPECT_FALSE(got) << r.address << ": " << *got;
  }
}

TEST(NetAddressPolicy, AListedAddressAndPortIsAllowedAnyway) {
  AddressPolicy pol;
  pol.listed = {{addr("127.0.0.1"), 11434}};
  EXPECT_FALSE(refused(addr("127.0.0.1"), 11434, pol));
  EXPECT_TRUE(refused(addr("127.0.0.1"), 11435, pol));
  const std::vector<AllowEntry> allow{entry("203.0.113.7:8443")};
  EXPECT_TRUE(address_allowed(allow, addr("203.0.113.7"), 8443));
  EXPECT_TRUE(address_allowed(allow, addr("::ffff:203.0.113.7"), 8443));
  EXPECT_FALSE(address_allowed(allow, addr("203.0.113.7"), 443));
}

// ---- DNS messages ----

std::vector<std::uint8_t> query(const std::string& name, std::uint16_t type,
                                std::uint8_t flags = 0x01) {
  std::vector<std::uint8_t> m{0x12, 0x34, flags, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<std::uint8_t>(dot - start));
    m.insert(m.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  m.push_back(0);
  m.insert(m.end(), {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1});
  return m;
}

TEST(NetDns, ParsesOneQuestionAndAnswersWithTheQuestionEchoed) {
  std::optional<std::uint16_t> id;
  const auto q = dns::parse_query(query("Allowed.TEST", dns::kTypeA), id);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->id, 0x1234);
  EXPECT_EQ(q->name, "Allowed.TEST");
  EXPECT_EQ(q->qtype, dns::kTypeA);
  const auto r = dns::response(*q, dns::Rcode::noerror, std::array<std::uint8_t, 4>{198, 18, 0, 1});
  ASSERT_GE(r.size(), 12u + q->question.size() + 16u);
  EXPECT_EQ(r[0], 0x12);
  EXPECT_EQ(r[2] & 0x80, 0x80);  // a response
  EXPECT_EQ(r[3] & 0x0f, 0);     // NOERROR
  EXPECT_EQ(r[7], 1);            // one answer
  EXPECT_EQ(std::vector<std::uint8_t>(r.end() - 4, r.end()), (std::vector<std::uint8_t>{198, 18, 0, 1}));
  const auto refused = dns::response(*q, dns::Rcode::refused);
  EXPECT_EQ(refused[3] & 0x0f, 5);
  EXPECT_EQ(refused[7], 0);
}

TEST(NetDns, RejectsWhatIsNotOneStandardQuery) {
  std::optional<std::uint16_t> id;
  auto m = query("a.test", dns::kTypeA);
  EXPECT_FALSE(dns::parse_query(std::span(m).first(11), id));
  auto response = query("a.test", dns::kTypeA, 0x81);
  EXPECT_FALSE(dns::parse_query(response, id));
  auto update = query("a.test", dns::kTypeA, 0x28);
  EXPECT_FALSE(dns::parse_query(update, id));
  auto two = m;
  two[5] = 2;
  EXPECT_FALSE(dns::parse_query(two, id));
  auto compressed = m;
  compressed[12] = 0xc0;
  EXPECT_FALSE(dns::parse_query(compressed, id));
  auto cut = m;
  cut.resize(cut.size() - 3);
  EXPECT_FALSE(dns::parse_query(cut, id));
  EXPECT_EQ(id.value_or(0), 0x1234);
  const auto fe = dns::format_error(0x1234);
  EXPECT_EQ(fe[3] & 0x0f, 1);
}

TEST(NetDns, EveryTruncationOfAQueryIsHandled) {
  const auto m = query("www.allowed.test", dns::kTypeAAAA);
  for (std::size_t n = 0; n < m.size(); ++n) {
    std::optional<std::uint16_t> id;
    EXPECT_FALSE(dns::parse_query(std::span(m).first(n), id)) << n;
  }
  // Every byte value at every position: no crash, and a parsed name never
  // exceeds what a name may be.
  for (std::size_t at = 0; at < m.size(); ++at) {
    for (int v = 0; v < 256; ++v) {
      auto x = m;
      x[at] = static_cast<std::uint8_t>(v);
      std::optional<std::uint16_t> id;
      if (auto q = dns::parse_query(x, id)) {
        EXPECT_LE(q->name.size(), 255u);
      }
    }
  }
}

}  // namespace
}  // namespace aisbx::net

namespace aisbx::plan {
namespace {

using test::FakeFs;

const std::string kHead = "version: 1\nprofiles:\n  p:\n";

std::string parse_error(const std::string& body) {
  auto r = profile::parse_profiles(kHead + body, "t.yaml");
  return r ? "<parsed>" : r.error().what;
}

TEST(NetAllowProfile, EntriesAreCheckedWithTheirPosition) {
  EXPECT_EQ(parse_error("    network:\n      allow: [ok.test, \"bad host\"]\n"),
            "t.yaml:5:24: profiles.p.network.allow[1]: `bad host`: not a host name (letters, "
            "digits, `-`, `_` and `.` only, no empty label)");
  EXPECT_EQ(parse_error("    network:\n      deny_resolved: [10.0.0.0/40]\n"),
            "t.yaml:5:23: profiles.p.network.deny_resolved[0]: `10.0.0.0/40`: the prefix "
            "length is at most 32");
  EXPECT_EQ(parse_error("    network:\n      host_ports: [0]\n"),
            "t.yaml:5:20: profiles.p.network.host_ports[0]: must be between 1 and 65535, found `0`");
}

TEST(NetAllowProfile, PublishTakesPorts) {
  EXPECT_EQ(parse_error("    network:\n      publish: [3000, 8080]\n"), "<parsed>");
  EXPECT_EQ(parse_error("    network:\n      publish: [70000]\n"),
            "t.yaml:5:17: profiles.p.network.publish[0]: must be between 1 and 65535, found "
            "`70000`");
}

struct World : test::TestWorld {
  World() : TestWorld("/home/u/dev/proj") {
    host.env["PATH"] = "/usr/bin";
    host.env["http_proxy"] = "http://corp:8080";
    fs.dir("/usr/bin").file("/usr/bin/sh").dir("/etc").dir("/proc").dir("/dev/shm").dir("/tmp");
    fs.dir("/home/u/dev/proj");
  }
  Expected<Plan> run(const std::string& network) const {
    return resolve_yaml(kHead + "    command:\n      binary: sh\n" + network);
  }
};

std::string env_of(const Plan& p, const std::string& k) {
  for (const auto& [key, v] : p.exec.env)
    if (key == k) return v;
  return "<unset>";
}

TEST(NetAllowPlan, AnAllowlistGivesTheSandboxItsOwnNetworkAndTheProxyVariables) {
  World w;
  auto p = w.run("    network:\n      allow: [registry.npmjs.org, \"*.pypi.org:8443\"]\n"
                 "      host_ports: [11434]\n      deny_resolved: [10.0.0.0/8]\n");
  ASSERT_TRUE(p) << p.error().what;
  EXPECT_TRUE(p->net.enabled);
  EXPECT_EQ(p->ns.net, profile::NetMode::loopback);
  EXPECT_EQ(p->net.relay_ports, (std::vector<std::uint16_t>{53, 80, 443, 3128, 8443, 11434}));
  EXPECT_EQ(env_of(*p, "http_proxy"), "http://127.0.0.1:3128");
  EXPECT_EQ(env_of(*p, "HTTPS_PROXY"), "http://127.0.0.1:3128");
  EXPECT_EQ(env_of(*p, "ALL_PROXY"), "http://127.0.0.1:3128");
  EXPECT_EQ(env_of(*p, "NO_PROXY"), "localhost,127.0.0.1,::1");
  const std::string text = render_text(*p);
  EXPECT_NE(text.find("  allow: registry.npmjs.org, *.pypi.org:8443"), std::string::npos) << text;
  EXPECT_NE(text.find("  proxy socket: 127.0.0.1:3128 inside"), std::string::npos) << text;
  EXPECT_NE(text.find("  host port: 127.0.0.1:11434 and [::1]:11434 inside -> 127.0.0.1:11434 of "
                      "the host, else [::1]:11434\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("  deny_resolved: 10.0.0.0/8"), std::string::npos) << text;
  EXPECT_NE(render_json(*p).find("\"network_allow\""), std::string::npos);
}

TEST(NetAllowPlan, PublishAloneGivesTheSandboxItsOwnNetworkAndARelay) {
  World w;
  auto p = w.run("    network:\n      mode: none\n      publish: [3000, 3000, 8080]\n");
  ASSERT_TRUE(p) << p.error().what;
  EXPECT_TRUE(p->net.enabled);
  EXPECT_EQ(p->ns.net, profile::NetMode::loopback);
  EXPECT_EQ(p->net.publish, (std::vector<std::uint16_t>{3000, 8080}));
  // No list: no proxy variables, and the stub refuses every name.
  EXPECT_EQ(env_of(*p, "HTTP_PROXY"), "<unset>");
  const std::string text = render_text(*p);
  EXPECT_NE(text.find("  publish: 127.0.0.1:3000 and [::1]:3000 of the host (where its lo has IPv6) "
                      "-> 127.0.0.1:3000 inside, else [::1]:3000"),
            std::string::npos) << text;
  EXPECT_NE(text.find("  allow: (nothing)"), std::string::npos) << text;
}

TEST(NetAllowPlan, APublishedPortTheRelaysHoldIsRefused) {
  World w;
  for (const char* port : {"53", "443", "3128", "11434"}) {
    auto p = w.run("    network:\n      allow: [a.test]\n      host_ports: [11434]\n"
                   "      publish: [" + std::string(port) + "]\n");
    ASSERT_FALSE(p) << port;
    EXPECT_NE(p.error().what.find("network.publish: port " + std::string(port) +
                                  " is held inside by the allowlist's relays"),
              std::string::npos) << p.error().what;
  }
  World h;
  auto host = h.run("    network:\n      mode: host\n      publish: [3000]\n");
  ASSERT_FALSE(host);
  EXPECT_NE(host.error().what.find("need a network namespace of the sandbox's own"),
            std::string::npos) << host.error().what;
}

TEST(NetAllowPlan, NoAllowlistChangesNothing) {
  World w;
  auto p = w.run("");
  ASSERT_TRUE(p) << p.error().what;
  EXPECT_FALSE(p->net.enabled);
  EXPECT_EQ(p->ns.net, profile::NetMode::host);
  EXPECT_EQ(env_of(*p, "http_proxy"), "http://corp:8080");
}

TEST(NetAllowPlan, ModeHostAndLandlockModeAreRefused) {
  World w;
  auto host = w.run("    network:\n      mode: host\n      allow: [a.test]\n");
  ASSERT_FALSE(host);
  EXPECT_NE(host.error().what.find("test.yaml:8:15: network.allow"), std::string::npos)
      << host.error().what;
  w.opt.net = "host";
  auto cli = w.run("    network:\n      allow: [a.test]\n");
  ASSERT_FALSE(cli);
  EXPECT_NE(cli.error().what.find("--net host conflicts"), std::string::npos) << cli.error().what;
  World l;
  l.opt.mode = Mode::landlock;
  auto ll = l.run("    network:\n      allow: [a.test]\n");
  ASSERT_FALSE(ll);
  EXPECT_NE(ll.error().what.find("--mode landlock has none"), std::string::npos) << ll.error().what;
}

TEST(NetAllowPlan, LandlockModeBestEffortNarrowsTcpToTheProxyAndSaysSo) {
  World w;
  w.opt.mode = Mode::landlock;
  auto p = w.run("    network:\n      allow: [a.test]\n      host_ports: [11434]\n"
                 "      landlock_mode: best_effort\n");
  ASSERT_TRUE(p) << p.error().what;
  EXPECT_TRUE(p->net.enabled);
  EXPECT_TRUE(p->net.best_effort);
  EXPECT_FALSE(p->ns.enabled);
  EXPECT_TRUE(p->landlock.handled_net & net::kConnectTcp);
  std::vector<std::uint16_t> ports;
  for (const auto& r : p->landlock.net_rules)
    if (r.access & net::kConnectTcp) ports.push_back(r.port);
  EXPECT_EQ(ports, (std::vector<std::uint16_t>{0, 11434}));  // 0: the proxy's, set at run time
  bool warned = false;
  for (const auto& x : p->warnings)
    warned = warned || (x.find("best effort") != std::string::npos &&
                        x.find("DNS and other UDP are not filtered") != std::string::npos &&
                        x.find("Landlock limits TCP connect to the proxy's port and 11434") !=
                            std::string::npos);
  EXPECT_TRUE(warned);
  Plan run = *p;
  with_proxy_port(run, 40123);
  ports.clear();
  for (const auto& r : run.landlock.net_rules)
    if (r.access & net::kConnectTcp) ports.push_back(r.port);
  EXPECT_EQ(ports, (std::vector<std::uint16_t>{40123, 11434}));
  EXPECT_EQ(env_of(run, "https_proxy"), "http://127.0.0.1:40123");
  // publish has no meaning without a namespace; ABI 3 has no TCP rules.
  auto pub = w.run("    network:\n      allow: [a.test]\n      publish: [3000]\n"
                   "      landlock_mode: best_effort\n");
  ASSERT_FALSE(pub);
  EXPECT_NE(pub.error().what.find("network.publish needs a network namespace"), std::string::npos)
      << pub.error().what;
  w.feat = Features::full(3);
  auto old = w.run("    network:\n      allow: [a.test]\n      landlock_mode: best_effort\n");
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().what.find("needs Landlock TCP rules (ABI 4)"), std::string::npos)
      << old.error().what;
  // In layered mode the key changes nothing: the list is enforced.
  World l;
  auto layered = l.run("    network:\n      allow: [a.test]\n      landlock_mode: best_effort\n");
  ASSERT_TRUE(layered) << layered.error().what;
  EXPECT_FALSE(layered->net.best_effort);
  EXPECT_EQ(layered->ns.net, profile::NetMode::loopback);
}

TEST(NetAllowPlan, WithoutUserNamespacesLayeredModeRefusesInsteadOfDroppingTheList) {
  World w;
  w.feat.userns = false;
  w.feat.userns_why = "kernel.unprivileged_userns_clone is 0";
  auto p = w.run("    network:\n      allow: [a.test]\n");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().what.find("need the namespace wall"), std::string::npos) << p.error().what;
}

}  // namespace
}  // namespace aisbx::plan
