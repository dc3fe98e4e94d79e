#define BOOST_TEST_MODULE io_safetensors_round_trip
#include <boost/test/unit_test.hpp>

#include "io/support.hpp"

#include <bit>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

using namespace io_test;

namespace {

template <class Store>
void check_round_trip(const Store& saved, const fs::path& file, tl::io::save_options options = {}) {
  tl::io::save(saved, file, options);
  auto loaded = std::make_unique<Store>();  // zero-filled; a large inline store is off the stack
  BOOST_TEST((value_bytes(*loaded) != value_bytes(saved)), "the test values are not all zero");
  tl::io::load(*loaded, file);
  BOOST_TEST((value_bytes(*loaded) == value_bytes(saved)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(inline_float_store_round_trips_exactly) {
  scratch_directory dir;
  mlp_store<tl::inline_storage> store;
  fill_distinct(store, 3);
  check_round_trip(store, dir / "mlp.safetensors");
}

BOOST_AUTO_TEST_CASE(heap_store_round_trips_exactly) {
  using big = tl::parameter_store<tl::heap_storage,
                                  tl::parameter_entry<"fc1.weight", float, tl::shape<256, 784>>,
                                  tl::parameter_entry<"fc1.bias", float, tl::shape<256>>>;
  static_assert(std::is_same_v<big::storage, tl::heap_storage>);
  scratch_directory dir;
  big store;
  fill_distinct(store, 1);
  check_round_trip(store, dir / "big.safetensors");
  BOOST_TEST(fs::file_size(dir / "big.safetensors") > (256 * 784 + 256) * sizeof(float));
}

BOOST_AUTO_TEST_CASE(a_file_saved_from_inline_storage_loads_into_heap_storage) {
  scratch_directory dir;
  mlp_store<tl::inline_storage> saved;
  fill_distinct(saved, 5);
  tl::io::save(saved, dir / "mlp.safetensors");
  mlp_store<tl::heap_storage> loaded;
  tl::io::load(loaded, dir / "mlp.safetensors");
  BOOST_TEST((value_bytes(loaded) == value_bytes(saved)));
}

BOOST_AUTO_TEST_CASE(double_store_round_trips_exactly) {
  using store_type =
      tl::parameter_store<tl::inline_storage, tl::parameter_entry<"w", double, tl::shape<3, 5>>,
                          tl::parameter_entry<"b", double, tl::shape<5>>>;
  scratch_directory dir;
  store_type store;
  fill_distinct(store, 2);
  store.get<"w">()(0, 0) = 0.1;  // not a short binary fraction
  store.get<"b">()(4) = std::numeric_limits<double>::max();
  check_round_trip(store, dir / "double.safetensors");
  BOOST_TEST(read_bytes(dir / "double.safetensors").find(R"("dtype":"F64")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(int32_store_round_trips_exactly) {
  using store_type = tl::parameter_store<tl::inline_storage,
                                         tl::parameter_entry<"ids", std::int32_t, tl::shape<2, 3>>>;
  scratch_directory dir;
  store_type store;
  assign(store.get<"ids">(), {std::numeric_limits<std::int32_t>::min(), -1, 0, 1, 65536,
                              std::numeric_limits<std::int32_t>::max()});
  check_round_trip(store, dir / "int32.safetensors");
  BOOST_TEST(read_bytes(dir / "int32.safetensors").find(R"("dtype":"I32")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_element_type_round_trips_under_its_dtype) {
  using store_type =
      tl::parameter_store<tl::inline_storage, tl::parameter_entry<"i8", std::int8_t, tl::shape<3>>,
                          tl::parameter_entry<"u8", std::uint8_t, tl::shape<3>>,
                          tl::parameter_entry<"i16", std::int16_t, tl::shape<3>>,
                          tl::parameter_entry<"u16", std::uint16_t, tl::shape<3>>,
                          tl::parameter_entry<"i32", std::int32_t, tl::shape<3>>,
                          tl::parameter_entry<"u32", std::uint32_t, tl::shape<3>>,
                          tl::parameter_entry<"i64", std::int64_t, tl::shape<3>>,
                          tl::parameter_entry<"u64", std::uint64_t, tl::shape<3>>,
                          tl::parameter_entry<"f32", float, tl::shape<3>>,
                          tl::parameter_entry<"f64", double, tl::shape<3>>,
                          tl::parameter_entry<"scalar", float, tl::shape<>>>;
  scratch_directory dir;
  store_type store;
  store.visit([](std::string_view, auto& value, auto&) {
    using Tensor = std::remove_cvref_t<decltype(value)>;
    using T = typename Tensor::value_type;
    value[0] = std::numeric_limits<T>::lowest();
    // Tensor::size(), not value.size(): clang 14 reads no reference in a constant expression.
    if constexpr (Tensor::size() > 1) {
      value[1] = T(1);
      value[2] = std::numeric_limits<T>::max();
    }
  });
  check_round_trip(store, dir / "all.safetensors");
  const std::string bytes = read_bytes(dir / "all.safetensors");
  for (const char* expected :
       {R"("i8":{"dtype":"I8")", R"("u8":{"dtype":"U8")", R"("i16":{"dtype":"I16")",
        R"("u16":{"dtype":"U16")", R"("i32":{"dtype":"I32")", R"("u32":{"dtype":"U32")",
        R"("i64":{"dtype":"I64")", R"("u64":{"dtype":"U64")", R"("f32":{"dtype":"F32")",
        R"("f64":{"dtype":"F64")", R"("scalar":{"dtype":"F32","shape":[])"})
    BOOST_TEST(bytes.find(expected) != std::string::npos, expected);
}

BOOST_AUTO_TEST_CASE(special_float_values_round_trip_bit_for_bit) {
  using store_type =
      tl::parameter_store<tl::inline_storage, tl::parameter_entry<"f", float, tl::shape<6>>>;
  using limits = std::numeric_limits<float>;
  scratch_directory dir;
  store_type store;
  assign(store.get<"f">(),
         {-0.f, limits::denorm_min(), limits::infinity(), -limits::infinity(), limits::quiet_NaN(),
          std::bit_cast<float>(0x7FA00001u) /* a payload */});
  // NaN and infinities are saved when asked (by default save refuses them).
  check_round_trip(store, dir / "special.safetensors", {.allow_non_finite = true});
}

BOOST_AUTO_TEST_CASE(load_finds_tensors_by_offsets_whatever_their_order_in_the_file) {
  // The header lists the tensors in another order than the data holds them,
  // and neither is the store's order.
  scratch_directory dir;
  mlp_store<> reference;
  fill_distinct(reference, 4);
  const auto bytes_of = [&](const auto& t) {
    return std::string(reinterpret_cast<const char*>(t.data()), sizeof(float) * t.size());
  };
  const std::string data =
      bytes_of(reference.get<"fc2.bias">()) + bytes_of(reference.get<"fc1.weight">()) +
      bytes_of(reference.get<"fc2.weight">()) + bytes_of(reference.get<"fc1.bias">());
  const std::string header =
      header_of(
          {record("fc1.bias", "F32", {8}, 236, 268), record("fc2.weight", "F32", {3, 8}, 140, 236),
           record("fc2.bias", "F32", {3}, 0, 12), record("fc1.weight", "F32", {8, 4}, 12, 140)}) +
      "     ";  // padding, as writers may add
  write_safetensors(dir / "shuffled.safetensors", header, data);
  mlp_store<> loaded;
  tl::io::load(loaded, dir / "shuffled.safetensors");
  BOOST_TEST((value_bytes(loaded) == value_bytes(reference)));
}

BOOST_AUTO_TEST_CASE(load_with_allow_unused_skips_tensors_the_store_lacks) {
  using first_layer =
      tl::parameter_store<tl::inline_storage, tl::parameter_entry<"fc1.bias", float, tl::shape<8>>,
                          tl::parameter_entry<"fc1.weight", float, tl::shape<8, 4>>>;
  scratch_directory dir;
  mlp_store<> whole;
  fill_distinct(whole, 6);
  tl::io::save(whole, dir / "mlp.safetensors");
  first_layer part;
  BOOST_CHECK_THROW(tl::io::load(part, dir / "mlp.safetensors"), tl::io::error);
  tl::io::load(part, dir / "mlp.safetensors", tl::io::allow_unused);
  BOOST_TEST((part.get<"fc1.weight">() == whole.get<"fc1.weight">()));
  BOOST_TEST((part.get<"fc1.bias">() == whole.get<"fc1.bias">()));
}

BOOST_AUTO_TEST_CASE(load_writes_values_and_leaves_gradients_alone) {
  scratch_directory dir;
  mlp_store<> saved;
  fill_distinct(saved, 8);
  tl::io::save(saved, dir / "mlp.safetensors");
  mlp_store<> loaded;
  loaded.get<"fc2.bias">().fill(5.f);
  loaded.grad<"fc2.bias">().fill(-3.f);
  tl::io::load(loaded, dir / "mlp.safetensors");
  BOOST_TEST((loaded.get<"fc2.bias">() == saved.get<"fc2.bias">()));
  for (const float g : loaded.grad<"fc2.bias">()) BOOST_TEST(g == -3.f);
}

BOOST_AUTO_TEST_CASE(metadata_round_trips_through_read_metadata) {
  scratch_directory dir;
  mlp_store<> store;
  const tl::io::metadata meta{
      {"format", "pt"}, {"epoch", "12"}, {"note", "line\nbreak, tab\t, caf\xC3\xA9"}};
  tl::io::save(store, dir / "mlp.safetensors", meta);
  BOOST_TEST((tl::io::read_metadata(dir / "mlp.safetensors") == meta));
  tl::io::load(store, dir / "mlp.safetensors");  // metadata does not count as a tensor
}

BOOST_AUTO_TEST_CASE(load_reads_json_escapes_and_whitespace_in_the_header) {
  // Names spelt with \u escapes, a surrogate pair and every escape in the
  // metadata, and whitespace between all tokens: still the MLP's tensors.
  scratch_directory dir;
  mlp_store<> reference;
  fill_distinct(reference, 9);
  std::string data;
  reference.visit([&](std::string_view, const auto& value, const auto&) {
    data.append(reinterpret_cast<const char*>(value.data()), sizeof(float) * value.size());
  });
  const std::string header =
      "\t{ \"__metadata__\" : { \"smile\" : \"\\ud83d\\ude00\", \"escapes\" : "
      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\" } ,\n"
      "  \"fc1.w\\u0065ight\" : { \"dtype\" : \"F32\" , \"shape\" : [ 8 , 4 ] , "
      "\"data_offsets\" : [ 0 , 128 ] } ,\r\n"
      "  \"fc1.bia\\u0073\" : {\"shape\":[8],\"data_offsets\":[128,160],\"dtype\":\"F32\"},\n"
      "  \"fc2\\u002eweight\":{\"dtype\":\"F32\",\"shape\":[3,8],\"data_offsets\":[160,256]},\n"
      "  \"fc2.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[256,268]}\n}\n   ";
  write_safetensors(dir / "spaced.safetensors", header, data);
  mlp_store<> loaded;
  tl::io::load(loaded, dir / "spaced.safetensors");
  BOOST_TEST((value_bytes(loaded) == value_bytes(reference)));
  const tl::io::metadata meta = tl::io::read_metadata(dir / "spaced.safetensors");
  BOOST_TEST(meta.at("smile") == "\xF0\x9F\x98\x80");  // U+1F600 in UTF-8
  BOOST_TEST(meta.at("escapes") == "\"\\/\b\f\n\r\t\xC3\xA9");
}
