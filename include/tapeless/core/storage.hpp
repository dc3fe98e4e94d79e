#pragma once
// Where a model's tensors live: inside the object that owns them, or on the
// heap, allocated once when the object is made. One holder serves the
// parameter store, an optimizer's state and a compiled program's arena and
// result, so all of them copy, move and align the same way.
//
//   tl::parameters_of<tl::inline_storage>(loss)   // no heap at all
//   tl::compile<tl::heap_storage>(loss)           // one allocation, at construction
//   (default: tl::automatic_storage, inline up to 64 KiB)

#include <cstddef>
#include <memory>
#include <type_traits>

namespace tapeless {

struct inline_storage {};
struct heap_storage {};
struct automatic_storage {
  // Larger objects would make a program or store too big for a thread's stack.
  static constexpr std::size_t inline_limit_bytes = 64 * 1024;
};

template <class S>
concept storage_policy = std::is_same_v<S, inline_storage> || std::is_same_v<S, heap_storage> ||
                         std::is_same_v<S, automatic_storage>;

// Buffers and tensors start on a cache line: no two share one, and aligned
// loads of the widest x86 register (64 bytes) are always allowed.
inline constexpr std::size_t buffer_alignment = 64;

constexpr std::size_t align_up(std::size_t bytes) noexcept {
  return (bytes + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
}

namespace detail {

// The storage automatic_storage picks for an object of Bytes bytes.
template <class Storage, std::size_t Bytes>
struct resolve_storage {
  using type = Storage;
};
template <std::size_t Bytes>
struct resolve_storage<automatic_storage, Bytes> {
  using type = std::conditional_t<(Bytes <= automatic_storage::inline_limit_bytes), inline_storage, heap_storage>;
};
template <class Storage, std::size_t Bytes>
using resolved_storage_t = typename resolve_storage<Storage, Bytes>::type;

// Data held inline or behind one allocation. Copies are deep (a copied
// store is a snapshot of the weights); with Scratch, the data is working
// space that a copy does not carry over (a program's arena).
template <class Storage, class Data, bool Scratch = false>
struct storage_holder;

template <class Data, bool Scratch>
struct storage_holder<inline_storage, Data, Scratch> {
  Data data{};
  Data& get() noexcept { return data; }
  const Data& get() const noexcept { return data; }
};

template <class Data, bool Scratch>
struct storage_holder<heap_storage, Data, Scratch> {
  std::unique_ptr<Data> data = std::make_unique<Data>();  // value-initialized: zero-filled

  storage_holder() = default;
  storage_holder(const storage_holder& other)
      : data(Scratch ? std::make_unique<Data>() : std::make_unique<Data>(*other.data)) {}
  storage_holder(storage_holder&&) noexcept = default;
  storage_holder& operator=(const storage_holder& other) {
    if constexpr (!Scratch) *data = *other.data;  // same size: copy in place, keep the allocation
    return *this;
  }
  storage_holder& operator=(storage_holder&&) noexcept = default;

  Data& get() noexcept { return *data; }
  const Data& get() const noexcept { return *data; }
};

// Bytes of working memory, aligned as every buffer in it.
template <std::size_t Bytes>
struct alignas(buffer_alignment) aligned_bytes {
  std::byte bytes[Bytes == 0 ? 1 : Bytes];
};

}  // namespace detail

}  // namespace tapeless
