"""zkchain: prove ``y = model(x)`` for an ONNX model with a KZG proof on BN254 and check it on Ethereum.

Pipeline (one sub-package per stage; data flows forward only)::

    onnx/ -> quant/ -> compiler/ -> blocks/ -> prover/ -> verifier/ -> evm/

See ``docs/protocol.md`` for the proof system and ``README.md`` for the CLI.
"""

__version__ = "0.1.0"
