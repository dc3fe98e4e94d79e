#define BOOST_TEST_MODULE io_safe_save
#include <boost/test/unit_test.hpp>

#include "io/support.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace io_test;

namespace {

using store = mlp_store<tl::heap_storage>;

// Two stores whose every value differs: a file that mixed them would show.
struct two_versions {
  store a, b;
  std::vector<std::byte> a_bytes, b_bytes;
  two_versions() {
    fill_distinct(a, 1);
    fill_distinct(b, 2);
    a_bytes = value_bytes(a);
    b_bytes = value_bytes(b);
  }
  // Loads `path`: "a", "b", or what went wrong.
  std::string load_which(const fs::path& path) const {
    store loaded;
    try {
      tl::io::load(loaded, path);
    } catch (const tl::io::error& e) {
      return e.what();
    }
    const auto bytes = value_bytes(loaded);
    return bytes == a_bytes ? "a" : bytes == b_bytes ? "b" : "a mix of a and b";
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(save_leaves_a_symlinked_temporary_name_and_its_target_alone) {
  // Saves used to write path + ".tmp", through a symlink found there.
  scratch_directory dir;
  write_bytes(dir / "victim", "not yours");
  fs::create_symlink(dir / "victim", dir / "m.safetensors.tmp");
  const two_versions v;
  tl::io::save(v.a, dir / "m.safetensors");
  BOOST_TEST(read_bytes(dir / "victim") == "not yours");
  BOOST_TEST(fs::is_symlink(dir / "m.safetensors.tmp"));
  BOOST_TEST(v.load_which(dir / "m.safetensors") == "a");
  BOOST_TEST(names_in(dir.path) == (std::vector<std::string>{"m.safetensors", "m.safetensors.tmp", "victim"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_failed_save_leaves_a_pre_existing_temporary_name_alone) {
  // Saves used to delete path + ".tmp" when they failed, whoever's file it was.
  scratch_directory dir;
  write_bytes(dir / "m.safetensors.tmp", "someone's notes");
  fs::create_directory(dir / "m.safetensors");  // the rename over it fails
  const two_versions v;
  BOOST_CHECK_THROW(tl::io::save(v.a, dir / "m.safetensors"), tl::io::error);
  BOOST_TEST(read_bytes(dir / "m.safetensors.tmp") == "someone's notes");
  BOOST_TEST(names_in(dir.path) == (std::vector<std::string>{"m.safetensors", "m.safetensors.tmp"}),
             boost::test_tools::per_element());
  // And a save that works leaves it too.
  fs::remove(dir / "m.safetensors");
  tl::io::save(v.a, dir / "m.safetensors");
  BOOST_TEST(read_bytes(dir / "m.safetensors.tmp") == "someone's notes");
}

BOOST_AUTO_TEST_CASE(two_threads_saving_while_a_third_loads_leave_one_whole_file) {
  scratch_directory dir;
  const fs::path target = dir / "m.safetensors";
  const two_versions v;
  tl::io::save(v.a, target);
  std::atomic<int> writing{2};
  std::vector<std::string> seen;
  std::thread reader([&] {
    while (writing.load() > 0) seen.push_back(v.load_which(target));
  });
  const auto saves = [&](const store& s) {
    for (int i = 0; i < 150; ++i) tl::io::save(s, target);
    --writing;
  };
  std::thread first(saves, std::cref(v.a)), second(saves, std::cref(v.b));
  first.join();
  second.join();
  reader.join();
  std::size_t whole = 0;
  for (const std::string& s : seen) {
    BOOST_TEST((s == "a" || s == "b"), s);
    whole += s == "a" || s == "b";
  }
  BOOST_TEST_MESSAGE(seen.size() << " loads during the saves");
  BOOST_TEST(whole == seen.size());
  const std::string last = v.load_which(target);
  BOOST_TEST((last == "a" || last == "b"), last);
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"m.safetensors"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_save_killed_at_any_moment_leaves_the_old_file_or_the_new_one) {
  scratch_directory dir;
  const fs::path target = dir / "m.safetensors";
  const two_versions v;
  tl::io::save(v.a, target);
  std::mt19937 rng(7);
  for (int round = 0; round < 25; ++round) {
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
      for (int i = 0;; ++i) tl::io::save(i % 2 ? v.a : v.b, target);  // until killed
    }
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(200, 20000)(rng)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST(WIFSIGNALED(status));
    const std::string which = v.load_which(target);
    BOOST_TEST((which == "a" || which == "b"), "round " << round << ": " << which);
  }
  // What a killed save can leave is its own temporary, never under the target name.
  for (const std::string& name : names_in(dir.path))
    BOOST_TEST((name == "m.safetensors" || name.rfind(".m.safetensors.tmp-", 0) == 0), name);
}

BOOST_AUTO_TEST_CASE(save_refuses_non_finite_weights_unless_asked) {
  scratch_directory dir;
  const fs::path target = dir / "m.safetensors";
  two_versions v;
  tl::io::save(v.a, target);
  store diverged = v.b;
  diverged.get<"fc2.weight">()(1, 3) = std::numeric_limits<float>::quiet_NaN();
  try {
    tl::io::save(diverged, target);
    BOOST_ERROR("saved a NaN weight");
  } catch (const tl::io::error& e) {
    BOOST_TEST(std::string(e.what()).find("parameter \"fc2.weight\" holds a NaN or an infinity") != std::string::npos,
               e.what());
    BOOST_TEST(std::string(e.what()).find("allow_non_finite") != std::string::npos);
  }
  BOOST_TEST(v.load_which(target) == "a");  // the good weights are still there
  diverged.get<"fc2.weight">()(1, 3) = 1.f;
  diverged.get<"fc1.bias">()(0) = -std::numeric_limits<float>::infinity();
  BOOST_CHECK_THROW(tl::io::save(diverged, target, {{"epoch", "3"}}), tl::io::error);
  tl::io::save(diverged, target, {.allow_non_finite = true});
  store loaded;
  tl::io::load(loaded, target);
  BOOST_TEST(loaded.get<"fc1.bias">()(0) == -std::numeric_limits<float>::infinity());
}

BOOST_AUTO_TEST_CASE(load_refuses_a_fifo_at_once) {
  scratch_directory dir;
  const fs::path fifo = dir / "pipe.safetensors";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  store s;
  try {
    tl::io::load(s, fifo);  // would wait for a writer forever
    BOOST_ERROR("loaded a FIFO");
  } catch (const tl::io::error& e) {
    BOOST_TEST(std::string(e.what()).find("it is a FIFO (named pipe), not a regular file") != std::string::npos,
               e.what());
  }
  if (fs::exists("/dev/zero")) BOOST_CHECK_THROW(tl::io::load(s, "/dev/zero"), tl::io::error);
}
