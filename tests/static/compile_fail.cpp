// Runs the compiler on every snippet in tests/static/fail and checks that it
// fails with the words its first line expects. One test case per snippet.

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>
#include <algorithm>

namespace {

std::string run_and_capture(const std::string& command, int& status) {
  std::string output;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  std::array<char, 4096> chunk;
  while (std::size_t n = std::fread(chunk.data(), 1, chunk.size(), pipe.get()))
    output.append(chunk.data(), n);
  status = pclose(pipe.release());
  return output;
}

// The words of the first line, "// expect-error: <words>". clang prints
// template arguments its own way (no space in "> >", a fixed_string as its
// character codes, {{120, 0}} for "x"), so a snippet may give clang's words on
// its second line, "// expect-error-clang: <words>".
std::string expected_words(const std::filesystem::path& snippet) {
  std::ifstream in(snippet);
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  const std::string marker = "// expect-error: ";
  const std::string clang_marker = "// expect-error-clang: ";
#ifdef __clang__
  if (second.rfind(clang_marker, 0) == 0) return second.substr(clang_marker.size());
#endif
  return first.rfind(marker, 0) == 0 ? first.substr(marker.size()) : std::string{};
}

void check_snippet(const std::filesystem::path& snippet) {
  const std::string expected = expected_words(snippet);
  BOOST_REQUIRE_MESSAGE(!expected.empty(), snippet << " lacks its '// expect-error: ' line");
  int status = 0;
  const std::string output = run_and_capture(std::string(TAPELESS_TEST_COMPILER) + " " +
                                                 TAPELESS_TEST_COMPILER_FLAGS + " " +
                                                 snippet.string(),
                                             status);
  BOOST_CHECK_MESSAGE(status != 0, snippet.filename() << " compiled, but must not");
  BOOST_CHECK_MESSAGE(output.find(expected) != std::string::npos,
                      snippet.filename() << ": the errors do not contain \"" << expected
                                         << "\"; they were:\n"
                                         << output.substr(0, 4000));
}

bool register_snippets() {
  std::vector<std::filesystem::path> snippets;
  for (const auto& entry : std::filesystem::directory_iterator(TAPELESS_TEST_FAIL_DIR))
    if (entry.path().extension() == ".cpp") snippets.push_back(entry.path());
  std::sort(snippets.begin(), snippets.end());
  auto& suite = boost::unit_test::framework::master_test_suite();
  for (const auto& snippet : snippets)
    suite.add(boost::unit_test::make_test_case([snippet] { check_snippet(snippet); },
                                               snippet.stem().string(), __FILE__, __LINE__));
  return true;
}

}  // namespace

int main(int argc, char* argv[]) { return boost::unit_test::unit_test_main(&register_snippets, argc, argv); }
