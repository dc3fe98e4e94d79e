#pragma once
// tl::io::error: what every io/ function throws when a file cannot be read or
// written as asked. The message names the function, the file and the problem.

#include <stdexcept>

namespace tapeless::io {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tapeless::io
