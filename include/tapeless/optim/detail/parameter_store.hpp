#pragma once
// Recognising a parameter store, for the checks at the optim layer's entry
// points.

#include <tapeless/core/parameter_store.hpp>

#include <array>
#include <cstddef>
#include <type_traits>

namespace tapeless::optim::detail {

template <class T>
inline constexpr bool is_parameter_store = false;
template <class Storage, class... Entries>
inline constexpr bool is_parameter_store<parameter_store<Storage, Entries...>> = true;

// Optimizers and clipping do arithmetic on every element of the trainable
// parameters: integer parameters have no gradient to follow. Buffers (which
// they never touch) may be integers (num_batches_tracked).
template <class Store>
inline constexpr bool floating_entries = false;
template <class Storage, class... Entries>
inline constexpr bool floating_entries<parameter_store<Storage, Entries...>> =
    ((std::is_floating_point_v<typename Entries::element_type> || !Entries::trainable) && ...);

// A program numbers the params it differentiates in graph order; a store
// holds them in the same order with its buffers among them. These map one
// numbering to the other.
template <class EntryList>
struct trainable_positions;
template <class... Entries>
struct trainable_positions<tapeless::detail::type_list<Entries...>> {
  static constexpr std::array<bool, sizeof...(Entries)> trainable{Entries::trainable...};
  // The store index of the program's parameter J.
  static constexpr std::size_t store_index(std::size_t j) {
    for (std::size_t i = 0; i < trainable.size(); ++i)
      if (trainable[i] && j-- == 0) return i;
    return trainable.size();
  }
  // The program's number of store entry I (a trainable one).
  static constexpr std::size_t program_index(std::size_t i) {
    std::size_t j = 0;
    for (std::size_t k = 0; k < i; ++k) j += trainable[k] ? 1 : 0;
    return j;
  }
};

}  // namespace tapeless::optim::detail
