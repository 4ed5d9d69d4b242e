// --check's pure parts: the severity of the findings the Plan already holds
// (its run-time warnings, its notes, the roots it skipped), the exit status
// with and without --strict, and how both renderings show the severity.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aisbx/check.h"
#include "aisbx/plan.h"
#include "check/parts.h"

namespace aisbx::check {
namespace {

Report with(std::vector<Severity> severities) {
  Report r;
  for (Severity s : severities) r.findings.push_back({"symlink", "/p/x", "problem", "fix", s});
  return r;
}

const Finding* find(const Report& r, const std::string& kind) {
  for (const auto& f : r.findings)
    if (f.kind == kind) return &f;
  return nullptr;
}

TEST(CheckSeverity, ThePlansWarningsAreWarningsItsNotesInfo) {
  plan::Plan p;
  p.warnings = {
      "test.yaml:5:13: access_roots.proj.paths: `/gone` does not exist; skipped",
      "seccomp: skipped: no seccomp",
  };
  p.notes = {"refer is not controlled, yet Landlock always denies moving ..."};
  Report r;
  plan_findings(p, r);
  ASSERT_EQ(r.findings.size(), 3u);
  const Finding* missing = find(r, "missing");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->severity, Severity::warning);
  EXPECT_EQ(missing->path, "/gone");
  const Finding* warning = find(r, "warning");
  ASSERT_NE(warning, nullptr);
  EXPECT_EQ(warning->severity, Severity::warning);
  const Finding* note = find(r, "note");
  ASSERT_NE(note, nullptr);
  EXPECT_EQ(note->severity, Severity::info);
  EXPECT_EQ(exit_status(r), 0);
  EXPECT_EQ(exit_status(r, true), 1);
}

TEST(CheckSeverity, ExitStatusFailsOnErrorsOrOnWarningsWhenStrict) {
  struct Row {
    std::vector<Severity> findings;
    int plain, strict;
  };
  const std::vector<Row> rows = {
      {{}, 0, 0},
      {{Severity::info}, 0, 0},
      {{Severity::info, Severity::info}, 0, 0},
      {{Severity::warning}, 0, 1},
      {{Severity::info, Severity::warning}, 0, 1},
      {{Severity::error}, 1, 1},
      {{Severity::info, Severity::warning, Severity::error}, 1, 1},
  };
  for (const auto& row : rows) {
    const Report r = with(row.findings);
    EXPECT_EQ(exit_status(r), row.plain) << r.findings.size() << " findings";
    EXPECT_EQ(exit_status(r, true), row.strict) << r.findings.size() << " findings";
  }
}

TEST(CheckSeverity, TextNamesTheSeverityAndCountsEach) {
  plan::Plan p;
  p.profile = "p";
  p.source = "test.yaml";
  Report r = with({Severity::error, Severity::warning, Severity::warning, Severity::info});
  r.findings[0].kind = "command";
  r.findings[0].path = "/opt/tool";
  const std::string text = render_text(p, r);
  EXPECT_NE(text.find("\n  error [command] /opt/tool\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  warning [symlink] /p/x\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  info [symlink] /p/x\n"), std::string::npos) << text;
  EXPECT_NE(text.find("result: 4 findings (1 error, 2 warnings, 1 info)\n"), std::string::npos)
      << text;
  EXPECT_NE(render_text(p, Report{}).find("result: clean\n"), std::string::npos);
}

TEST(CheckSeverity, JsonHasASeverityField) {
  plan::Plan p;
  const std::string json = render_json(p, with({Severity::error, Severity::info}));
  EXPECT_NE(json.find("\"fix\":\"fix\",\"severity\":\"error\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"fix\":\"fix\",\"severity\":\"info\""), std::string::npos) << json;
}

}  // namespace
}  // namespace aisbx::check
