#!/usr/bin/env python3
"""Reference values of torch for the training controls, for
tests/optim/groups.cpp and tests/nn/training_controls.cpp.

Writes training_controls.inc next to this file:
  - parameter groups and frozen parameters: four seeded tensors named as a
    two-layer model's ("fc1.weight" [3, 7], "fc1.bias" [3], "fc2.weight"
    [2, 3], "fc2.bias" [2]), five steps of seeded gradients, and what
    torch.optim leaves after each step for
      * AdamW(lr 0.01, weight_decay 0.1) with fc1 frozen (requires_grad =
        False: no grad, so no update, no state, no decay) in steps 1 and 2;
      * SGD(momentum 0.9) with two param groups: fc1 (lr 0.1, weight_decay
        0.01), fc2 (lr 0.02, weight_decay 0);
      * Adam with two groups (lr 0.05 and lr 0.01, weight_decay 0.1) under
        CosineAnnealingLR(T_max 4, eta_min 0.001), scheduler.step() after
        each step, and the lr of each group at each step;
  - gradient accumulation: a 3-5-3 tanh MLP under SGD(lr 0.1, momentum
    0.9), four micro-batches of 4 rows per update, (loss / 4).backward()
    each, two updates: the weights after each update;
  - per-row loss weights: the same MLP on 4 rows with weights w, the loss
    (w * cross_entropy(z, y, reduction='none')).sum() / w.sum() and its
    gradients.

Run it with Debian's python3-torch:

    python3 tests/reference/training_controls.py          # rewrite the .inc
    python3 tests/reference/training_controls.py --check  # is the .inc up to date?
"""
import pathlib
import sys

import numpy as np
import torch

OUTPUT = pathlib.Path(__file__).resolve().with_name("training_controls.inc")
SEED = 20261205
NAMES = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
SHAPES = ((3, 7), (3,), (2, 3), (2,))
STEPS = 5


def float_literal(value):
    value = np.float32(value)
    if not np.isfinite(value):
        raise ValueError("non-finite reference value")
    return str(value) + "f"


def flat(tensors):
    return np.concatenate([t.detach().numpy().astype(np.float32).ravel() for t in tensors])


def floats(values, indent="    "):
    items = [float_literal(v) for v in values]
    lines, line = [], indent
    for item in items:
        if len(line) + len(item) + 2 > 100:
            lines.append(line.rstrip())
            line = indent
        line += item + ", "
    lines.append(line.rstrip().rstrip(","))
    return "{\n" + "\n".join(lines) + "}"


def array(name, values):
    return f"inline constexpr std::array<float, {len(values)}> {name} = {floats(values)};\n"


def table(name, rows):
    text = f"inline constexpr std::array<std::array<float, {len(rows[0])}>, {len(rows)}> {name} = {{{{\n"
    text += "\n".join(f"  {floats(r)}," for r in rows)
    return text + "\n}};\n"


def f32(x):
    return float(np.float32(x))


def groups_section(generator):
    initial = [torch.randn(s, generator=generator) for s in SHAPES]
    gradients = [[torch.randn(s, generator=generator) for s in SHAPES] for _ in range(STEPS)]
    parts = [array("group_initial", flat(initial)), table("group_gradients", [flat(g) for g in gradients])]

    def run(make, frozen_steps=0, scheduler=None):
        params = [torch.nn.Parameter(t.clone()) for t in initial]
        optimizer, sched = make(params)
        after, lrs = [], []
        for step, g in enumerate(gradients):
            for i, (p, gi) in enumerate(zip(params, g)):
                frozen = i < 2 and step < frozen_steps
                p.requires_grad_(not frozen)
                p.grad = None if frozen else gi.clone()
            lrs.append([group["lr"] for group in optimizer.param_groups])
            optimizer.step()
            if sched:
                sched.step()
            after.append(flat(params))
        return after, lrs

    after, _ = run(lambda p: (torch.optim.AdamW(p, lr=f32(0.01), weight_decay=f32(0.1)), None), frozen_steps=2)
    parts.append(table("adamw_fc1_frozen_two_steps_after", after))

    def sgd_groups(p):
        return torch.optim.SGD([{"params": p[:2], "lr": f32(0.1), "weight_decay": f32(0.01)},
                                {"params": p[2:], "lr": f32(0.02), "weight_decay": 0.0}],
                               lr=f32(0.1), momentum=f32(0.9)), None
    after, _ = run(sgd_groups)
    parts.append(table("sgd_two_groups_after", after))

    def adam_cosine(p):
        opt = torch.optim.Adam([{"params": p[:2], "lr": f32(0.05)},
                                {"params": p[2:], "lr": f32(0.01)}], weight_decay=f32(0.1))
        return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=f32(0.001))
    after, lrs = run(adam_cosine)
    parts.append(table("adam_two_groups_cosine_after", after))
    parts.append(table("adam_two_groups_cosine_lr", lrs))
    return parts


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 5)
        self.fc2 = torch.nn.Linear(5, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def model_params(model):
    return [model.fc1.weight, model.fc1.bias, model.fc2.weight, model.fc2.bias]


def model_section(generator):
    torch.manual_seed(SEED)
    model = Mlp()
    initial = [p.detach().clone() for p in model_params(model)]
    micro, rows, updates = 4, 4, 2
    x = torch.randn(updates * micro * rows, 3, generator=generator)
    y = torch.randint(0, 3, (updates * micro * rows,), generator=generator)
    parts = [array("mlp_initial", flat(initial)), array("mlp_features", x.numpy().ravel()),
             f"inline constexpr std::array<std::int32_t, {len(y)}> mlp_labels = {{"
             + ", ".join(str(int(v)) for v in y) + "};\n"]

    optimizer = torch.optim.SGD(model.parameters(), lr=f32(0.1), momentum=f32(0.9))
    after = []
    for u in range(updates):
        optimizer.zero_grad()
        for m in range(micro):
            at = (u * micro + m) * rows
            loss = torch.nn.functional.cross_entropy(model(x[at:at + rows]), y[at:at + rows])
            (loss / micro).backward()
        optimizer.step()
        after.append(flat(model_params(model)))
    parts.append(table("accumulated_sgd_after", after))

    # Per-row weights on the first 4 rows, from the initial weights.
    with torch.no_grad():
        for p, t in zip(model_params(model), initial):
            p.copy_(t)
    weights = torch.tensor([0.5, 2.0, 0.0, 1.25])
    model.zero_grad()
    per_row = torch.nn.functional.cross_entropy(model(x[:4]), y[:4], reduction="none")
    loss = (weights * per_row).sum() / weights.sum()
    loss.backward()
    parts.append(array("row_weights", weights.numpy()))
    parts.append(f"inline constexpr float weighted_loss = {float_literal(loss.item())};\n")
    parts.append(array("weighted_loss_gradients", flat([p.grad for p in model_params(model)])))
    return parts


HEADER = """\
// Generated by tests/reference/training_controls.py with PyTorch {version}:
// do not edit; rerun the script with Debian's python3-torch to change it.
// Tensors are flattened in store order: fc1.weight, fc1.bias, fc2.weight,
// fc2.bias (see the script for the cases).
"""


def generate():
    generator = torch.Generator().manual_seed(SEED)
    parts = [HEADER.format(version=torch.__version__)]
    parts += groups_section(generator)
    parts += model_section(generator)
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
    print(f"wrote {OUTPUT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
