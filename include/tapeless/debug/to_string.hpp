#pragma once
// tl::to_string(e): an expression as readable infix text, with only the
// parentheses precedence needs: "y*cos(x*y) + exp(x)/y", "3*x^2".

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

// The expression vocabulary only (printing is generic over operations), not
// <tapeless/expr.hpp>, whose tensors and thread pool cost a scalar user
// (tapeless/symbolic.hpp) more than half its compile time.
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/math_constant.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

namespace detail {

// Binding strength of what a printed piece ends with at its top level.
enum class strength : int { comparison = 5, sum = 10, product = 20, negation = 25, power = 40, atom = 100 };

struct printed {
  std::string text;
  strength binding;
  bool fraction = false;  // an exact p/q, parenthesized inside products and powers
};

// Strings here are built by appending to one named string: g++ 12 takes
// chains of + on temporaries, once inlined into a printer, for writes out of
// bounds (-Warray-bounds at -O1) or overlapping (-Wrestrict at -O3, in
// examples/derivatives.cpp): false positives of its std::string.
inline std::string parenthesized(const std::string& text) {
  std::string result;
  result.reserve(text.size() + 2);
  result.append(1, '(').append(text).append(1, ')');
  return result;
}

template <class T>
std::string number_text(T value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

inline strength infix_strength(int precedence) {
  return precedence == 0   ? strength::comparison
         : precedence == 1 ? strength::sum
         : precedence == 2 ? strength::product
                           : strength::power;
}

template <class E>
printed print(const E& e);

template <class Op, class A, class B>
printed print_infix(const node<Op, A, B>& n) {
  const strength own = infix_strength(Op::precedence);
  printed left = print(operand_at<0>(n)), right = print(operand_at<1>(n));
  const bool is_power = own == strength::power;
  // Left operands bind at least as strongly; a power's base and a comparison's
  // left side more strongly ((x^2)^3, (a < b) < c).
  const bool is_comparison = own == strength::comparison;
  if (left.binding < own || ((is_power || is_comparison) && left.binding <= own) ||
      (left.fraction && own >= strength::product))
    left.text = parenthesized(left.text);
  // Right operands of - and / need parentheses at equal strength; exponents unless atoms.
  const bool non_associative =
      std::is_same_v<Op, sub_op> || std::is_same_v<Op, div_op> || is_comparison;
  if (right.binding < own || (non_associative && right.binding == own) ||
      (is_power && right.binding != strength::atom) || right.fraction)
    right.text = parenthesized(right.text);
  std::string_view infix = Op::infix;
  if (right.text.front() == '-' && !is_comparison) {
    // a + -b reads a - b, and a - -b reads a + b; elsewhere (but after a
    // comparison, a < -b) the sign needs parentheses.
    if constexpr (std::is_same_v<Op, add_op> || std::is_same_v<Op, sub_op>) {
      infix = std::is_same_v<Op, add_op> ? " - " : " + ";
      right.text.erase(0, 1);
    } else
      right.text = parenthesized(right.text);
  }
  left.text.append(infix).append(right.text);
  return {std::move(left.text), own};
}

template <class E>
printed print(const E& e) {
  if constexpr (is_symbol<E>)
    return {std::string(E::name.view()), strength::atom};
  else if constexpr (is_exact<E>) {
    constexpr rational v = E::value;
    std::string text = std::to_string(v.num);
    if (v.den != 1) text.append(1, '/').append(std::to_string(v.den));
    const strength s = v.num < 0 ? strength::negation : v.den != 1 ? strength::product : strength::atom;
    return {text, s, v.den != 1};
  } else if constexpr (is_constant<E>) {
    std::string text = number_text(e.value);
    return {text, text.front() == '-' ? strength::negation : strength::atom};
  } else if constexpr (is_math_constant<E>) {
    return {std::string(E::name), E::name.find('/') != E::name.npos ? strength::product : strength::atom,
            E::name.find('/') != E::name.npos};
  } else if constexpr (is_with_constants<E>) {
    return print(tapeless::unlabel<typename E::structure>(e.constants));
  } else if constexpr (is_slot<E>) {
    return {std::string(1, 'c').append(std::to_string(E::slot)), strength::atom};
  } else {
    return [&]<class Op, class... Operands>(const node<Op, Operands...>& n) -> printed {
      if constexpr (requires { Op::infix; })
        return print_infix(n);
      else if constexpr (requires { Op::prefix; }) {
        printed operand_text = print(operand_at<0>(n));
        if (operand_text.binding < strength::product || operand_text.text.front() == '-')
          operand_text.text = parenthesized(operand_text.text);
        operand_text.text.insert(0, Op::prefix);
        return {std::move(operand_text.text), strength::negation};
      } else {
        // name(a, b, c): any number of operands.
        std::string text(Op::name);
        text += '(';
        [&]<std::size_t... I>(std::index_sequence<I...>) {
          ((text.append(I == 0 ? "" : ", ").append(print(operand_at<I>(n)).text)), ...);
        }(std::index_sequence_for<Operands...>{});
        text += ')';
        return {std::move(text), strength::atom};
      }
    }(e);
  }
}

}  // namespace detail

template <expression E>
std::string to_string(const E& e) {
  return detail::print(e).text;
}

}  // namespace tapeless
