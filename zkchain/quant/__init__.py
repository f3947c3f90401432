"""Quantization stage: calibrated static quantization of the graph IR into integer primitives and the integer
reference executor that produces the witness (zkPyTorch §3.3).

Public API (the contract with the prover; primitive semantics in :mod:`zkchain.quant.primitives`, details in
``docs/quantization.md``)::

    load_compiled(build_dir) -> QuantizedModel
    QuantizedModel.quantize_input(x_float) -> x_int          # int64, shape input_shape
    QuantizedModel.execute(x_int) -> Witness                  # dict name -> int ndarray, .ops = ordered IntOp list
    QuantizedModel.dequantize_output(y_int[, output]) -> float ndarray
    QuantizedModel.ops: list[IntOp]                           # kind, inputs, outputs, params, source
    QuantizedModel.tensors: dict[str, IntTensor]              # name, shape, scale, bound, role
    QuantizedModel.tables: dict[str, Table]                   # name, fn, lo, hi, values, in_scale, out_scale
    compile_model(onnx_path, calibration=None, config=None) -> QuantizedModel
"""

from zkchain.quant.compile import CalibrationError, compile_model, write_compiled
from zkchain.quant.model import IntTensor, QuantizedModel, Table, Witness, load_compiled
from zkchain.quant.primitives import KINDS, IntOp, RangeError, run_op

__all__ = [
    "load_compiled", "QuantizedModel", "Witness", "IntOp", "IntTensor", "Table", "KINDS", "run_op",
    "compile_model", "write_compiled", "CalibrationError", "RangeError",
]
