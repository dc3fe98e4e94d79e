#define BOOST_TEST_MODULE io_safetensors_load_errors
#include <boost/test/unit_test.hpp>

#include "io/support.hpp"

#include <string>
#include <vector>

// Every bad file: tl::io::load throws tl::io::error naming the file and the
// problem, and the store keeps every value it had.

using namespace io_test;

namespace {

// The MLP's records with record i replaced, over data_bytes of zeros.
void write_mlp_with(const fs::path& file, std::size_t i, std::string replacement,
                    std::size_t data_bytes = mlp_data_bytes) {
  std::vector<std::string> records = mlp_records();
  records[i] = std::move(replacement);
  write_safetensors(file, header_of(records), std::string(data_bytes, '\0'));
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_well_formed_mlp_file_loads) {
  // The control for every case below: the same file unbroken loads.
  scratch_directory dir;
  std::string data(mlp_data_bytes, '\0');
  data[0] = '\x01';  // fc1.weight(0, 0) = 2^-149, the smallest float
  write_safetensors(dir / "good.safetensors", header_of(mlp_records()), data);
  mlp_store<> store;
  fill_distinct(store, 7);
  tl::io::load(store, dir / "good.safetensors");
  BOOST_TEST(store.get<"fc1.weight">()(0, 0) == std::numeric_limits<float>::denorm_min());
  BOOST_TEST(store.get<"fc2.bias">()(2) == 0.f);
}

BOOST_AUTO_TEST_CASE(load_fails_on_a_missing_file) {
  scratch_directory dir;
  check_load_fails_leaving_store_unchanged(dir / "absent.safetensors",
                                           {"tapeless::io::load", "cannot read the file"});
}

BOOST_AUTO_TEST_CASE(load_fails_on_a_directory) {
  scratch_directory dir;
  check_load_fails_leaving_store_unchanged(dir.path, {"cannot read the file"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_missing_tensor) {
  scratch_directory dir;
  std::vector<std::string> records = mlp_records();
  records.pop_back();  // no fc2.bias, and no bytes for it
  write_safetensors(dir / "m.safetensors", header_of(records), std::string(256, '\0'));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc2.bias\"", "not in the file", "\"fc1.weight\""});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_wrong_shape) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 0, record("fc1.weight", "F32", {4, 8}, 0, 128));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc1.weight\"", "shape [4, 8]", "shape [8, 4]"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_wrong_rank) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 1, record("fc1.bias", "F32", {8, 1}, 128, 160));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc1.bias\"", "[8, 1]", "[8]"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_wrong_dtype) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 1, record("fc1.bias", "I32", {8}, 128, 160));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc1.bias\"", "I32", "F32", "does not convert"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_a_dtype_it_cannot_size) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 3, record("fc2.bias", "F4", {3}, 256, 268));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors", {"\"fc2.bias\"", "\"F4\""});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_truncated_file) {
  scratch_directory dir;
  write_safetensors(dir / "m.safetensors", header_of(mlp_records()),
                    std::string(mlp_data_bytes - 5, '\0'));
  check_load_fails_leaving_store_unchanged(
      dir / "m.safetensors", {"\"fc2.bias\"", "[256, 268)", "only 263 bytes", "truncated"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_header_length_beyond_file) {
  scratch_directory dir;
  const std::string header = header_of(mlp_records());
  write_bytes(dir / "m.safetensors", length_field(1'000'000) + header + std::string(268, '\0'));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"header length field says 1000000"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_header_length_near_two_to_the_64) {
  scratch_directory dir;
  write_bytes(dir / "m.safetensors", std::string(8, '\xFF') + "{}");
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"header length field says 18446744073709551615"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_file_shorter_than_length_field) {
  scratch_directory dir;
  write_bytes(dir / "m.safetensors", std::string("\x02\0\0\0\0", 5));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors", {"5 bytes", "fewer than the 8"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_empty_file) {
  scratch_directory dir;
  write_bytes(dir / "m.safetensors", "");
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors", {"0 bytes"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_overlapping_offsets) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 1, record("fc1.bias", "F32", {8}, 120, 152));
  check_load_fails_leaving_store_unchanged(
      dir / "m.safetensors", {"\"fc1.weight\"", "\"fc1.bias\"", "[120, 152)", "overlap"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_two_tensors_at_the_same_offsets) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 3, record("fc2.bias", "F32", {3}, 128, 140));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors", {"\"fc2.bias\"", "overlap"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_offsets_out_of_range) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 3, record("fc2.bias", "F32", {3}, 300, 312));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc2.bias\"", "[300, 312)", "only 268 bytes"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_offsets_that_would_wrap_around) {
  // end - begin is the right 12 bytes, but both lie near 2^64: no wrap-around may pass.
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 3,
                 record("fc2.bias", "F32", {3}, 18446744073709551603u, 18446744073709551615u));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc2.bias\"", "only 268 bytes"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_offsets_disagreeing_with_shape) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 3, record("fc2.bias", "F32", {3}, 256, 260), 260);
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc2.bias\"", "needs 12 bytes", "hold 4"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_offsets_ending_before_they_begin) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 3, record("fc2.bias", "F32", {3}, 268, 256));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc2.bias\"", "end before they begin"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_a_shape_too_large_to_address) {
  scratch_directory dir;
  write_mlp_with(dir / "m.safetensors", 3,
                 record("fc2.bias", "F32", {4294967296u, 4294967296u}, 256, 268));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors", {"\"fc2.bias\"", "too large"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_bytes_no_tensor_owns) {
  scratch_directory dir;
  // A gap between two tensors...
  std::vector<std::string> records = mlp_records();
  records[3] = record("fc2.bias", "F32", {3}, 260, 272);
  write_safetensors(dir / "gap.safetensors", header_of(records), std::string(272, '\0'));
  check_load_fails_leaving_store_unchanged(dir / "gap.safetensors",
                                           {"data bytes [256, 260)", "belong to no tensor"});
  // ... and bytes after the last one.
  write_safetensors(dir / "tail.safetensors", header_of(mlp_records()), std::string(270, '\0'));
  check_load_fails_leaving_store_unchanged(dir / "tail.safetensors",
                                           {"data bytes [268, 270)", "after the last tensor"});
}

BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_unused_tensor_by_default) {
  scratch_directory dir;
  std::vector<std::string> records = mlp_records();
  records.push_back(record("fc3.weight", "F64", {2}, 268, 284));
  write_safetensors(dir / "m.safetensors", header_of(records), std::string(284, '\0'));
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"\"fc3.weight\"", "no parameter", "allow_unused"});
}

BOOST_AUTO_TEST_CASE(allow_unused_still_checks_the_unused_tensors_layout) {
  scratch_directory dir;
  std::vector<std::string> records = mlp_records();
  records.push_back(record("fc3.weight", "F64", {2}, 268, 290));  // 22 bytes for 16
  write_safetensors(dir / "m.safetensors", header_of(records), std::string(290, '\0'));
  check_load_fails_leaving_store_unchanged(
      dir / "m.safetensors", {"\"fc3.weight\"", "needs 16 bytes"}, tl::io::allow_unused);
}

BOOST_AUTO_TEST_CASE(allow_unused_does_not_allow_missing_tensors) {
  scratch_directory dir;
  std::vector<std::string> records = mlp_records();
  records[0] = record("fc0.weight", "F32", {8, 4}, 0, 128);  // the wrong name for fc1.weight
  write_safetensors(dir / "m.safetensors", header_of(records), std::string(268, '\0'));
  check_load_fails_leaving_store_unchanged(
      dir / "m.safetensors", {"\"fc1.weight\"", "not in the file"}, tl::io::allow_unused);
}

// Malformed headers, each with a word of the message it must give. The body
// of a valid header is spliced in where the case needs valid records.
BOOST_AUTO_TEST_CASE(load_leaves_store_unchanged_on_malformed_header) {
  const std::string valid = header_of(mlp_records());
  const std::string body = valid.substr(1, valid.size() - 2);  // the records without braces
  struct bad_header {
    std::string text;
    std::string_view says;
  };
  // One tensor's record with the given fields, to break one field at a time.
  const auto fc1 = [](std::string_view fields) {
    return R"({"fc1.weight":{)" + std::string(fields) + "}}";
  };
  const std::vector<bad_header> cases{
      {"", "expected '{'"},
      {"not json", "expected '{'"},
      {"[" + body + "]", "expected '{'"},
      {"{" + body, "expected ',' or '}'"},
      {"{" + body + ",}", "expected a string"},
      {"{" + body + "}}", "text after the closing '}'"},
      {"{" + body + "} x", "text after the closing '}'"},
      {R"({fc1:{}})", "expected a string"},
      {R"({"fc1.weight" {}})", "expected ':'"},
      {fc1(R"("dtype":"F32","shape":[8,-4],"data_offsets":[0,128])"), "negative"},
      {fc1(R"("dtype":"F32","shape":[8,4],"data_offsets":[0,128.0])"), "fraction"},
      {fc1(R"("dtype":"F32","shape":[8,4],"data_offsets":[0,1e3])"), "exponent"},
      {fc1(R"("dtype":"F32","shape":[08,4],"data_offsets":[0,128])"), "leading zero"},
      {fc1(R"("dtype":"F32","shape":[8,4],"data_offsets":[0,99999999999999999999])"), "64 bits"},
      {fc1(R"("dtype":"F32","shape":[8,4],"data_offsets":[0,128,256])"), "[begin, end]"},
      {fc1(R"("dtype":"F32","shape":[8,4],"data_offsets":[0 128])"), "',' or ']'"},
      {fc1(R"("dtype":"F32","shape":"8,4","data_offsets":[0,128])"), "'['"},
      {fc1(R"("dtype":32,"shape":[8,4],"data_offsets":[0,128])"), "a string"},
      {fc1(R"("dtype":"F32","shape":[8,4],"data_offsets":[0,128],"x":1)"), "unknown field \"x\""},
      {fc1(R"("shape":[8,4],"data_offsets":[0,128])"), "has no \"dtype\""},
      {fc1(R"("dtype":"F32","data_offsets":[0,128])"), "has no \"shape\""},
      {fc1(R"("dtype":"F32","shape":[8,4])"), "has no \"data_offsets\""},
      {fc1(R"("dtype":"F32","dtype":"F32","shape":[8,4],"data_offsets":[0,128])"),
       "\"dtype\" appears twice"},
      {"{" + body + "," + mlp_records()[0] + "}", "tensor \"fc1.weight\" appears twice"},
      {R"({"__metadata__":{"a":1},)" + body + "}", "values must be strings"},
      {R"({"__metadata__":{"a":"1","a":"2"},)" + body + "}", "key \"a\" appears twice"},
      {R"({"__metadata__":{},"__metadata__":{},)" + body + "}", "\"__metadata__\" appears twice"},
      {"{\"fc1.w\xFF\":{}}", "not UTF-8"},
      {"{\"fc1.w\xC0\xAE\":{}}", "not UTF-8"},     // an overlong '.'
      {"{\"fc1.w\ne\":{}}", "control character"},  // a raw line break inside a string
      {R"({"fc1.w\qe":{}})", "unknown escape"},
      {R"({"fc1.w\u00":{}})", "hex digit"},
      {R"({"fc1.w\ud800":{}})", "surrogate"},
      {R"({"fc1.w\udc00":{}})", "surrogate"},
      {R"({"fc1.weight)", "unterminated string"},
  };
  scratch_directory dir;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    BOOST_TEST_CONTEXT("header: " << cases[i].text) {
      const fs::path file = dir / ("bad_" + std::to_string(i) + ".safetensors");
      write_safetensors(file, cases[i].text, std::string(mlp_data_bytes, '\0'));
      check_load_fails_leaving_store_unchanged(file, {cases[i].says});
    }
  }
}

BOOST_AUTO_TEST_CASE(header_errors_give_the_byte_where_the_header_goes_wrong) {
  scratch_directory dir;
  write_safetensors(dir / "m.safetensors", R"({"a" 1})", "");
  check_load_fails_leaving_store_unchanged(dir / "m.safetensors",
                                           {"malformed header (at header byte 5): expected ':'"});
}
