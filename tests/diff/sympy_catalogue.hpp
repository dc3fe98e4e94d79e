#pragma once
// The SymPy reference catalogue and the checks diff_sympy_catalogue runs on it.
//
// tests/reference/scalar_derivatives.py writes the catalogue, entry<0> to
// entry<catalogue_size - 1>: a formula, a box where it is smooth, and SymPy's
// value, first and second derivatives at a few points. Instantiating the
// derivatives of every formula is most of this test's compile time, so the
// catalogue is checked in three slices, one per source file
// (sympy_catalogue_part_N.cpp), which compile in parallel.

#include <boost/test/unit_test.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <tapeless/tapeless.hpp>

namespace sympy_catalogue {

namespace tl = tapeless;
using namespace tl::literals;

inline constexpr auto x = tl::var<"x">;
inline constexpr auto y = tl::var<"y">;
inline constexpr auto z = tl::var<"z">;

struct interval {
  double lo, hi;
};

// SymPy's values at one point of a formula of N variables v_0 ... v_(N-1).
template <std::size_t N>
struct reference_point {
  std::array<double, N> at;
  double value;
  std::array<double, N> first;       // df/dv_i
  std::array<double, N * N> second;  // d2f/dv_i dv_j at [i * N + j]
};

template <std::size_t Index>
struct entry;

#include "reference/scalar_derivatives.inc"

// Tapeless against SymPy: the same formula evaluated in double, so only
// rounding separates them.
inline constexpr double sympy_tolerance = 1e-12;
// Tapeless against five-point central differences (whose own error stays
// below 1e-9 on these boxes).
inline constexpr double finite_difference_tolerance = 1e-7;
// Random points per formula in the finite-difference test.
inline constexpr int random_points = 4;

// |got - want| relative to max(1, |want|): relative for large values, absolute
// near zero, where a relative error means nothing. NaN is infinitely wrong.
constexpr double relative_error(double got, double want) {
  const auto magnitude = [](double v) { return v < 0 ? -v : v; };
  if (got != got || want != want) return std::numeric_limits<double>::infinity();
  const double scale = magnitude(want) > 1 ? magnitude(want) : 1;
  return magnitude(got - want) / scale;
}

// ---- an entry's variables and derivatives ------------------------------------

template <class Entry>
inline constexpr std::size_t arity = std::tuple_size_v<decltype(Entry::variables)>;

template <class Entry>
using point_of = std::array<double, arity<Entry>>;

template <class Entry, std::size_t I>
inline constexpr auto variable = std::get<I>(Entry::variables);

template <class Entry, std::size_t I>
inline constexpr auto first_derivative = tl::d(Entry::f, variable<Entry, I>);

template <class Entry, std::size_t I, std::size_t J>
inline constexpr auto second_derivative =
    tl::d(first_derivative<Entry, I>, variable<Entry, J>);

// f and all its partials, from one reverse pass.
template <class Entry>
inline constexpr auto gradient = []<std::size_t... I>(std::index_sequence<I...>) {
  return tl::grad(Entry::f, variable<Entry, I>...);
}(std::make_index_sequence<arity<Entry>>{});

// d(f, v_i) and all its partials: row i of the Hessian.
template <class Entry, std::size_t I>
inline constexpr auto hessian_row = []<std::size_t... J>(std::index_sequence<J...>) {
  return tl::grad(first_derivative<Entry, I>, variable<Entry, J>...);
}(std::make_index_sequence<arity<Entry>>{});

template <class Entry, std::size_t I>
inline constexpr std::string_view variable_name =
    std::remove_cvref_t<decltype(variable<Entry, I>)>::name.view();

// Calls `use` with the bindings that put the entry's variables at `at`:
// use(x = at[0], y = at[1], ...).
template <class Entry, class Use>
constexpr decltype(auto) with_bindings(const point_of<Entry>& at, Use use) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
    return use((variable<Entry, I> = at[I])...);
  }(std::make_index_sequence<arity<Entry>>{});
}

template <class Entry, class E>
constexpr double evaluate_at(const E& e, const point_of<Entry>& at) {
  return with_bindings<Entry>(at, [&](const auto&... bindings) { return e(bindings...); });
}

// Calls check.template operator()<I>() for every variable index I.
template <class Entry, class Check>
void for_each_variable(Check check) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (check.template operator()<I>(), ...);
  }(std::make_index_sequence<arity<Entry>>{});
}

// ---- failure messages: they name the formula, the point and the quantity ------
// Plain functions, not templates, so that each check instantiates little code.

// What a failure message needs to say where it happened.
struct where {
  std::string_view formula;
  std::span<const std::string_view> names;  // the variables, in order
  std::span<const double> at;               // their values
};

// f (order 0), df/dv_i (order 1) or d2f/dv_i dv_j (order 2), and how it was computed.
struct quantity {
  int order;
  std::size_t i = 0, j = 0;
  std::string_view how = "";
};

inline std::string number_text(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

inline std::string point_text(const where& w) {
  std::string text;
  for (std::size_t i = 0; i < w.at.size(); ++i)
    text += (i == 0 ? "" : ", ") + std::string(w.names[i]) + " = " + number_text(w.at[i]);
  return text;
}

inline std::string quantity_text(const where& w, const quantity& q) {
  std::string text = q.order == 0   ? std::string("f")
                     : q.order == 1 ? "df/d" + std::string(w.names[q.i])
                                    : "d2f/d" + std::string(w.names[q.i]) + "d" +
                                          std::string(w.names[q.j]);
  return q.how.empty() ? text : text + " " + std::string(q.how);
}

inline void check_close(double got, double want, double tolerance, const where& w,
                        const quantity& q, std::string_view reference) {
  const double error = relative_error(got, want);
  BOOST_CHECK_MESSAGE(error <= tolerance,
                      "formula `" << w.formula << "` at (" << point_text(w)
                                  << "): " << quantity_text(w, q) << " = " << number_text(got)
                                  << ", " << reference << " gives " << number_text(want)
                                  << " (relative error " << error << ")");
}

// The gradient of q (f or a first derivative) against finite differences.
inline void check_gradient_passed(const tl::gradient_check_result& result, const where& w,
                                  const quantity& q) {
  BOOST_CHECK_MESSAGE(result.passed(finite_difference_tolerance),
                      "formula `" << w.formula << "` at (" << point_text(w)
                                  << "): tl::check_gradient of " << quantity_text(w, q)
                                  << " finds a relative error of " << result.max_rel_error
                                  << " in its partial by " << w.names[result.worst]);
}

// ---- the checks, one entry at a time ------------------------------------------

template <class Entry>
inline constexpr auto variable_names = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<std::string_view, arity<Entry>>{variable_name<Entry, I>...};
}(std::make_index_sequence<arity<Entry>>{});

template <class Entry>
where where_at(const point_of<Entry>& at) {
  return {Entry::formula, variable_names<Entry>, at};
}

template <class Entry>
void check_values() {
  for (const auto& point : Entry::points)
    check_close(evaluate_at<Entry>(Entry::f, point.at), point.value, sympy_tolerance,
                where_at<Entry>(point.at), {0}, "SymPy");
}

// Each partial twice: alone with tl::d, and all together from tl::grad.
template <class Entry>
void check_first_derivatives() {
  for (const auto& point : Entry::points) {
    const where w = where_at<Entry>(point.at);
    const auto all = with_bindings<Entry>(point.at, gradient<Entry>);
    check_close(all.value, point.value, sympy_tolerance, w, {0, 0, 0, "from tl::grad"}, "SymPy");
    for_each_variable<Entry>([&]<std::size_t I>() {
      check_close(evaluate_at<Entry>(first_derivative<Entry, I>, point.at), point.first[I],
                  sympy_tolerance, w, {1, I}, "SymPy");
      check_close(all[variable<Entry, I>], point.first[I], sympy_tolerance, w,
                  {1, I, 0, "from tl::grad"}, "SymPy");
    });
  }
}

// Row i of the Hessian from one pass, tl::grad(tl::d(f, v_i), v_0, v_1, ...),
// so mixed partials are checked in both orders; the diagonal also as
// tl::d(tl::d(f, v_i), v_i).
template <class Entry>
void check_second_derivatives() {
  constexpr std::size_t n = arity<Entry>;
  for (const auto& point : Entry::points) {
    const where w = where_at<Entry>(point.at);
    for_each_variable<Entry>([&]<std::size_t I>() {
      const auto row = with_bindings<Entry>(point.at, hessian_row<Entry, I>);
      for_each_variable<Entry>([&]<std::size_t J>() {
        check_close(row[variable<Entry, J>], point.second[I * n + J], sympy_tolerance, w,
                    {2, I, J, "from tl::grad"}, "SymPy");
      });
      check_close(evaluate_at<Entry>(second_derivative<Entry, I, I>, point.at),
                  point.second[I * n + I], sympy_tolerance, w, {2, I, I}, "SymPy");
    });
  }
}

// A reproducible point drawn uniformly from the box (the same on every
// standard library: mt19937 is specified bit for bit, distributions are not).
inline void draw_point(std::mt19937& random, std::span<const interval> box, std::span<double> at) {
  for (std::size_t i = 0; i < at.size(); ++i) {
    const double u = (random() + 0.5) / 4294967296.0;
    at[i] = box[i].lo + (box[i].hi - box[i].lo) * u;
  }
}

// At random points of the box, tl::check_gradient: the gradient of f, and of
// every d(f, v_i) (a row of the Hessian), against finite differences.
template <std::size_t Index>
void check_finite_differences() {
  using Entry = entry<Index>;
  std::mt19937 random(20240 + Index);
  point_of<Entry> at{};
  for (int k = 0; k < random_points; ++k) {
    draw_point(random, Entry::box, at);
    const where w = where_at<Entry>(at);
    const auto check_gradient_of = [&](const auto& e, const quantity& q) {
      check_gradient_passed([&]<std::size_t... I>(std::index_sequence<I...>) {
        return tl::check_gradient(e, tl::with_respect_to(variable<Entry, I>...),
                                  (variable<Entry, I> = at[I])...);
      }(std::make_index_sequence<arity<Entry>>{}), w, q);
    };
    check_gradient_of(Entry::f, {0});
    for_each_variable<Entry>([&]<std::size_t I>() {
      check_gradient_of(first_derivative<Entry, I>, {1, I});
    });
  }
}

// ---- slicing the catalogue ------------------------------------------------------

enum class aspect { values, first_derivatives, second_derivatives, finite_differences };

template <std::size_t Index>
void check_entry(aspect what) {
  using Entry = entry<Index>;
  switch (what) {
    case aspect::values: return check_values<Entry>();
    case aspect::first_derivatives: return check_first_derivatives<Entry>();
    case aspect::second_derivatives: return check_second_derivatives<Entry>();
    case aspect::finite_differences: return check_finite_differences<Index>();
  }
}

inline constexpr std::size_t part_count = 3;

// Part P (1-based) checks the entries P - 1, P - 1 + part_count, ...: formulas
// of one kind sit together in the catalogue, so this spreads them out.
template <std::size_t Part>
void check_entries_of_part(aspect what) {
  constexpr std::size_t first = Part - 1;
  constexpr std::size_t count =
      catalogue_size > first ? (catalogue_size - first + part_count - 1) / part_count : 0;
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    (check_entry<first + K * part_count>(what), ...);
  }(std::make_index_sequence<count>{});
}

// Defined in sympy_catalogue_part_N.cpp.
void check_part_1(aspect what);
void check_part_2(aspect what);
void check_part_3(aspect what);

inline void check_catalogue(aspect what) {
  check_part_1(what);
  check_part_2(what);
  check_part_3(what);
}

}  // namespace sympy_catalogue
