"""Keys and proofs of the bundled models for the reusable-verifier tests, built once per process.

``bundled(name)`` compiles the bundled model ``name`` (``zkchain/models``), sets it up with the dev SRS and
proves test input 0: ``(vk, proof)``. The digits MLP takes ~2 s, the digits CNN ~3 s, LeNet-5 ~15 s.
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=None)
def bundled(name: str, public_input: bool = False, seed: str = "zkchain-dev"):
    import numpy as np

    import zkchain.models
    from zkchain.compiler.lower import lower
    from zkchain.crypto.srs import SRS
    from zkchain.prover.keys import required_degree, setup
    from zkchain.prover.prove import prove
    from zkchain.quant.compile import compile_model

    model_dir = Path(zkchain.models.__file__).parent / name
    model = compile_model(model_dir / "model.onnx", calibration=model_dir / "calibration.npy")
    lowered = lower(model, public_input=public_input)
    pk = setup(lowered.circuit, lowered.fixed_values, SRS.dev(required_degree(lowered.circuit), seed=seed),
               f"dev:{seed}", meta={"model": name})
    x = np.load(model_dir / "test_inputs.npy")[0]
    values = lowered.vector_values(model.execute(model.quantize_input(x)))
    return pk.vk, prove(pk, values)
