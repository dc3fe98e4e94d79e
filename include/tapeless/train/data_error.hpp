#pragma once
// The one exception the train layer throws for bad input files: it names the
// file and says what is wrong with it, in words a user can act on.
//
//   try { auto images = tl::train::read_idx("train-images-idx3-ubyte"); }
//   catch (const tl::train::data_error& e) { std::cerr << e.what() << '\n'; }
//   // "train-images-idx3-ubyte: truncated: the header promises 47040000 data
//   //  bytes (60000x28x28), the file holds 1000"

#include <stdexcept>
#include <string>
#include <utility>

namespace tapeless::train {

class data_error : public std::runtime_error {
 public:
  data_error(std::string file, std::string problem)
      : std::runtime_error(file + ": " + problem), file_(std::move(file)), problem_(std::move(problem)) {}

  // The file (or data source) at fault, as the caller named it.
  const std::string& file() const noexcept { return file_; }
  // What is wrong with it, without the file name.
  const std::string& problem() const noexcept { return problem_; }

 private:
  std::string file_;
  std::string problem_;
};

}  // namespace tapeless::train
