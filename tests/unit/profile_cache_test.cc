// The compiled profile cache's pure part (include/aisbx/profile_cache.h):
// keys, entries and what parse_profiles_cached() does with a store that
// holds a good, a stale, a corrupted or a forged entry. The store on disk
// (owner, mode, links) is tested with the real binary in
// tests/kernel/profile_cache_test.cc.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "aisbx/profile_cache.h"
#include "plan/masks.h"
#include "profile/sha256.h"

namespace aisbx::profile {
namespace {

class MemoryStore final : public TreeStore {
 public:
  std::optional<std::string> load(const std::string& key) override {
    ++loads;
    auto it = entries.find(key);
    return it == entries.end() ? std::nullopt : std::optional(it->second);
  }
  void store(const std::string& key, const std::string& bytes) override { entries[key] = bytes; }
  void note(const std::string& what) override { notes.push_back(what); }

  bool noted(const std::string& part) const {
    for (const auto& n : notes)
      if (n.find(part) != std::string::npos) return true;
    return false;
  }

  std::map<std::string, std::string> entries;
  std::vector<std::string> notes;
  int loads = 0;
};

constexpr const char* kSalt = "parser-1";

std::string yaml_with(const std::string& description, const std::string& path = "/usr") {
  return "version: 1\n"
         "profiles:\n"
         "  p:\n"
         "    description: \"" + description + "\"\n"
         "    access_roots:\n"
         "      system:\n"
         "        paths: [\"" + path + "\"]\n"
         "        permissions: {read_file: true, read_dir: true}\n";
}

void known_answers() {
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(sha256(std::string(1000, 'a'))),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  // The same bytes fed in pieces that straddle blocks.
  Sha256 s;
  const std::string a(1000, 'a');
  for (std::size_t at = 0; at < a.size(); at += 37) s.update(std::string_view(a).substr(at, 37));
  EXPECT_EQ(hex(s.finish()), hex(sha256(a)));
  const std::string text(100000, 'x');
  EXPECT_EQ(hex(sha256(text)), "d69e68988157833272305aaf21f453c800346e8a3640db6578e260215542e5d4");
}

// The CPU's SHA instructions where it has them, and the portable rounds.
TEST(Sha256, KnownAnswers) {
  known_answers();
  Sha256::force_portable = true;
  known_answers();
  Sha256::force_portable = false;
}

TEST(ProfileCache, KeyNamesTheTextAndTheParser) {
  EXPECT_EQ(cache_key("a", kSalt), cache_key("a", kSalt));
  EXPECT_NE(cache_key("a", kSalt), cache_key("b", kSalt));
  EXPECT_NE(cache_key("a", kSalt), cache_key("a", "parser-2"));
  // No ambiguity between where the salt ends and the text begins.
  EXPECT_NE(cache_key("xa", "p"), cache_key("a", "px"));
  EXPECT_EQ(cache_key("a", kSalt).size(), 64U);
}

TEST(ProfileCache, ASecondParseOfTheSameTextIsAHitWithTheSameResult) {
  MemoryStore store;
  const std::string text = yaml_with("first");
  auto a = parse_profiles_cached(text, "a.yaml", store, kSalt);
  ASSERT_TRUE(a) << a.error().what;
  EXPECT_EQ(store.entries.size(), 1U);
  EXPECT_TRUE(store.noted("miss"));
  auto b = parse_profiles_cached(text, "b.yaml", store, kSalt);
  ASSERT_TRUE(b) << b.error().what;
  EXPECT_TRUE(store.noted("b.yaml: hit"));
  const Profile& p = b->profiles.at("p");
  EXPECT_EQ(p.description, "first");
  ASSERT_EQ(p.access_roots.size(), 1U);
  ASSERT_EQ(p.access_roots[0].paths.size(), 1U);
  EXPECT_EQ(p.access_roots[0].paths[0].value, "/usr");
  // Positions are the text's, in the file now named.
  EXPECT_EQ(p.access_roots[0].paths[0].where.str(), "b.yaml:7:17");
  EXPECT_EQ(p.access_roots[0].paths[0].where.str(),
            "b" + a->profiles.at("p").access_roots[0].paths[0].where.str().substr(1));
}

TEST(ProfileCache, AChangedTextIsNeverServedFromTheOldEntry) {
  MemoryStore store;
  ASSERT_TRUE(parse_profiles_cached(yaml_with("old", "/usr"), "f.yaml", store, kSalt));
  // Same length, one byte different.
  auto r = parse_profiles_cached(yaml_with("old", "/opt"), "f.yaml", store, kSalt);
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(r->profiles.at("p").access_roots[0].paths[0].value, "/opt");
  EXPECT_EQ(store.entries.size(), 2U);
  // Another parser (a new binary) does not read the old one's entries.
  MemoryStore again = store;
  ASSERT_TRUE(parse_profiles_cached(yaml_with("old", "/opt"), "f.yaml", again, "parser-2"));
  EXPECT_EQ(again.entries.size(), 3U);
}

TEST(ProfileCache, AnInvalidFileIsNeverStoredAndItsErrorNamesTheLine) {
  MemoryStore store;
  const std::string bad = yaml_with("x") + "    nonsense: 1\n";
  for (int i = 0; i < 2; ++i) {
    auto r = parse_profiles_cached(bad, "bad.yaml", store, kSalt);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what.find("bad.yaml:9:5"), std::string::npos) << r.error().what;
  }
  EXPECT_TRUE(store.entries.empty());
  auto scan = parse_profiles_cached("version: 1\nprofiles: {p: [\n", "scan.yaml", store, kSalt);
  ASSERT_FALSE(scan);
  EXPECT_NE(scan.error().what.find("scan.yaml:"), std::string::npos) << scan.error().what;
  EXPECT_TRUE(store.entries.empty());
}

TEST(ProfileCache, ACorruptedOrTruncatedEntryIsIgnoredAndRewritten) {
  MemoryStore store;
  const std::string text = yaml_with("kept");
  ASSERT_TRUE(parse_profiles_cached(text, "f.yaml", store, kSalt));
  const std::string key = store.entries.begin()->first;
  const std::string good = store.entries.begin()->second;
  EXPECT_EQ(entry_problem(good, key), std::nullopt);

  const std::vector<std::pair<std::string, std::string>> broken{
      {good.substr(0, good.size() / 2), "truncated"},
      {good + "x", "truncated or padded"},
      {"", "shorter than its header"},
      {"XXXXXXXX" + good.substr(8), "not an entry of this format"},
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x20;
  for (const auto& [bytes, why] : broken) {
    store.entries[key] = bytes;
    store.notes.clear();
    auto r = parse_profiles_cached(text, "f.yaml", store, kSalt);
    ASSERT_TRUE(r) << r.error().what;
    EXPECT_EQ(r->profiles.at("p").description, "kept");
    EXPECT_TRUE(store.noted("entry ignored: " + why)) << why;
    EXPECT_EQ(store.entries[key], good) << "rewritten: " << why;
  }
  store.entries[key] = flipped;
  store.notes.clear();
  ASSERT_TRUE(parse_profiles_cached(text, "f.yaml", store, kSalt));
  EXPECT_TRUE(store.noted("entry ignored: checksum mismatch"));
}

// Someone who can write the store could write any bytes with a matching
// checksum: the entry of another text under this text's key, or a tree
// that does not decode. Neither is used.
TEST(ProfileCache, AForgedEntryIsNotTrusted) {
  MemoryStore store;
  const std::string mine = yaml_with("mine", "/usr");
  const std::string theirs = yaml_with("theirs", "/");
  ASSERT_TRUE(parse_profiles_cached(theirs, "t.yaml", store, kSalt));
  const std::string their_entry = store.entries.begin()->second;
  const std::string my_key = cache_key(mine, kSalt);
  store.entries[my_key] = their_entry;
  auto r = parse_profiles_cached(mine, "m.yaml", store, kSalt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->profiles.at("p").access_roots[0].paths[0].value, "/usr");
  EXPECT_TRUE(store.noted("written for another text or parser"));

  // The right key and a valid checksum around a tree that is cut short.
  std::string forged = "AISBXPT1" + my_key;
  const std::string tree = std::string(1, '\x04') + std::string(12, '\0');  // a map, then nothing
  for (int i = 0; i < 8; ++i) forged += static_cast<char>(i == 0 ? tree.size() : 0);
  forged += tree;
  const Sha256Digest sum = sha256(forged);
  forged.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  EXPECT_EQ(entry_problem(forged, my_key), "the tree does not decode");
  store.entries[my_key] = forged;
  store.notes.clear();
  auto again = parse_profiles_cached(mine, "m.yaml", store, kSalt);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->profiles.at("p").description, "mine");
  EXPECT_TRUE(store.noted("the tree does not decode"));
}

// A run of one profile stores and reads only it and the profiles it
// extends: the others were checked when the entry was written.
TEST(ProfileCache, ARunOfOneProfileReadsOnlyItAndItsParents) {
  const std::string text =
      "version: 1\n"
      "profiles:\n"
      "  base: {description: \"b\"}\n"
      "  other: {description: \"o\"}\n"
      "  a: {extends: [base], description: \"a\"}\n";
  MemoryStore store;
  bool partial = true;
  auto miss = parse_profiles_cached(text, "f.yaml", store, kSalt, std::string("a"), &partial);
  ASSERT_TRUE(miss) << miss.error().what;
  EXPECT_FALSE(partial);
  EXPECT_EQ(miss->order.size(), 3U);
  auto hit = parse_profiles_cached(text, "f.yaml", store, kSalt, std::string("a"), &partial);
  ASSERT_TRUE(hit) << hit.error().what;
  EXPECT_TRUE(store.noted("hit"));
  EXPECT_TRUE(partial);
  EXPECT_EQ(hit->order, (std::vector<std::string>{"base", "a"}));
  auto flat = flatten(*hit, "a");
  ASSERT_TRUE(flat) << flat.error().what;
  EXPECT_EQ(flat->description, "a");
  // Every profile for a run that lists them, from its own entry.
  auto all = parse_profiles_cached(text, "f.yaml", store, kSalt, std::nullopt, &partial);
  ASSERT_TRUE(all);
  EXPECT_FALSE(partial);
  EXPECT_EQ(all->order.size(), 3U);
  // A profile the file does not have (a built-in one): none of the file's.
  ASSERT_TRUE(parse_profiles_cached(text, "f.yaml", store, kSalt, std::string("agent")));
  auto none = parse_profiles_cached(text, "f.yaml", store, kSalt, std::string("agent"), &partial);
  ASSERT_TRUE(none);
  EXPECT_TRUE(partial);
  EXPECT_TRUE(none->order.empty());
  EXPECT_EQ(store.entries.size(), 3U);
}

TEST(ProfileCache, TheCacheDirectoryIsASecretMaskThatCannotBeLifted) {
  bool found = false;
  for (const auto& m : plan::builtin_masks())
    if (m.path == kProfileCacheDir) {
      found = true;
      EXPECT_EQ(m.kind, plan::MaskKind::secret);
      EXPECT_EQ(m.name, plan::kAisbxCacheMask);
    }
  EXPECT_TRUE(found);
  auto r = parse_profiles(yaml_with("x") + "    unmask: [aisbx-cache]\n", "u.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what.find("u.yaml:9:14"), std::string::npos) << r.error().what;
  EXPECT_NE(r.error().what.find("cannot be unmasked"), std::string::npos) << r.error().what;
}

}  // namespace
}  // namespace aisbx::profile
