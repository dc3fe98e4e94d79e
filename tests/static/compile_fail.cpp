// Runs the compiler on every snippet in tests/static/fail and checks that it
// fails with the words its first line expects. One test case per snippet.
// The compilations run two at a time from the start (each is a few seconds of
// one core, and a case only waits for its own); a snippet that defines none of
// the library's TAPELESS_ macros reads the library precompiled
// (TAPELESS_TEST_PCH, when the build made one).

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

struct compilation {
  std::string output;
  int status = 0;
};

// A snippet that sets one of the library's macros before its includes must
// parse the library itself: the precompiled one was read before its #define.
bool defines_library_macro(const std::filesystem::path& snippet) {
  std::ifstream in(snippet);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return text.find("#define TAPELESS_") != std::string::npos;
}

compilation compile(const std::filesystem::path& snippet) {
  std::string command = std::string(TAPELESS_TEST_COMPILER) + " " + TAPELESS_TEST_COMPILER_FLAGS + " ";
#ifdef TAPELESS_TEST_PCH
  if (!defines_library_macro(snippet)) command += std::string("-include ") + TAPELESS_TEST_PCH + " ";
#endif
  compilation result;
  result.output = run_and_capture(command + snippet.string(), result.status);
  return result;
}

// Every snippet's compilation, started at registration by two workers taking
// the snippets in order.
std::vector<std::filesystem::path> snippets;
std::vector<std::promise<compilation>> promised;
std::vector<std::shared_future<compilation>> compiled;
std::atomic<std::size_t> next_snippet{0};
std::vector<std::jthread> workers;

void compile_remaining() {
  for (std::size_t i; (i = next_snippet++) < snippets.size();) promised[i].set_value(compile(snippets[i]));
}

void check_snippet(std::size_t index) {
  const std::filesystem::path& snippet = snippets[index];
  const std::string expected = expected_words(snippet);
  BOOST_REQUIRE_MESSAGE(!expected.empty(), snippet << " lacks its '// expect-error: ' line");
  const compilation& result = compiled[index].get();
  const int status = result.status;
  const std::string& output = result.output;
  BOOST_CHECK_MESSAGE(status != 0, snippet.filename() << " compiled, but must not");
  BOOST_CHECK_MESSAGE(output.find(expected) != std::string::npos,
                      snippet.filename() << ": the errors do not contain \"" << expected
                                         << "\"; they were:\n"
                                         << output.substr(0, 4000));
}

bool register_snippets() {
  for (const auto& entry : std::filesystem::directory_iterator(TAPELESS_TEST_FAIL_DIR))
    if (entry.path().extension() == ".cpp") snippets.push_back(entry.path());
  std::sort(snippets.begin(), snippets.end());
  promised.resize(snippets.size());
  for (auto& p : promised) compiled.push_back(p.get_future().share());
  for (int w = 0; w < 2; ++w) workers.emplace_back(compile_remaining);
  auto& suite = boost::unit_test::framework::master_test_suite();
  for (std::size_t i = 0; i < snippets.size(); ++i)
    suite.add(boost::unit_test::make_test_case([i] { check_snippet(i); }, snippets[i].stem().string(), __FILE__,
                                               __LINE__));
  return true;
}

}  // namespace

int main(int argc, char* argv[]) { return boost::unit_test::unit_test_main(&register_snippets, argc, argv); }
