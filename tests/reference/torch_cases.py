"""Shared by the reference generators: C++ arrays of float64 values and
PyTorch cases (a loss over parameters and inputs, the loss and every
parameter's gradient), appended as lines to a generator's output list."""


def number(v):
    v = float(v)
    if v == float("-inf"):
        return "-std::numeric_limits<double>::infinity()"  # the .inc then includes <limits>
    return repr(v)


def array(out, name, t):
    out.append(f"inline constexpr double {name}[] = {{{', '.join(number(v) for v in t.flatten().tolist())}}};")


def case(out, name, params, inputs, loss_fn):
    """params, inputs: name -> tensor; loss_fn(**params, **inputs) -> scalar."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    loss = loss_fn(**leaves, **inputs)
    loss.backward()
    out.append(f"namespace {name} {{")
    for k, v in {**params, **inputs}.items():
        array(out, k, v)
    out.append(f"inline constexpr double loss = {float(loss)!r};")
    for k, v in leaves.items():
        array(out, "grad_" + k, v.grad)
    out.append(f"}}  // namespace {name}")
    out.append("")
