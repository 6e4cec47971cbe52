// Errors: every failure a user can cause (bad file, bad flag, bad request) is an a3b::Error whose
// message names what was wrong and where. Callers at the edge (CLI, server) turn it into an exit
// code or an HTTP error body; nothing below them prints or exits.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace a3b {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Parts>
std::string cat(Parts&&... parts) {
  std::ostringstream s;
  (s << ... << std::forward<Parts>(parts));
  return s.str();
}

template <class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(cat(std::forward<Parts>(parts)...));
}

}  // namespace a3b
