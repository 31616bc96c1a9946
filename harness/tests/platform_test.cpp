// The platform id: from Wine's version and flavour, and what a platform id may be.
#include <gtest/gtest.h>

#include "termsuite/platform.hpp"

namespace termsuite {
namespace {

Platform under_wine(std::string version, std::string flavour) {
  Platform p;
  p.os = "windows";
  p.version = "10.0.19045";
  p.wine = std::move(version);
  p.flavour = std::move(flavour);
  p.arch = "x86_64";
  p.id = make_platform_id(p);
  return p;
}

TEST(Platform, StagingIsAFlavourAPackagersNoteIsNot) {
  EXPECT_EQ(wine_flavour("wine-9.0 (Staging)"), "staging");
  EXPECT_EQ(wine_flavour("wine-9.5-123-gabcdef0 (Staging)"), "staging");
  EXPECT_EQ(wine_flavour("wine-8.0 (Debian 8.0~repack-4)"), "");
  EXPECT_EQ(wine_flavour("wine-8.0"), "");
  EXPECT_EQ(wine_flavour("wine-9.5-123-gabcdef0"), "");
  EXPECT_EQ(wine_flavour("wine-9.0 (Staging"), "");  // unclosed: not the note Staging appends
  EXPECT_EQ(wine_flavour(""), "");
}

TEST(Platform, IdNamesTheFlavourBetweenVersionAndArchitecture) {
  EXPECT_EQ(under_wine("9.0", "staging").id, "wine-9.0-staging-x86_64");
  EXPECT_EQ(under_wine("8.0", "").id, "wine-8.0-x86_64");
}

TEST(Platform, FlavourIsWrittenOnlyWhenThereIsOne) {
  auto plain = under_wine("8.0", "").to_json();
  EXPECT_FALSE(plain.contains("flavour"));  // Wine's own builds' files stay as they were
  auto staging = under_wine("9.0", "staging");
  auto back = Platform::from_json(staging.to_json());
  EXPECT_EQ(back.flavour, "staging");
  EXPECT_EQ(make_platform_id(back), "wine-9.0-staging-x86_64");
}

TEST(Platform, IdsThatNameAFileAreAcceptedOthersAreRefusedSayingWhy) {
  for (const char* good : {"wine-8.0-x86_64", "wine-9.0-staging-x86_64", "windows-10.0.19045-x86_64", "sim",
                           "wine-8.0-alt-x86_64", "w1"})
    EXPECT_EQ(platform_id_problem(good), "") << good;
  for (const char* bad : {"", "Wine-8.0", "wine/8.0", "../etc", "wine..x", "-wine", "wine-", "wine 8.0", "8.0-wine",
                          "wine-8.0.", "wine-8.0-x86_64-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    auto why = platform_id_problem(bad);
    EXPECT_NE(why, "") << bad;
    EXPECT_EQ(why.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace termsuite
