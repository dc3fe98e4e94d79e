#!/usr/bin/env python3
"""Reference parameter updates of torch.optim, for tests/optim/updates.cpp.

Writes optim_updates.inc next to this file: a seeded set of two parameters
(shapes [3, 7] and [5], so SIMD loops run a body and a tail), three steps of
gradients, and for each optimizer and hyperparameter set below, the
parameters torch.optim leaves after each of the three steps.

Run it with Debian's python3-torch:

    python3 tests/reference/optim_updates.py          # rewrite the .inc
    python3 tests/reference/optim_updates.py --check  # is the .inc up to date?

Hyperparameters are rounded to float32 before torch sees them, so that both
sides start from the same numbers (tapeless's are floats).
"""
import inspect
import pathlib
import sys

import numpy as np
import torch

OUTPUT = pathlib.Path(__file__).resolve().with_name("optim_updates.inc")
SEED = 20240611
SHAPES = ((3, 7), (5,))
STEPS = 3

# (rule, hyperparameters as tapeless names them; torch_arguments renames them
# for torch). The C++ side is given only these, so its defaults are tested too.
CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.05, "nesterov": True}),
    ("adagrad", {}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01, "initial_accumulator_value": 0.1,
                 "eps": 1e-6}),
    ("rmsprop", {}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.9}),
    ("rmsprop", {"lr": 0.01, "centered": True, "weight_decay": 0.02}),
    ("rmsprop", {"lr": 0.005, "alpha": 0.95, "eps": 1e-6, "momentum": 0.5, "centered": True,
                 "weight_decay": 0.01}),
    ("adam", {}),
    ("adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1}),
    ("adamw", {}),
    ("adamw", {"lr": 0.01, "beta1": 0.85, "beta2": 0.995, "weight_decay": 0.1}),
]

# Each rule's fields in C++ declaration order: designated initializers must
# follow it.
FIELDS = {"sgd": ("lr", "momentum", "dampening", "weight_decay", "nesterov"),
          "adagrad": ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
          "rmsprop": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
          "adam": ("lr", "beta1", "beta2", "eps", "weight_decay"),
          "adamw": ("lr", "beta1", "beta2", "eps", "weight_decay")}

# torch's defaults, which tapeless's rules share; torch is given them rounded
# to float32 too (1 - 0.99 and 1 - 0.99f differ in the sixth digit).
DEFAULTS = {"sgd": {"momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False},
            "adagrad": {"lr": 1e-2, "lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0,
                        "eps": 1e-10},
            "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0, "momentum": 0,
                        "centered": False},
            "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0},
            "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2}}

TORCH_CLASS = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
               "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def check_defaults():
    """DEFAULTS must be torch's own, which the C++ rules' defaults are tested against."""
    for rule, defaults in DEFAULTS.items():
        signature = inspect.signature(TORCH_CLASS[rule]).parameters
        for name, value in torch_arguments(rule, {}).items():
            default = signature[name].default
            rounded = tuple(map(as_float32, default)) if isinstance(default, tuple) else as_float32(default)
            if rounded != value:
                raise ValueError(f"{rule}: DEFAULTS says {name} = {value}, torch {default}")


def as_float32(value):
    return value if isinstance(value, bool) else float(np.float32(value))


def torch_arguments(rule, hyper):
    args = {k: as_float32(v) for k, v in {**DEFAULTS[rule], **hyper}.items()}
    if "beta1" in args:
        args["betas"] = (args.pop("beta1"), args.pop("beta2"))
    return args


def float_literal(value):
    value = np.float32(value)
    if not np.isfinite(value):
        raise ValueError("non-finite reference value")
    return str(value) + "f"


def cpp_value(value):
    return ("true" if value else "false") if isinstance(value, bool) else float_literal(value)


def flat(tensors):
    return np.concatenate([t.detach().numpy().astype(np.float32).ravel() for t in tensors])


def floats(values, indent):
    items = [float_literal(v) for v in values]
    lines, line = [], indent
    for item in items:
        if len(line) + len(item) + 2 > 100:
            lines.append(line.rstrip())
            line = indent
        line += item + ", "
    lines.append(line.rstrip().rstrip(","))
    return "{\n" + "\n".join(lines) + "}"


def generate():
    check_defaults()
    generator = torch.Generator().manual_seed(SEED)
    initial = [torch.randn(shape, generator=generator) for shape in SHAPES]
    gradients = [[torch.randn(shape, generator=generator) for shape in SHAPES] for _ in range(STEPS)]

    size = sum(int(np.prod(s)) for s in SHAPES)
    parts = [HEADER.format(version=torch.__version__, size=size, steps=STEPS),
             f"inline constexpr std::array<float, {size}> initial = {floats(flat(initial), '    ')};\n",
             f"inline constexpr std::array<std::array<float, {size}>, {STEPS}> gradients = {{{{"]
    parts += [f"  {floats(flat(g), '    ')}," for g in gradients]
    parts.append("}};\n")

    for rule in TORCH_CLASS:
        entries = []
        for name, hyper in CASES:
            if name != rule:
                continue
            params = [torch.nn.Parameter(t.clone()) for t in initial]
            optimizer = TORCH_CLASS[rule](params, **torch_arguments(rule, hyper))
            after = []
            for g in gradients:
                for p, gi in zip(params, g):
                    p.grad = gi.clone()
                optimizer.step()
                after.append(flat(params))
            fields = ", ".join(f".{k} = {cpp_value(hyper[k])}" for k in FIELDS[rule] if k in hyper)
            if set(hyper) - set(FIELDS[rule]):
                raise ValueError(f"{rule}: unknown hyperparameters {set(hyper) - set(FIELDS[rule])}")
            label = f"{rule}{{{fields}}}"
            entries.append(f"    {{.label = \"{label}\",\n     .rule = {{{fields}}},\n     .after = {{{{\n"
                           + "\n".join(f"         {floats(a, '          ')}," for a in after)
                           + "\n     }}},")
        parts.append(f"inline const update_case<tl::optim::{rule}> {rule}_cases[] = {{\n"
                     + "\n".join(entries) + "\n};\n")
    return "\n".join(parts)


HEADER = """\
// Generated by tests/reference/optim_updates.py with PyTorch {version}: do not
// edit; rerun the script with Debian's python3-torch to change it.
//
// Included by tests/optim/updates.cpp inside a namespace where tl and
// update_case<Rule> are declared. Two parameters, [3, 7] then [5], flattened
// into {size} floats in store order; their initial values; the gradients of
// steps 1 to {steps}; and for each rule, the values torch.optim leaves after
// each step.
"""


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
    print(f"wrote {OUTPUT.name}: {len(CASES)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
