#pragma once
// Text from the files as markup, for the report's two renderers (report.html, MATRIX.md): escaped
// so that nothing a file holds becomes markup of its own.
#include <string>
#include <string_view>

namespace termsuite::markup {

// Text in HTML (content or a quoted attribute): & < > " ' escaped, control characters but
// newline and tab replaced.
std::string h(std::string_view text);

// Text in a GitHub table cell: one line, no table or inline markup, no raw HTML.
std::string md(std::string_view text);

// An identifier in a code span when it is plain (letters, digits, ".-_/"), else escaped text;
// "(no claim)" when empty.
std::string md_code(std::string_view id);

// Any one line of text as a Markdown code span: fenced with more backticks than it holds in a row,
// newlines as spaces.
std::string md_span(std::string_view text);

// Lines of text as a fenced Markdown code block (its fence longer than any run of backticks in
// it), ending with a newline.
std::string md_block(std::string_view text, std::string_view info = "text");

}  // namespace termsuite::markup
