"""Time the exact first-step derivation of an all-random sigmoid MLP at depths 1 to 4.

Prints one line per depth with the widths, the batch size and the wall time of
:func:`theory.symbolic.first_step_gradients`, which derives every gradient block
in closed form with sympy. Run: ``.venv/bin/python benchmarks/bench_symbolic.py``.
"""

from __future__ import annotations

import time

from theory import symbolic
from theory.initializers import parse_init

WIDTHS = {1: (5, 3), 2: (5, 4, 3), 3: (5, 4, 3, 3), 4: (5, 4, 3, 3, 3)}
LABELS = (0, 2, 1, 2)


def main() -> None:
    activation = symbolic.resolve_activation("sigmoid")
    for depth, widths in WIDTHS.items():
        layers = [symbolic.LayerInit(parse_init("normal:1"), parse_init("zeros")) for _ in range(depth)]
        started = time.perf_counter()
        network = symbolic.build_network(widths, layers, LABELS)
        symbolic.first_step_gradients(activation, network)
        elapsed = time.perf_counter() - started
        print(f"depth {depth}, widths {'-'.join(map(str, widths))}, batch {len(LABELS)}: {elapsed:.2f} s")


if __name__ == "__main__":
    main()
