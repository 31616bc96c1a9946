#include "report_command.hpp"

#include <fmt/format.h>

#include "termsuite/matrix.hpp"

namespace termsuite::runner {

int report(const ReportOptions& o) {
  auto files = write_matrix(o.catalog, o.results_dir, o.expectations_dir, o.out_dir.empty() ? o.results_dir : o.out_dir,
                            o.repository);
  fmt::print("  report:  {}\n  matrix:  {}\n", files.html.string(), files.markdown.string());
  return 0;
}

}  // namespace termsuite::runner
