#define BOOST_TEST_MODULE io_safetensors_save
#include <boost/test/unit_test.hpp>

#include "io/support.hpp"

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace io_test;

namespace {

using small_store = tl::parameter_store<tl::inline_storage,
                                        tl::parameter_entry<"layer.weight", float, tl::shape<2, 2>>,
                                        tl::parameter_entry<"step", std::int64_t, tl::shape<>>>;

small_store small_values() {
  small_store store;
  assign(store.get<"layer.weight">(), {1.f, -2.f, 0.5f, 3.f});
  store.get<"step">()() = 258;
  store.grad<"layer.weight">().fill(99.f);  // gradients are not saved
  return store;
}

// The header length field of a file's bytes.
std::uint64_t header_length(const std::string& bytes) {
  std::uint64_t n = 0;
  for (int k = 7; k >= 0; --k)
    n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(k)]);
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(save_writes_length_header_and_little_endian_row_major_values) {
  scratch_directory dir;
  tl::io::save(small_values(), dir / "small.safetensors");
  // Written out by hand: 125 bytes of JSON and 3 spaces make N = 128 = 0x80;
  // then 1, -2, 0.5, 3 as little-endian F32 and 258 as little-endian I64.
  const std::string expected =
      std::string("\x80\0\0\0\0\0\0\0", 8) +
      R"({"layer.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("step":{"dtype":"I64","shape":[],"data_offsets":[16,24]}})" +
      "   " +
      std::string(
          "\x00\x00\x80\x3f"
          "\x00\x00\x00\xc0"
          "\x00\x00\x00\x3f"
          "\x00\x00\x40\x40",
          16) +
      std::string("\x02\x01\0\0\0\0\0\0", 8);
  const std::string written = read_bytes(dir / "small.safetensors");
  BOOST_TEST(written.size() == expected.size());
  BOOST_TEST(written == expected);
}

BOOST_AUTO_TEST_CASE(save_pads_the_header_with_spaces_so_data_starts_eight_byte_aligned) {
  // Metadata values of 0 to 8 characters give every header length modulo 8.
  scratch_directory dir;
  for (std::size_t extra = 0; extra <= 8; ++extra) {
    BOOST_TEST_CONTEXT("metadata value of " << extra << " characters") {
      const fs::path file = dir / ("pad" + std::to_string(extra) + ".safetensors");
      tl::io::save(small_values(), file, {{"v", std::string(extra, 'x')}});
      const std::string bytes = read_bytes(file);
      const std::uint64_t n = header_length(bytes);
      BOOST_TEST(n % 8 == 0u);
      const std::string header = bytes.substr(8, n);
      const std::size_t closing = header.find_last_of('}');
      BOOST_TEST(header.find_first_not_of(' ', closing + 1) == std::string::npos);
      BOOST_TEST(n - (closing + 1) < 8u);
      BOOST_TEST(bytes.size() == 8 + n + 24);
    }
  }
}

BOOST_AUTO_TEST_CASE(save_writes_metadata_first_with_json_escapes) {
  scratch_directory dir;
  tl::io::save(small_values(), dir / "m.safetensors",
               {{"note", "a \"quoted\" word\\"}, {"epoch", "3"}});
  const std::string bytes = read_bytes(dir / "m.safetensors");
  BOOST_TEST(bytes.substr(8).starts_with(
      R"({"__metadata__":{"epoch":"3","note":"a \"quoted\" word\\"},"layer.weight":{)"));
  const tl::io::metadata back = tl::io::read_metadata(dir / "m.safetensors");
  BOOST_TEST(back.size() == 2u);
  BOOST_TEST(back.at("note") == "a \"quoted\" word\\");
  BOOST_TEST(back.at("epoch") == "3");
}

BOOST_AUTO_TEST_CASE(save_without_metadata_writes_no_metadata_key) {
  scratch_directory dir;
  tl::io::save(small_values(), dir / "m.safetensors");
  BOOST_TEST(read_bytes(dir / "m.safetensors").find("__metadata__") == std::string::npos);
  BOOST_TEST(tl::io::read_metadata(dir / "m.safetensors").empty());
}

BOOST_AUTO_TEST_CASE(save_rejects_metadata_that_is_not_utf8_and_writes_nothing) {
  scratch_directory dir;
  BOOST_CHECK_EXCEPTION(tl::io::save(small_values(), dir / "m.safetensors", {{"k", "\xFF"}}),
                        tl::io::error, [](const tl::io::error& e) {
                          return std::string_view(e.what()).find("not UTF-8") !=
                                 std::string_view::npos;
                        });
  BOOST_TEST(fs::is_empty(dir.path));
}

BOOST_AUTO_TEST_CASE(save_replaces_an_existing_file_and_leaves_no_temporary) {
  scratch_directory dir;
  write_bytes(dir / "m.safetensors", std::string(1000, 'x'));  // longer than the new file
  tl::io::save(small_values(), dir / "m.safetensors");
  tl::io::save(small_values(), dir / "fresh.safetensors");
  BOOST_TEST(read_bytes(dir / "m.safetensors") == read_bytes(dir / "fresh.safetensors"));
  BOOST_TEST(names_in(dir.path) == (std::vector<std::string>{"fresh.safetensors", "m.safetensors"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(save_into_a_missing_directory_throws_and_creates_nothing) {
  scratch_directory dir;
  const fs::path target = dir / "no_such_dir" / "m.safetensors";
  std::string message;
  try {
    tl::io::save(small_values(), target);
  } catch (const tl::io::error& e) {
    message = e.what();
  }
  BOOST_TEST_INFO("message: " << message);
  BOOST_TEST(message.find("tapeless::io::save") != std::string::npos);
  BOOST_TEST(message.find(target.string()) != std::string::npos);
  BOOST_TEST(message.find("cannot create") != std::string::npos);
  BOOST_TEST(fs::is_empty(dir.path));
}

BOOST_AUTO_TEST_CASE(a_failed_write_keeps_the_previous_file_and_removes_the_temporary) {
  // A file size limit makes the writes past byte 16 fail (EFBIG): a disk that
  // fills up half way through a save. In a child process, which the limit
  // then binds alone.
  scratch_directory dir;
  const fs::path target = dir / "m.safetensors";
  write_bytes(target, "the previous weights");
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{16, 16};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      tl::io::save(small_values(), target);
    } catch (const tl::io::error& e) {
      _exit(std::string_view(e.what()).find("writing") != std::string_view::npos ? 0 : 2);
    }
    _exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);  // 1: no error; 2: another error than a failed write
  BOOST_TEST(read_bytes(target) == "the previous weights");
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"m.safetensors"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_failed_rename_throws_and_removes_the_temporary) {
  // A directory under the target name cannot be replaced by a file.
  scratch_directory dir;
  const fs::path target = dir / "m.safetensors";
  fs::create_directory(target);
  std::string message;
  try {
    tl::io::save(small_values(), target);
  } catch (const tl::io::error& e) {
    message = e.what();
  }
  BOOST_TEST_INFO("message: " << message);
  BOOST_TEST(message.find("cannot rename") != std::string::npos);
  BOOST_TEST(fs::is_directory(target));
  BOOST_TEST(names_in(dir.path) == std::vector<std::string>{"m.safetensors"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(save_escapes_names_that_need_it_and_load_reads_them_back) {
  using odd_store = tl::parameter_store<tl::inline_storage,
                                        tl::parameter_entry<"say \"hi\"\\", float, tl::shape<2>>,
                                        tl::parameter_entry<"caf\xC3\xA9", float, tl::shape<1>>>;
  scratch_directory dir;
  odd_store saved;
  assign(saved.get<"say \"hi\"\\">(), {1.5f, 2.5f});
  assign(saved.get<"caf\xC3\xA9">(), {-4.f});
  tl::io::save(saved, dir / "odd.safetensors");
  BOOST_TEST(read_bytes(dir / "odd.safetensors").find(R"("say \"hi\"\\":{)") != std::string::npos);
  odd_store loaded;
  tl::io::load(loaded, dir / "odd.safetensors");
  BOOST_TEST((loaded.get<"say \"hi\"\\">() == saved.get<"say \"hi\"\\">()));
  BOOST_TEST(loaded.get<"caf\xC3\xA9">()(0) == -4.f);
}
