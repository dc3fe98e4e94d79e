#!/usr/bin/env python3
"""Reference values of scalar formulas and their derivatives, computed by SymPy.

Writes scalar_derivatives.inc next to this file: for every formula of the
catalogue below, its tapeless expression, a box of the inputs where it is
smooth, and at two or three points its value, every first derivative and every
second derivative (mixed ones too), which tests/diff/sympy_catalogue*.cpp
compare with what tapeless derives at compile time.

Run it with Debian's SymPy (python3-sympy):

    python3 tests/reference/scalar_derivatives.py          # rewrite the .inc
    python3 tests/reference/scalar_derivatives.py --check  # is the .inc up to date?

Each formula is written once, in a notation that is a Python expression for
SymPy and translates word for word into C++:

    x, y, z                   the variables, tl::var<"x"> ...
    2, 0.5                    plain numbers: run-time constants in C++
    c(3), c(-1, 2)            exact constants: 3_c, tl::c<-1, 2>
    + - * / and unary -
    exp log sin cos tan tanh sigmoid relu sqrt abs square step heaviside sign
    pow(a, k), max(a, b), min(a, b)
    a < b, a > b, a <= b, a >= b (1 or 0), where(c, a, b), clamp(a, lo, hi)
    erf erfc normal_cdf atan asin acos sinh cosh asinh log1p expm1 cbrt,
    atan2(y, x), hypot(a, b), and the constants pi and sqrt2: tl::pi, tl::sqrt2

SymPy reads sigmoid(a) as 1/(1 + exp(-a)), relu(a) as Max(a, 0), step and
heaviside as Heaviside and square(a) as a**2, a comparison as
Piecewise((1, a < b), (0, True)), where(c, a, b) as Piecewise((a, Ne(c, 0)),
(b, True)) and clamp(a, lo, hi) as Min(Max(a, lo), hi). A plain number is read as the
exact value of the double C++ makes of it, and the points as the doubles
they are, so the reference is the exact derivative at the point tapeless sees.
"""
import ast
import itertools
import math
import pathlib
import sys
import textwrap

import sympy as sp

OUTPUT = pathlib.Path(__file__).resolve().with_name("scalar_derivatives.inc")
DIGITS = 40  # SymPy works to 40 digits; the .inc holds the nearest double
VARIABLES = ("x", "y", "z")

# A point must be this far from a kink, a tie, a pole or the edge of a domain
# (|argument| >= POINT_MARGIN), and a whole random-point box a bit less far.
POINT_MARGIN = 0.05
BOX_MARGIN = 0.01
BOX_SAMPLES_PER_AXIS = 9

# Default reference points: these fractions of the box along each axis.
DEFAULT_FRACTIONS = ((0.3, 0.65, 0.45), (0.8, 0.15, 0.7), (0.55, 0.9, 0.2))


class Formula:
    """One catalogue entry.

    box: the interval of every variable, or one interval per variable, where
      the formula is smooth; the finite-difference test draws points from it.
    at: the reference points (default: three points inside the box).
    library_bug: why tapeless cannot run the entry yet; it is written to the
      .inc commented out until the bug is fixed.
    """

    def __init__(self, text, box=(-2.0, 2.0), at=None, library_bug=None):
        self.text = text
        self.box = box
        self.at = at
        self.library_bug = library_bug


F = Formula


CATALOGUE = [
    # ---- + - * / and unary minus ------------------------------------------
    F("x + y"),
    F("x - y"),
    F("x*y"),
    F("x/y", box=[(-2, 2), (0.5, 2)]),
    F("-x"),
    F("-(x*y) + -y"),
    F("-(-x)*y"),
    F("x - x + y*y"),
    F("x*x/x + y", box=[(0.3, 2), (-2, 2)]),
    F("2.5*x*y - 0.75/y", box=[(-2, 2), (0.5, 2)]),
    F("x*y*z"),
    F("x/(y*z)", box=[(-2, 2), (0.5, 2), (0.5, 2)]),
    F("x/y/z", box=[(-2, 2), (-2, -0.5), (0.5, 2)]),
    F("(x - y)*(y - z)*(z - x)"),
    F("-(x - y)*-(y + z)"),
    F("(x*y + y*z + z*x)/(x*y*z)", box=(0.5, 2)),
    # ---- polynomials and rational functions (also checked at compile time) -
    F("x*x*x - c(2)*x + c(1)"),
    F("(x + c(1))*(x - c(2))*(x + c(3))"),
    F("c(1, 2)*x*x*y - c(3)*x*y*y + y"),
    F("square(c(1) - x) + c(100)*square(y - x*x)"),  # Rosenbrock
    F("(x*y + c(1))/(x - y)", box=[(0.5, 1.5), (-2, -0.5)]),
    F("c(1)/(c(1) + x*x)"),
    F("(x*x - y)/(x + y*y)", box=(0.5, 2)),
    F("3*x*x*y*z - 2*y*z*z + x"),
    # ---- exp, log, sin, cos, tan, tanh -------------------------------------
    F("exp(x)"),
    F("exp(-x*x/2)"),
    F("log(x)", box=(0.2, 3)),
    F("log(x*x + y*y)", box=(0.5, 2)),
    F("sin(x)*cos(x)"),
    F("sin(x*y) + exp(x)/y", box=[(-2, 2), (0.5, 3)]),
    F("cos(x - y)*exp(x*y)"),
    F("tan(x)", box=(-1.2, 1.2)),
    F("tan(x*y)", box=(-1, 1)),
    F("tanh(x)"),
    F("tanh(x + 2*y)", box=(-1, 1)),
    F("exp(x)*log(y)*sin(z)", box=[(-1, 1), (0.5, 2), (-2, 2)]),
    # ---- sigmoid, relu, sqrt, abs, square, step, heaviside, sign -----------
    F("sigmoid(x)"),
    F("sigmoid(x*y - 1)"),
    F("relu(x)", box=(0.2, 2), at=[(0.7,), (-1.3,)]),
    F("relu(x*y - 1)*y", box=(1.2, 2), at=[(1.5, 1.25), (0.5, 0.5), (-1.5, 0.75)]),
    F("sqrt(x)", box=(0.2, 3)),
    F("sqrt(x*x + y*y)", box=(0.5, 2)),
    F("abs(x)*x", box=(0.2, 2), at=[(0.7,), (-1.3,)]),
    F("abs(x - y)*y", box=[(0.8, 2), (-1, 0.5)], at=[(1.5, 0.25), (-0.5, 1.25)]),
    F("square(x)"),
    F("square(x - y) + square(x + y)"),
    F("square(sin(x*y))"),
    F("step(x)*x*y + heaviside(y)*y", box=(0.2, 2), at=[(0.5, 1.5), (-0.75, -1.25), (1.25, -0.5)]),
    F("sign(x)*y*y + sign(y)*x", box=(0.2, 2), at=[(0.5, 1.5), (-0.75, -1.25)]),
    # ---- pow: exact integer, negative, rational; real; symbolic ------------
    F("pow(x, c(3))"),
    F("pow(x*y + 1, c(4))", box=(-1, 1)),
    F("pow(x, c(-2))", box=(0.5, 2), at=[(0.75,), (-1.5,)]),
    F("pow(x + y, c(-3))", box=(0.5, 2)),
    F("pow(x, c(1, 3))", box=(0.2, 3)),
    F("pow(x*y, c(3, 2))", box=(0.3, 2)),
    F("pow(x, c(-1, 2))", box=(0.2, 3)),
    F("pow(x, 2.5)", box=(0.2, 3)),
    F("pow(x*y, 0.3)", box=(0.3, 2)),
    F("pow(x, 3)"),
    F("pow(y, -1.5)*x", box=[(-2, 2), (0.3, 2)]),
    F("pow(x, y)", box=[(0.3, 3), (-2, 2)]),
    F("pow(x, x)", box=(0.3, 2)),
    F("pow(x*y, z)", box=[(0.3, 2), (0.3, 2), (-2, 2)]),
    F("pow(c(2), x)*y"),
    F("pow(sin(x) + 2, cos(y))"),
    F("pow(x, c(2))*pow(x, c(3))*y"),
    F("pow(pow(x, c(2)), c(3)) + pow(y, c(1, 2))*pow(y, c(1, 2))", box=[(-1, 1), (0.3, 2)]),
    # ---- the simplifier at work: folding, cancelling, merging --------------
    F("exp(log(x))*y", box=[(0.3, 2), (-2, 2)]),
    F("log(exp(x*y))"),
    F("x/x*y", box=[(0.3, 2), (-2, 2)]),
    F("(x - y) - (x - y) + x*z"),
    F("x + x + x*y + c(2)*x"),
    F("x*x*x*x*y"),
    F("-(-(x*y))"),
    F("pow(sqrt(x), c(2)) + pow(pow(x, c(1, 2)), c(4))", box=(0.3, 2)),
    F("pow(x, c(-3, 2))*y", box=[(0.3, 2), (-2, 2)]),
    F("sin(x)/x", box=(0.3, 2)),
    F("tanh(x)*tanh(x) + sigmoid(x)*sigmoid(-x)"),
    # ---- max and min -------------------------------------------------------
    F("max(x, y)", box=[(0.5, 2), (-2, 0)], at=[(1.25, -0.5), (-0.75, 0.5)]),
    F("min(x, y)", box=[(0.5, 2), (-2, 0)], at=[(1.25, -0.5), (-0.75, 0.5)]),
    F("max(x*y, x + y)", box=(2.2, 3), at=[(2.5, 2.75), (2.5, 1.5), (0.5, 0.25)]),
    F("min(sin(x), cos(y))*x", box=[(0.8, 1.5), (1.2, 1.5)], at=[(1.25, 1.3), (0.25, 0.5)]),
    F("max(x, y) + min(x, y)", box=[(0.5, 2), (-2, 0)], at=[(1.25, -0.5), (-0.75, 0.5)]),
    F("max(x, 0.5)*y + min(y, c(1))", box=[(0.8, 2), (-1, 0.6)], at=[(1.25, 0.25), (0.25, 1.5)]),
    F("max(x, y)*min(y, z)", box=[(1.5, 2), (0.5, 1), (-1, 0)],
      at=[(1.75, 0.75, -0.5), (0.25, 1.5, 1.75), (-1.5, 0.5, 0.25)]),
    # ---- comparisons, where and clamp (nodes of three operands) --------------
    F("(x < y)*x*y + (x >= y)*sin(y)", box=[(0.5, 2), (-2, 0)], at=[(1.25, -0.5), (-0.75, 0.5)]),
    F("where(x < y, x*y, sin(x) + y)", box=[(0.5, 2), (-2, 0)], at=[(1.25, -0.5), (-0.75, 0.5)]),
    F("where(x > 0.5, exp(x), 1.5*x*x)", box=(0.7, 2), at=[(1.2,), (-0.4,), (0.25,)]),
    F("tanh(where(x >= c(0), x*x, -x*x*x)*y)", box=[(0.2, 1), (-1, 1)],
      at=[(0.5, 0.75), (-0.75, 0.5), (-0.25, -1.25)]),
    F("where(x*y - 1, x, y*y)", box=(1.2, 2), at=[(1.5, 1.25), (-0.5, 0.5)]),
    F("clamp(x, 0.25, 0.75)*y", box=[(0.3, 0.7), (-2, 2)], at=[(0.5, 1.5), (0.1, -1.0), (1.2, 0.5)]),
    F("clamp(x*y, c(-1), c(1))", box=(-0.9, 0.9), at=[(0.5, 0.5), (1.5, 1.25), (-1.5, 1.25)]),
    F("clamp(x, y, z)", box=[(0, 0.5), (-1, -0.5), (1, 2)],
      at=[(0.25, -0.75, 1.5), (-1.25, -0.75, 1.5), (1.75, -0.5, 1.25), (0.5, 1.5, 1.0)]),
    F("where(x < 0.5, 2.5*x, x*x)*clamp(y - 0.5, 0.1, 1.5)", box=[(-1, 0.3), (1, 1.8)],
      at=[(0.25, 1.25), (1.25, 0.25), (0.75, 2.5)]),
    F("where(x < y, clamp(x, c(-1), y), sigmoid(x - y))", box=[(-0.9, 0), (0.5, 1)],
      at=[(-0.5, 0.75), (1.5, 0.25), (-1.5, 0.5)]),
    # ---- erf, the normal CDF, inverse trigonometric, hyperbolic, accurate forms
    F("erf(x)"),
    F("erfc(x*y)", box=(-1.5, 1.5)),
    F("normal_cdf(x)*y"),
    F("erf(x)*erfc(y) + normal_cdf(x - y)"),
    F("normal_cdf(x/sqrt2)*pi"),
    F("exp(-x*x/2)/sqrt(c(2)*pi)*y"),
    F("atan(x*y)"),
    F("asin(x)", box=(-0.8, 0.8)),
    F("acos(x*y)", box=(-0.8, 0.8)),
    F("atan2(y, x)", box=[(0.5, 2), (-2, 2)], at=[(1.25, -0.5), (-0.75, 0.5), (-1.5, -1.0)]),
    F("atan2(x*y, x + 3)", box=(-1.5, 1.5)),
    F("sinh(x)*cosh(y)"),
    F("asinh(x*y)"),
    F("log1p(x*x) + log1p(y)", box=[(-2, 2), (-0.5, 2)]),
    F("expm1(x)*y"),
    F("hypot(x, y)", box=(0.5, 2)),
    F("hypot(x*y, 2.0)"),
    F("cbrt(x)", box=(0.2, 3)),
    F("cbrt(x*y + 3)", box=(-1, 1)),
    F("pi*x*x + sqrt2*y"),
    # ---- compositions: deep nesting ----------------------------------------
    F("exp(sin(cos(tan(x*y + z))))", box=(-0.5, 0.5)),
    F("sin(sin(sin(sin(sin(sin(x))))))"),
    F("tanh(tanh(tanh(x*y)))"),
    F("log(1 + exp(x))"),
    F("sqrt(1 + square(sin(x*y)))"),
    F("log(1 + exp(-y*(x*z)))"),
    F("sigmoid(2*x - y + z)*tanh(x*z)"),
    F("relu(x*y - z) + relu(z - x)", box=[(0.5, 1), (1.5, 2), (-1, 0)],
      at=[(0.75, 1.75, -0.5), (-1.25, 0.5, 0.75)]),
    # ---- compositions: shared subexpressions -------------------------------
    F("sin(x*y)*cos(x*y) + x*y"),
    F("exp(x*y)/(1 + exp(x*y))"),
    F("log(x*y)*log(x*y) + log(x*y)", box=(0.3, 2)),
    F("(x + y)*(x + y)*(x + y)"),
    F("sqrt(x*x + y*y + z*z)*exp(-sqrt(x*x + y*y + z*z))", box=(0.5, 2)),
    # ---- compositions: three variables -------------------------------------
    F("x*y*z*sin(x + y + z)"),
    F("exp(x*y*z)", box=(-1, 1)),
    F("log(x*y*z)", box=(0.3, 2)),
    F("x*exp(-y)*sin(z)"),
    # the normal log-density
    F("-(x - y)*(x - y)/(2*z*z) - log(z)", box=[(-2, 2), (-2, 2), (0.5, 2)]),
    F("(x*y - z)/(x + y*z)", box=(0.5, 2)),
    F("x*y*z/(x + y + z)", box=(0.5, 2)),
    F("tanh(x*y + z)*sigmoid(x - z)/(1 + y*y)"),
]


# ---- the notation, translated ------------------------------------------------

UNARY = {
    "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "relu": lambda a: sp.Max(a, 0),
    "sqrt": sp.sqrt, "abs": sp.Abs,
    "square": lambda a: a**2,
    "step": sp.Heaviside, "heaviside": sp.Heaviside, "sign": sp.sign,
    "erf": sp.erf, "erfc": sp.erfc,
    "normal_cdf": lambda a: (1 + sp.erf(a / sp.sqrt(2))) / 2,
    "atan": sp.atan, "asin": sp.asin, "acos": sp.acos,
    "sinh": sp.sinh, "cosh": sp.cosh, "asinh": sp.asinh,
    "log1p": lambda a: sp.log(1 + a), "expm1": lambda a: sp.exp(a) - 1,
    "cbrt": sp.cbrt,
}
# Irrational constants: their C++ names and their values.
CONSTANTS = {"pi": ("tl::pi", sp.pi), "sqrt2": ("tl::sqrt2", sp.sqrt(2))}
# Functions whose derivative jumps where their argument is 0.
KINKED = {"relu", "abs", "step", "heaviside", "sign"}
# Functions tapeless evaluates in constexpr (plain comparisons and arithmetic).
CONSTEXPR_FUNCTIONS = {"relu", "abs", "square", "step", "heaviside", "sign", "max", "min",
                       "where", "clamp"}

ATOM, UNARY_MINUS, PRODUCT, SUM, COMPARISON = 4, 3, 2, 1, 0
BINARY = {ast.Add: (" + ", SUM), ast.Sub: (" - ", SUM), ast.Mult: (" * ", PRODUCT),
          ast.Div: (" / ", PRODUCT)}
COMPARE = {ast.Lt: (" < ", sp.StrictLessThan), ast.Gt: (" > ", sp.StrictGreaterThan),
           ast.LtE: (" <= ", sp.LessThan), ast.GtE: (" >= ", sp.GreaterThan)}


class Translation:
    """A formula as a SymPy expression and as C++ source, plus the conditions
    (no kink, positive, non-zero) its arguments must meet for it to be smooth."""

    def __init__(self, text, symbols):
        self.symbols = symbols
        self.kinks, self.positive, self.nonzero = [], [], []
        self.evaluates_at_compile_time = True
        self.names = set()
        self.sympy, self.cpp, _ = self.visit(ast.parse(text, mode="eval").body)
        # The variables written, even where SymPy cancels them (x - x).
        self.variables = [v for v in VARIABLES if v in self.names]

    def visit(self, node):
        """(SymPy expression, C++ text, C++ precedence of that text)."""
        if isinstance(node, ast.Name) and node.id in CONSTANTS:
            cpp, value = CONSTANTS[node.id]
            return value, cpp, ATOM
        if isinstance(node, ast.Name):
            if node.id not in VARIABLES:
                raise ValueError(f"unknown variable {node.id}")
            self.names.add(node.id)
            return self.symbols[node.id], node.id, ATOM
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return sp.Rational(node.value), repr(node.value), ATOM
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value, text, precedence = self.visit(node.operand)
            return -value, "-" + (text if precedence == ATOM else f"({text})"), UNARY_MINUS
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            if is_number(node.left) and is_number(node.right):
                raise ValueError("C++ would compute a number op number in plain arithmetic")
            infix, own = BINARY[type(node.op)]
            a, a_text, a_precedence = self.visit(node.left)
            b, b_text, b_precedence = self.visit(node.right)
            # The right operand keeps its parentheses at equal precedence, so the
            # C++ tree is the tree written: a + (b + c) is not (a + b) + c.
            a_text = a_text if a_precedence >= own else f"({a_text})"
            b_text = b_text if b_precedence > own else f"({b_text})"
            if isinstance(node.op, ast.Div):
                self.nonzero.append(b)
            value = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b, ast.Div: a / b}[type(node.op)]
            return value, a_text + infix + b_text, own
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE:
            infix, relation = COMPARE[type(node.ops[0])]
            a, a_text, a_precedence = self.visit(node.left)
            b, b_text, _ = self.visit(node.comparators[0])
            if a_precedence == COMPARISON:
                a_text = f"({a_text})"
            self.kinks.append(a - b)
            return sp.Piecewise((1, relation(a, b)), (0, True)), a_text + infix + b_text, COMPARISON
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node.func.id, node.args)
        raise ValueError(f"not part of the notation: {ast.unparse(node)}")

    def call(self, name, args):
        if name == "c":
            numbers = [literal_int(a) for a in args]
            if len(numbers) == 1 and numbers[0] >= 0:
                return sp.Integer(numbers[0]), f"{numbers[0]}_c", ATOM
            return (sp.Rational(*numbers), "tl::c<" + ", ".join(map(str, numbers)) + ">", ATOM)
        operands = [self.visit(a) for a in args]
        values = [value for value, _, _ in operands]
        cpp = f"tl::{name}(" + ", ".join(text for _, text, _ in operands) + ")"
        if name not in CONSTEXPR_FUNCTIONS and name != "pow":
            self.evaluates_at_compile_time = False
        if name in UNARY and len(values) == 1:
            (a,) = values
            if name in KINKED:
                self.kinks.append(a)
            elif name in ("log", "sqrt", "cbrt"):
                self.positive.append(a)  # cbrt: SymPy's principal root is real for a > 0
            elif name in ("asin", "acos"):
                self.positive.append(1 - a**2)
            elif name == "log1p":
                self.positive.append(1 + a)
            elif name == "tan":
                self.nonzero.append(sp.cos(a))
            return UNARY[name](a), cpp, ATOM
        if name in ("max", "min") and len(values) == 2:
            a, b = values
            self.kinks.append(a - b)
            return (sp.Max if name == "max" else sp.Min)(a, b), cpp, ATOM
        if name == "pow" and len(values) == 2:
            a, k = values
            exact_exponent = is_exact_constant(args[1])
            if not (exact_exponent and k.is_integer and abs(k) <= 64):
                self.evaluates_at_compile_time = False
            if not k.is_integer:
                self.positive.append(a)  # a non-integer or symbolic exponent needs a > 0
            elif k < 0:
                self.nonzero.append(a)
            return a**k, cpp, ATOM
        if name == "atan2" and len(values) == 2:
            b, a = values
            self.nonzero.append(a**2 + b**2)
            return sp.atan2(b, a), cpp, ATOM
        if name == "hypot" and len(values) == 2:
            a, b = values
            self.nonzero.append(a**2 + b**2)
            return sp.sqrt(a**2 + b**2), cpp, ATOM
        if name == "where" and len(values) == 3:
            c, a, b = values
            if not isinstance(args[0], ast.Compare):
                self.kinks.append(c)  # where the condition crosses 0
            return sp.Piecewise((a, sp.Ne(c, 0)), (b, True)), cpp, ATOM
        if name == "clamp" and len(values) == 3:
            a, lo, hi = values
            self.kinks += [a - lo, a - hi, lo - hi]
            return sp.Min(sp.Max(a, lo), hi), cpp, ATOM
        raise ValueError(f"unknown function {name} with {len(values)} arguments")


def is_number(node):
    if isinstance(node, ast.UnaryOp):
        return is_number(node.operand)
    return isinstance(node, ast.Constant)


def is_exact_constant(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "c"


def literal_int(node):
    value = ast.literal_eval(node)
    if type(value) is not int:
        raise ValueError("c(...) takes integers: c(3), c(-1, 2)")
    return value


# ---- the reference values ------------------------------------------------------

def value_at(expression, where):
    """The expression at a point, to the nearest double. evalf substitutes
    numerically (a symbolic subs seeks exact powers, which for an exponent such
    as 0.3 = 5404319552844595/2^54 takes forever), and chop turns what is left
    of an exact cancellation (1e-170) into 0."""
    number = expression.evalf(DIGITS, subs=where, chop=True)
    if not number.is_real or not number.is_finite:
        raise ValueError(f"not a finite real number: {number}")
    return float(number)


def point_where(symbols, point):
    """Each variable at the exact value of its double."""
    return dict(zip(symbols, (sp.Rational(p) for p in point)))


def default_points(box):
    return [tuple(round(lo + (hi - lo) * f, 2) for (lo, hi), f in zip(box, fractions))
            for fractions in DEFAULT_FRACTIONS]


def check_point(formula, translation, point):
    """A reference point must be inside the domain and away from kinks and poles."""
    where = point_where([translation.symbols[v] for v in translation.variables], point)
    for kind, conditions, ok in (("kink or tie", translation.kinks, lambda v: abs(v) >= POINT_MARGIN),
                                 ("pole", translation.nonzero, lambda v: abs(v) >= POINT_MARGIN),
                                 ("domain edge", translation.positive, lambda v: v >= POINT_MARGIN)):
        for condition in conditions:
            if not ok(value_at(condition, where)):
                raise ValueError(f"{formula.text}: point {point} is at a {kind}: {condition}")


def check_box(formula, translation, box):
    """Every condition keeps its sign across the box (sampled on a grid)."""
    symbols = [translation.symbols[v] for v in translation.variables]
    axes = [[lo + (hi - lo) * i / (BOX_SAMPLES_PER_AXIS - 1) for i in range(BOX_SAMPLES_PER_AXIS)]
            for lo, hi in box]
    for kind, conditions in (("kink or tie", translation.kinks), ("pole", translation.nonzero),
                             ("domain edge", translation.positive)):
        for condition in conditions:
            function = sp.lambdify(symbols, condition, modules=["math"])
            values = [function(*p) for p in itertools.product(*axes)]
            smallest = min(values) if kind == "domain edge" else min(map(abs, values))
            same_sign = all(v > 0 for v in values) or all(v < 0 for v in values)
            if smallest < BOX_MARGIN or not same_sign:
                raise ValueError(f"{formula.text}: the box {box} reaches a {kind}: {condition}")


def reference(formula):
    symbols = {v: sp.Symbol(v, real=True) for v in VARIABLES}
    translation = Translation(formula.text, symbols)
    variables = [symbols[v] for v in translation.variables]
    box = formula.box if isinstance(formula.box[0], (list, tuple)) else [formula.box] * len(variables)
    box = [(float(lo), float(hi)) for lo, hi in box]
    if len(box) != len(variables):
        raise ValueError(f"{formula.text}: {len(box)} intervals for {len(variables)} variables")
    check_box(formula, translation, box)
    points = formula.at or default_points(box)
    first = [sp.diff(translation.sympy, v) for v in variables]
    second = [sp.diff(d, v) for d in first for v in variables]
    rows = []
    for point in points:
        point = tuple(float(p) for p in point)
        if len(point) != len(variables):
            raise ValueError(f"{formula.text}: point {point} for {len(variables)} variables")
        check_point(formula, translation, point)
        where = point_where(variables, point)
        at = lambda e: value_at(e, where)
        rows.append((point, at(translation.sympy), [at(d) for d in first], [at(d) for d in second]))
    return translation, box, rows


# ---- the C++ file ----------------------------------------------------------------

HEADER = """\
// Generated by tests/reference/scalar_derivatives.py from its catalogue of
// formulas, with SymPy {version}: do not edit. To change a formula or add one,
// edit the catalogue and rerun the script with Debian's python3-sympy:
//   python3 tests/reference/scalar_derivatives.py
//
// Included by tests/diff/sympy_catalogue.hpp inside namespace sympy_catalogue,
// where x, y, z, entry<I>, interval and reference_point are declared. For each
// formula: the expression, a box where it is smooth, and at each point the
// value, df/dv for every variable v, and d2f/dv_i dv_j row-major, all exact
// to the nearest double.
"""


def number(value):
    """The shortest decimal that reads back as the same double."""
    if not math.isfinite(value):
        raise ValueError("non-finite reference value")
    return repr(float(value))


def numbers(values):
    return "{" + ", ".join(map(number, values)) + "}"


def cpp_entry(index, formula, translation, box, rows):
    arity = len(translation.variables)
    lines = [
        "template <>",
        f"struct entry<{index}> {{",
        f"  static constexpr std::string_view formula = {cpp_string(formula.text)};",
        f"  static constexpr auto f = {translation.cpp};",
        f"  static constexpr auto variables = std::tuple{{{', '.join(translation.variables)}}};",
        f"  static constexpr bool evaluates_at_compile_time = "
        f"{'true' if translation.evaluates_at_compile_time else 'false'};",
        f"  static constexpr std::array<interval, {arity}> box{{{{"
        + ", ".join("{" + number(lo) + ", " + number(hi) + "}" for lo, hi in box) + "}};",
        f"  static constexpr std::array<reference_point<{arity}>, {len(rows)}> points{{{{",
    ]
    for point, value, first, second in rows:
        lines.append(f"      {{.at = {numbers(point)},")
        lines.append(f"       .value = {number(value)},")
        lines.append(f"       .first = {numbers(first)},")
        lines.append(f"       .second = {numbers(second)}}},")
    lines += ["  }};", "};", ""]
    return "\n".join(lines)


def cpp_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate():
    parts = [HEADER.format(version=sp.__version__)]
    index = 0
    blocked = []
    for formula in CATALOGUE:
        translation, box, rows = reference(formula)
        if formula.library_bug:
            note = textwrap.wrap(formula.library_bug, 76, initial_indent="//   ",
                                 subsequent_indent="//   ")
            blocked.append("\n".join([f"// {translation.cpp}"] + note))
            continue
        parts.append(cpp_entry(index, formula, translation, box, rows))
        index += 1
    if blocked:
        parts.append("// Left out until the library is fixed (library_bug in the catalogue):\n//\n"
                     + "\n//\n".join(blocked) + "\n")
    parts.append(f"inline constexpr std::size_t catalogue_size = {index};\n")
    return "\n".join(parts)


def main():
    text = generate()
    if "--check" in sys.argv[1:]:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.name} is out of date: rerun {pathlib.Path(__file__).name}")
            return 1
        print(f"{OUTPUT.name} is up to date")
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.name}: {text.count('struct entry<')} formulas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
