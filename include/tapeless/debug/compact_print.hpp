#pragma once
// tl::to_compact_string(e) and tl::to_latex(e): an expression printed as
// compactly as a computer algebra system prints it. Unlike tl::to_string,
// which shows the graph as it is (what the simplifier made of it), these
// collect what printing can collect without changing the value:
//   - repeated factors into powers: x*x*x -> x^3, a/(2 + x^2)/(2 + x^2) -> a/(x^2 + 2)^2;
//   - like terms: a*b - c + 2*a*b -> 3*a*b - c;
//   - subexpressions used more than once, printed once as named temporaries
//     in a `where` block (as sympy.cse does), unless print_options say not to.
// The printer builds a small term graph at run time (one entry per distinct
// subexpression, found by a canonical key), so a derivative whose graph is a
// DAG is walked once per distinct node, not once per path.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <tapeless/debug/to_string.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/pow.hpp>

namespace tapeless {

struct print_options {
  // Print a subexpression used more than once once, as a temporary t0, t1,
  // ... defined in a `where` block after the result.
  bool share_subexpressions = true;
};

namespace detail::compact {

// The engine is a class template (on its string type) only so that its code,
// and the standard containers it uses, are compiled in the files that print
// compactly and not in every file that includes tapeless.hpp (0.6 s each).
template <class Text>
struct engine {
  // An exact rational while it fits, a double otherwise (a plain number in the
  // expression, or an exact product that overflowed).
  struct number {
    bool exact = true;
    std::intmax_t num = 0, den = 1;
    double value = 0;

    static number exact_value(std::intmax_t n, std::intmax_t d) {
      if (n == INTMAX_MIN || d == INTMAX_MIN) return inexact_value(double(n) / double(d));
      if (d < 0) n = -n, d = -d;
      const std::intmax_t g = std::gcd(n, d);
      if (g > 1) n /= g, d /= g;
      return {true, n, d, double(n) / double(d)};
    }
    static number inexact_value(double v) { return {false, 0, 1, v}; }

    bool is(std::intmax_t n) const { return exact ? num == n && den == 1 : value == double(n); }
    bool negative() const { return exact ? num < 0 : value < 0; }
    bool integer() const { return exact && den == 1; }

    // Exact while the integers fit; a double past that.
    friend number operator+(const number& a, const number& b) {
      std::intmax_t p, q, n, d;
      if (a.exact && b.exact && !__builtin_mul_overflow(a.num, b.den, &p) && !__builtin_mul_overflow(b.num, a.den, &q) &&
          !__builtin_add_overflow(p, q, &n) && !__builtin_mul_overflow(a.den, b.den, &d))
        return number::exact_value(n, d);
      return number::inexact_value(a.value + b.value);
    }
    friend number operator*(const number& a, const number& b) {
      if (a.exact && b.exact) {
        // Reduced crosswise first, so that products of small fractions stay exact.
        const number p = number::exact_value(a.num, b.den), q = number::exact_value(b.num, a.den);
        std::intmax_t n, d;
        if (p.exact && q.exact && !__builtin_mul_overflow(p.num, q.num, &n) && !__builtin_mul_overflow(p.den, q.den, &d))
          return number::exact_value(n, d);
      }
      return number::inexact_value(a.value * b.value);
    }
    friend number operator-(const number& a) {
      return a.exact && a.num != INTMAX_MIN ? number{true, -a.num, a.den, -a.value} : number::inexact_value(-a.value);
    }
  };

  static number integer_power(number base, std::intmax_t k) {
    if (k < 0) {
      if (base.is(0)) return number::inexact_value(std::pow(base.value, double(k)));
      base = base.exact ? number::exact_value(base.den, base.num) : number::inexact_value(1 / base.value);
      k = -k;
    }
    if (k > 64) return number::inexact_value(std::pow(base.value, double(k)));
    number result = number::exact_value(1, 1);
    for (std::intmax_t i = 0; i < k; ++i) result = result * base;
    return result;
  }

  static Text double_text(double v) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    return Text(buffer, result.ptr);
  }

  static Text key_of(const number& n) {
    if (n.exact) return std::to_string(n.num) + "/" + std::to_string(n.den);
    Text key(1, 'd');
    key += double_text(n.value);
    return key;
  }

  enum class kind { number, atom, sum, product, call, infix };

  struct term {
    number coefficient;
    int rest;
  };
  struct factor {
    int base;
    number exponent;
  };

  struct entry {
    kind what = kind::number;
    number value;                   // number; a sum's constant; a product's coefficient
    Text text;               // atom: its text; call: the function; infix: the operator
    Text latex;              // atom: its LaTeX
    std::vector<term> terms;        // sum
    std::vector<factor> factors;    // product
    std::vector<int> operands;      // call, infix
  };

  // The term graph: every distinct subexpression once, found by a key (built
  // by appending: g++ 12 warns, wrongly, of overlapping copies in "n" + string).
  class graph {
   public:
    std::vector<entry> entries;

    int number_of(const number& n) {
      entry e;
      e.value = n;
      Text key(1, 'n');
      key += key_of(n);
      return intern(std::move(e), std::move(key));
    }
    int atom(Text text, Text latex) {
      entry e;
      e.what = kind::atom;
      e.latex = std::move(latex);
      Text key(1, 'a');
      key += text;
      e.text = std::move(text);
      return intern(std::move(e), std::move(key));
    }
    int call(Text name, std::vector<int> operands) {
      entry e;
      e.what = kind::call;
      Text key(1, 'c');
      key += name;
      for (int o : operands) {
        key += ',';
        key += std::to_string(o);
      }
      e.text = std::move(name);
      e.operands = std::move(operands);
      return intern(std::move(e), std::move(key));
    }
    int infix(Text op, int left, int right) {
      entry e;
      e.what = kind::infix;
      Text key(1, 'i');
      key += op;
      key += std::to_string(left);
      key += ',';
      key += std::to_string(right);
      e.text = std::move(op);
      e.operands = {left, right};
      return intern(std::move(e), std::move(key));
    }

    int add(int a, int b) {
      auto [terms, constant] = as_sum(a);
      auto [more, c2] = as_sum(b);
      terms.insert(terms.end(), more.begin(), more.end());
      return sum(std::move(terms), constant + c2);
    }
    int scale(const number& c, int a) {
      auto [coefficient, factors] = as_product(a);
      return product(c * coefficient, std::move(factors));
    }
    int negate(int a) { return scale(number::exact_value(-1, 1), a); }
    int multiply(int a, int b) {
      auto [c1, factors] = as_product(a);
      auto [c2, more] = as_product(b);
      factors.insert(factors.end(), more.begin(), more.end());
      return product(c1 * c2, std::move(factors));
    }
    int divide(int a, int b) { return multiply(a, power(b, number::exact_value(-1, 1))); }
    // a^k for a number k: an integer power distributes over a product's factors
    // ((x*y^2)^3 = x^3*y^6); another only over a single factor to the first
    // power, since (x^2)^(1/2) is |x|, not x.
    int power(int a, const number& k) {
      if (k.is(0)) return number_of(number::exact_value(1, 1));
      if (k.is(1)) return a;
      auto [coefficient, factors] = as_product(a);
      if (k.integer()) {
        for (auto& f : factors) f.exponent = f.exponent * k;
        return product(integer_power(coefficient, k.num), std::move(factors));
      }
      if (entries[a].what == kind::number && entries[a].value.negative() == false && !entries[a].value.exact)
        return number_of(number::inexact_value(std::pow(entries[a].value.value, k.value)));
      if (coefficient.is(1) && factors.size() == 1 && factors[0].exponent.is(1))
        return product(coefficient, {{factors[0].base, k}});
      return product(number::exact_value(1, 1), {{a, k}});
    }

   private:
    std::unordered_map<Text, int> ids_;

    int intern(entry e, Text key) {
      const auto [it, inserted] = ids_.try_emplace(std::move(key), int(entries.size()));
      if (inserted) entries.push_back(std::move(e));
      return it->second;
    }

    // a as coefficient*rest terms plus a constant.
    std::pair<std::vector<term>, number> as_sum(int a) {
      const entry& e = entries[a];
      if (e.what == kind::number) return {{}, e.value};
      if (e.what == kind::sum) return {e.terms, e.value};
      if (e.what == kind::product && !e.value.is(1))
        return {{{e.value, product(number::exact_value(1, 1), e.factors)}}, number::exact_value(0, 1)};
      return {{{number::exact_value(1, 1), a}}, number::exact_value(0, 1)};
    }
    // a as coefficient times base^exponent factors.
    std::pair<number, std::vector<factor>> as_product(int a) {
      const entry& e = entries[a];
      if (e.what == kind::number) return {e.value, {}};
      if (e.what == kind::product) return {e.value, e.factors};
      return {number::exact_value(1, 1), {{a, number::exact_value(1, 1)}}};
    }

    // Like terms merged (in the order of their first appearance), zeros dropped.
    int sum(std::vector<term> terms, number constant) {
      std::vector<term> merged;
      for (const term& t : terms) {
        auto same = std::find_if(merged.begin(), merged.end(), [&](const term& m) { return m.rest == t.rest; });
        if (same == merged.end())
          merged.push_back(t);
        else
          same->coefficient = same->coefficient + t.coefficient;
      }
      std::erase_if(merged, [](const term& t) { return t.coefficient.is(0); });
      if (merged.empty()) return number_of(constant);
      if (merged.size() == 1 && constant.is(0)) return scale(merged[0].coefficient, merged[0].rest);
      std::vector<term> sorted = merged;
      std::sort(sorted.begin(), sorted.end(), [](const term& a, const term& b) { return a.rest < b.rest; });
      Text key(1, 's');
      key += key_of(constant);
      for (const term& t : sorted) {
        key += ',';
        key += key_of(t.coefficient);
        key += ':';
        key += std::to_string(t.rest);
      }
      entry e;
      e.what = kind::sum;
      e.value = constant;
      e.terms = std::move(merged);
      return intern(std::move(e), std::move(key));
    }

    // Powers of one base merged, zero powers dropped.
    int product(number coefficient, std::vector<factor> factors) {
      std::vector<factor> merged;
      for (const factor& f : factors) {
        auto same = std::find_if(merged.begin(), merged.end(), [&](const factor& m) { return m.base == f.base; });
        if (same == merged.end())
          merged.push_back(f);
        else
          same->exponent = same->exponent + f.exponent;
      }
      std::erase_if(merged, [](const factor& f) { return f.exponent.is(0); });
      if (coefficient.is(0) || merged.empty()) return number_of(coefficient.is(0) ? number::exact_value(0, 1) : coefficient);
      if (coefficient.is(1) && merged.size() == 1 && merged[0].exponent.is(1)) return merged[0].base;
      std::vector<factor> sorted = merged;
      std::sort(sorted.begin(), sorted.end(), [](const factor& a, const factor& b) { return a.base < b.base; });
      Text key(1, 'p');
      key += key_of(coefficient);
      for (const factor& f : sorted) {
        key += ',';
        key += std::to_string(f.base);
        key += '^';
        key += key_of(f.exponent);
      }
      entry e;
      e.what = kind::product;
      e.value = coefficient;
      e.factors = std::move(merged);
      return intern(std::move(e), std::move(key));
    }
  };

  // ---- from an expression ---------------------------------------------------

  static Text latex_of_name(std::string_view name) {
    // x, x1 -> x_{1}, fc1.weight -> \mathrm{fc1.weight}
    Text escaped;
    for (char c : name) escaped += c == '_' ? Text("\\_") : Text(1, c);
    if (name.size() == 1) return escaped;
    const auto digits = name.find_first_of("0123456789");
    if (digits != name.npos && digits > 0 && name.find_first_not_of("0123456789", digits) == name.npos &&
        name.find_first_of("._") == name.npos)
      return Text(name.substr(0, digits)) + "_{" + Text(name.substr(digits)) + "}";
    return "\\mathrm{" + escaped + "}";
  }

  static Text latex_of_constant(std::string_view name) {
    if (name == "pi") return "\\pi";
    if (name == "sqrt(2)") return "\\sqrt{2}";
    if (name == "2/sqrt(pi)") return "\\frac{2}{\\sqrt{\\pi}}";
    if (name == "1/sqrt(2*pi)") return "\\frac{1}{\\sqrt{2 \\pi}}";
    return "\\mathrm{" + Text(name) + "}";
  }

  struct builder {
    graph& g;
    std::span<const double> constants;  // the slots of a labelled expression
    std::unordered_map<const void*, int> done{};

    template <class E>
    int build(const E& e) {
      if constexpr (std::is_empty_v<E> && !is_symbol<E> && !is_exact<E>) {
        // A stateless node is its type: built once however often it is reached.
        static constexpr char tag = 0;
        if (const auto it = done.find(&tag); it != done.end()) return it->second;
        const int id = build_new(e);
        done.emplace(&tag, id);
        return id;
      } else
        return build_new(e);
    }

    template <class E>
    int build_new(const E& e) {
      if constexpr (is_symbol<E>)
        return g.atom(Text(E::name.view()), latex_of_name(E::name.view()));
      else if constexpr (is_exact<E>)
        return g.number_of(number::exact_value(E::value.num, E::value.den));
      else if constexpr (is_constant<E>) {
        if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(e.value)>>)
          return g.number_of(number::inexact_value(double(e.value)));
        else {
          const Text text = print(e).text;
          return g.atom(text, "\\mathrm{" + text + "}");
        }
      } else if constexpr (is_math_constant<E>)
        return g.atom(Text(E::name), latex_of_constant(E::name));
      else if constexpr (is_with_constants<E>) {
        builder inner{g, std::span<const double>(e.constants)};
        return inner.build(typename E::structure{});
      } else if constexpr (is_slot<E>) {
        if (E::slot < constants.size()) return g.number_of(number::inexact_value(constants[E::slot]));
        return g.atom("c" + std::to_string(E::slot), "c_{" + std::to_string(E::slot) + "}");
      } else if constexpr (is_node<E>) {
        return build_node(e);
      } else {
        const Text text = print(e).text;
        return g.atom(text, "\\mathrm{" + text + "}");
      }
    }

    template <class Op, class... Operands>
    int build_node(const node<Op, Operands...>& n) {
      // Operands are built left to right (never as two arguments of one call,
      // whose order is unspecified): the first met prints first.
      const auto operand = [&]<std::size_t I>() { return build(operand_at<I>(n)); };
      if constexpr (std::is_same_v<Op, add_op>) {
        const int a = operand.template operator()<0>();
        return g.add(a, operand.template operator()<1>());
      } else if constexpr (std::is_same_v<Op, sub_op>) {
        const int a = operand.template operator()<0>();
        return g.add(a, g.negate(operand.template operator()<1>()));
      } else if constexpr (std::is_same_v<Op, mul_op>) {
        const int a = operand.template operator()<0>();
        return g.multiply(a, operand.template operator()<1>());
      } else if constexpr (std::is_same_v<Op, div_op>) {
        const int a = operand.template operator()<0>();
        return g.divide(a, operand.template operator()<1>());
      } else if constexpr (std::is_same_v<Op, neg_op>)
        return g.negate(operand.template operator()<0>());
      else if constexpr (std::is_same_v<Op, square_op>)
        return g.power(operand.template operator()<0>(), number::exact_value(2, 1));
      else if constexpr (std::is_same_v<Op, pow_op>) {
        const int a = operand.template operator()<0>();
        const int k = operand.template operator()<1>();
        if (g.entries[k].what == kind::number) return g.power(a, g.entries[k].value);
        return g.infix("^", a, k);
      } else if constexpr (requires { Op::infix; }) {
        const int a = operand.template operator()<0>();
        return g.infix(Text(Op::infix), a, operand.template operator()<1>());
      } else if constexpr (requires { Op::name; }) {
        std::vector<int> operands;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
          (operands.push_back(operand.template operator()<I>()), ...);
        }(std::index_sequence_for<Operands...>{});
        return g.call(Text(Op::name), std::move(operands));
      } else {
        const Text text = print(n).text;
        return g.atom(text, "\\mathrm{" + text + "}");
      }
    }
  };

  // ---- to text ----------------------------------------------------------------

  struct piece {
    Text text;
    strength binding;
  };

  // One printer for both notations: the differences are in `latex` branches.
  struct printer {
    const graph& g;
    bool latex;
    std::vector<Text> names;  // a temporary's name per entry, or empty
    int defining = -1;               // the temporary being defined prints in full

    Text number_text(const number& n) const {
      if (n.exact) {
        if (n.den == 1) return std::to_string(n.num);
        if (latex)
          return (n.num < 0 ? "- \\frac{" : "\\frac{") + std::to_string(n.num < 0 ? -n.num : n.num) + "}{" +
                 std::to_string(n.den) + "}";
        return std::to_string(n.num) + "/" + std::to_string(n.den);
      }
      Text text = double_text(n.value);
      if (latex) {
        if (const auto e = text.find('e'); e != text.npos) {
          Text exponent = text.substr(e + 1);
          if (exponent.front() == '+') exponent.erase(0, 1);
          text = text.substr(0, e) + " \\cdot 10^{" + exponent + "}";
        }
      }
      return text;
    }
    piece number_piece(const number& n) const {
      const Text text = number_text(n);
      return {text, n.negative()      ? strength::negation
                    : !n.integer() && n.exact ? strength::product
                                            : strength::atom};
    }

    Text wrap(const piece& p, strength below) const {
      if (p.binding > below) return p.text;
      return latex ? "\\left(" + p.text + "\\right)" : "(" + p.text + ")";
    }

    Text exponent_text(const number& k) const {
      if (latex) return "^{" + number_text(k) + "}";
      if (k.integer() && k.num >= 0) return "^" + std::to_string(k.num);
      if (!k.exact && !k.negative()) return "^" + number_text(k);
      return "^(" + number_text(k) + ")";
    }

    Text factor_text(const factor& f) const {
      const piece base = print(f.base);
      if (f.exponent.is(1)) return wrap(base, strength::product);
      return wrap(base, strength::power) + exponent_text(f.exponent);
    }

    // coefficient * factors, with the factors of negative exponents below a
    // fraction bar: 2*x*y^2/(x^2 + 2)^2.
    piece product_text(number coefficient, const std::vector<factor>& factors) const {
      const bool negative = coefficient.negative();
      if (negative) coefficient = -coefficient;
      std::vector<Text> above, below;
      if (coefficient.exact) {
        if (coefficient.num != 1) above.push_back(std::to_string(coefficient.num));
        if (coefficient.den != 1) below.push_back(std::to_string(coefficient.den));
      } else if (!coefficient.is(1))
        above.push_back(number_text(coefficient));
      Text lone_below;  // a denominator of one factor to the first power, unwrapped
      for (const factor& f : factors) {
        if (f.exponent.negative()) {
          below.push_back(factor_text({f.base, -f.exponent}));
          if (f.exponent.is(-1)) lone_below = print(f.base).text;
        } else
          above.push_back(factor_text(f));
      }
      if (below.size() == 1 && !lone_below.empty() && latex) below[0] = lone_below;
      const auto joined = [&](const std::vector<Text>& parts) {
        Text text;
        for (std::size_t i = 0; i < parts.size(); ++i) {
          if (i > 0) {
            const bool number_follows = !parts[i].empty() && (std::isdigit(parts[i][0]) || parts[i][0] == '.');
            text += latex ? (number_follows ? " \\cdot " : " ") : "*";
          }
          text += parts[i];
        }
        return text;
      };
      Text text;
      if (latex)
        text = below.empty() ? joined(above)
                             : "\\frac{" + (above.empty() ? Text("1") : joined(above)) + "}{" + joined(below) + "}";
      else {
        text = above.empty() ? "1" : joined(above);
        if (below.size() == 1)
          text += "/" + below[0];
        else if (!below.empty())
          text += "/(" + joined(below) + ")";
      }
      if (negative) return {"-" + (latex ? Text(" ") : Text()) + text, strength::negation};
      return {text, above.size() + below.size() == 1 && below.empty() ? strength::power : strength::product};
    }

    // Terms in the order they were first met, the constant last; a sum that
    // would start with a minus starts with its first positive term (1 - x).
    piece sum_text(const entry& e) const {
      std::vector<Text> terms;
      for (const term& t : e.terms) {
        const entry& rest = g.entries[t.rest];
        if (rest.what == kind::product && names[t.rest].empty())
          terms.push_back(wrap(product_text(t.coefficient * rest.value, rest.factors), strength::sum));
        else
          terms.push_back(wrap(product_text(t.coefficient, {{t.rest, number::exact_value(1, 1)}}), strength::sum));
      }
      if (!e.value.is(0)) terms.push_back(wrap(number_piece(e.value), strength::sum));
      const auto positive = std::find_if(terms.begin(), terms.end(), [](const Text& t) { return t.front() != '-'; });
      if (positive != terms.end()) std::rotate(terms.begin(), positive, positive + 1);
      Text text = terms[0];
      for (std::size_t i = 1; i < terms.size(); ++i) {
        const Text& t = terms[i];
        if (t.starts_with("- "))
          text += " - " + t.substr(2);
        else if (t.front() == '-')
          text += " - " + t.substr(1);
        else
          text += " + " + t;
      }
      return {text, strength::sum};
    }

    piece call_text(const entry& e) const {
      std::vector<Text> arguments;
      for (int o : e.operands) arguments.push_back(print(o).text);
      Text list;
      for (std::size_t i = 0; i < arguments.size(); ++i) list += (i ? ", " : "") + arguments[i];
      if (!latex) return {e.text + "(" + list + ")", strength::atom};
      if (e.text == "sqrt") return {"\\sqrt{" + list + "}", strength::atom};
      if (e.text == "exp") return {"e^{" + list + "}", strength::atom};
      if (e.text == "abs") return {"\\left|" + list + "\\right|", strength::atom};
      static constexpr std::pair<std::string_view, std::string_view> known[] = {
          {"sin", "\\sin"},       {"cos", "\\cos"},       {"tan", "\\tan"},       {"log", "\\log"},
          {"tanh", "\\tanh"},     {"sinh", "\\sinh"},     {"cosh", "\\cosh"},     {"asin", "\\arcsin"},
          {"acos", "\\arccos"},   {"atan", "\\arctan"},   {"max", "\\max"},       {"min", "\\min"}};
      Text name = "\\operatorname{";
      for (char c : e.text) name += c == '_' ? Text("\\_") : Text(1, c);
      name += "}";
      for (const auto& [plain, tex] : known)
        if (e.text == plain) name = Text(tex);
      return {name + "{\\left(" + list + "\\right)}", strength::atom};
    }

    // t3, or t_{3} in LaTeX.
    Text name_of(int id) const {
      const Text& name = names[id];
      if (!latex) return name;
      const auto digits = name.find_first_of("0123456789");
      return name.substr(0, digits) + "_{" + name.substr(digits) + "}";
    }

    piece print(int id) const {
      if (!names[id].empty() && id != defining) return {name_of(id), strength::atom};
      const entry& e = g.entries[id];
      switch (e.what) {
        case kind::number:
          return number_piece(e.value);
        case kind::atom:
          return {latex ? e.latex : e.text, strength::atom};
        case kind::sum:
          return sum_text(e);
        case kind::product:
          return product_text(e.value, e.factors);
        case kind::call:
          return call_text(e);
        case kind::infix: {
          const bool power = e.text == "^";
          const piece left = print(e.operands[0]), right = print(e.operands[1]);
          if (power)
            return {wrap(left, strength::power) + (latex ? "^{" + right.text + "}" : "^" + wrap(right, strength::power)),
                    strength::power};
          Text op = e.text;
          if (latex) {
            if (op == " <= ") op = " \\leq ";
            if (op == " >= ") op = " \\geq ";
          }
          return {wrap(left, strength::comparison) + op + wrap(right, strength::comparison), strength::comparison};
        }
      }
      return {"", strength::atom};
    }
  };

  // The operands of an entry, once per occurrence.
  template <class F>
  static void for_each_operand(const entry& e, F f) {
    for (const term& t : e.terms) f(t.rest);
    for (const factor& x : e.factors) f(x.base);
    for (int o : e.operands) f(o);
  }

  // Names for the entries reachable from root more than once (numbers and atoms
  // excepted) whose naming shortens the text, children before parents: t0, t1,
  // ... (or another letter if the expression has symbols of that form). A
  // temporary costs its definition: `x^2 + 2` used twice is worth a name, `x*y`
  // is not.
  static std::vector<int> name_shared_entries(const graph& g, int root, printer& p) {
    std::vector<int> uses(g.entries.size(), 0), order;
    std::vector<bool> seen(g.entries.size(), false);
    // Depth-first from the root, iteratively (a deep chain would overflow the stack).
    std::vector<std::pair<int, bool>> stack{{root, false}};
    seen[root] = true;
    while (!stack.empty()) {
      auto [id, expanded] = stack.back();
      stack.pop_back();
      if (expanded) {
        order.push_back(id);
        continue;
      }
      stack.push_back({id, true});
      for_each_operand(g.entries[id], [&](int o) {
        ++uses[o];
        if (!seen[o]) {
          seen[o] = true;
          stack.push_back({o, false});
        }
      });
    }
    std::unordered_set<Text> taken;
    for (const entry& e : g.entries)
      if (e.what == kind::atom) taken.insert(e.text);
    Text prefix = "t";
    for (Text candidate : {"t", "u", "w", "tmp"}) {
      prefix = candidate;
      if (std::none_of(taken.begin(), taken.end(), [&](const Text& name) {
            return name.size() > candidate.size() && name.starts_with(candidate) &&
                   name.find_first_not_of("0123456789", candidate.size()) == name.npos;
          }))
        break;
    }
    std::vector<int> shared;
    for (int id : order) {
      const kind k = g.entries[id].what;
      if (uses[id] < 2 || k == kind::number || k == kind::atom) continue;
      const std::size_t length = p.print(id).text.size();
      const Text name = prefix + std::to_string(shared.size());
      // Written uses times in full, or once in a definition `name = text` and uses times as the name.
      if ((uses[id] - 1) * length > (uses[id] + 1) * name.size() + 1) {
        p.names[id] = name;
        shared.push_back(id);
      }
    }
    return shared;
  }

  template <class E>
  static Text print_compact(const E& e, print_options options, bool latex) {
    graph g;
    builder b{g, {}};
    const int root = b.build(e);
    printer p{g, latex, std::vector<Text>(g.entries.size())};
    std::vector<int> shared;
    if (options.share_subexpressions) shared = name_shared_entries(g, root, p);
    Text text = p.print(root).text;
    if (shared.empty()) return text;
    text += latex ? " \\quad \\text{where} \\quad " : "\nwhere\n";
    for (std::size_t i = 0; i < shared.size(); ++i) {
      p.defining = shared[i];
      const Text name = p.name_of(shared[i]);
      if (latex)
        text += (i ? ",\\; " : "") + name + " = " + p.print(shared[i]).text;
      else
        text += "  " + name + " = " + p.print(shared[i]).text + (i + 1 < shared.size() ? "\n" : "");
    }
    return text;
  }

};

}  // namespace detail::compact

// e printed compactly: repeated factors collected into powers, like terms
// into one, and (with options.share_subexpressions) each subexpression used
// more than once printed once as a temporary in a `where` block:
//   -4*x/t0^2 + 8*x^3/t0^3
// or, with sharing,
//   0.3*t1*t2*(1 - t2)/t0^2 ...
//   where
//     t0 = x^2 + 2
//     t1 = exp(0.3*x/t0)
template <expression E>
std::string to_compact_string(const E& e, print_options options = {}) {
  return detail::compact::engine<std::string>::print_compact(e, options, false);
}

// e as LaTeX, collected as by to_compact_string; shared subexpressions are
// defined after "\quad \text{where} \quad" as t_{0} = ..., t_{1} = ....
template <expression E>
std::string to_latex(const E& e, print_options options = {}) {
  return detail::compact::engine<std::string>::print_compact(e, options, true);
}

}  // namespace tapeless
