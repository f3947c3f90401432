"""Witness freedom: no committed entry of any compiled model can be changed and still verify.

For every unit model (every op and option the lowering supports) and every committed vector, one entry is
perturbed (±1, ±2^k, just below the input range, r − 1), everything downstream recomputed with the integer
semantics, and the result proved with witness checks off. Python and Solidity must both reject; the honest
proof must be accepted by both (so a rejection means something).
"""

from __future__ import annotations

import pytest
from conftest import UNIT_NAMES
from harness import sweep as _sweep


#: models with many committed vectors: fewer perturbations per vector (still rotating through every kind)
PER_VECTOR = {"attention": 2, "layer_norm": 2, "movement": 2, "batch_norm": 2, "softmax": 2, "conv_patches": 1,
              "row_movement": 2, "wide_global_avg": 2, "spatial_movement": 2}
#: too slow for the default run (64 channels, or three images: 40–150 s on 2 cores); tests/adversarial/
#: test_conv_patches.py attacks the patch form and the batch there, test_grid_copy.py the copy onto a padded grid
#: (which these tampers, recomputed from the model's tensors, cannot forge)
SWEEP_ONLY = {"conv_patches", "conv_patches_public", "batch_cnn", "batch_cnn_public", "shared_grid",
              "lstm"}  # its verifier is the reusable one (past EIP-170): ~3 s a call on py-evm; test_recurrent.py


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.sweep) if n in SWEEP_ONLY else n
                                  for n in UNIT_NAMES])
def test_no_committed_entry_is_free(name, unit_built, solidity):
    """Four of the six perturbations per vector, rotating (so every kind meets every block)."""
    b = unit_built(name)
    if name in PER_VECTOR:  # at least one real lie per committed vector (66 of 76 tampers are lies for attention;
        # the full six per vector run under -m sweep)
        _sweep(b, solidity(b), per_vector=PER_VECTOR[name], min_lies=len(b.compiled.circuit.of_kind("witness")))
    else:
        _sweep(b, solidity(b), per_vector=4)


@pytest.mark.parametrize("model", ["digits_mlp", "digits_cnn"])
def test_no_committed_entry_of_a_bundled_model_is_free(model, solidity):
    """The bundled models at their real widths: one perturbation per committed vector, rotating."""
    from harness import build

    from zkchain.models import bundled_model_dir

    d = bundled_model_dir(model)
    b = build(model, d / "model.onnx", d / "calibration.npy")
    _sweep(b, solidity(b), per_vector=1)


@pytest.mark.sweep
@pytest.mark.parametrize("name", UNIT_NAMES)
def test_full_sweep_unit_models(name, unit_built, solidity):
    """Every perturbation of every vector (``pytest -m sweep``; ~3 minutes)."""
    _sweep(unit_built(name), solidity(unit_built(name)), per_vector=None)


@pytest.mark.sweep
@pytest.mark.parametrize("model", ["digits_mlp", "digits_cnn", "lenet5"])
def test_full_sweep_bundled_models(model, solidity):
    """Every perturbation of every committed vector of the bundled models (``pytest -m sweep``; LeNet-5 ~30 min)."""
    from harness import build

    from zkchain.models import bundled_model_dir

    d = bundled_model_dir(model)
    b = build(model, d / "model.onnx", d / "calibration.npy")
    _sweep(b, solidity(b), per_vector=None)
