#include "markup.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace termsuite::markup {

std::string h(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += "&#xFFFD;";
        else out += c;
    }
  }
  return out;
}

std::string md(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\n': case '\r': case '\t': out += ' '; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\\': case '|': case '*': case '_': case '`': case '[': case ']': case '#': case '~': case '!':
        out += '\\';
        out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
  }
  return out;
}

std::string md_code(std::string_view id) {
  if (!id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '/';
      }))
    return fmt::format("`{}`", id);
  return md(id.empty() ? "(no claim)" : id);
}

}  // namespace termsuite::markup
