"""EVM side of zkchain: Solidity compilation, chains, and the verifier's Solidity building blocks.

- :mod:`zkchain.evm.solc`       ``compile_solidity(sources) -> {name: CompiledContract}`` (solc-js, cached)
- :mod:`zkchain.evm.chain`      ``Chain.embedded()`` / ``Chain.rpc(url)`` with ``deploy``, ``call``, ``transact``
- :mod:`zkchain.evm.anvil`      ``Anvil()`` context manager; ``run_node`` behind ``zkchain node``
- :mod:`zkchain.evm.contracts`  ``library_sources()``: ``contracts/BN254.sol`` and ``contracts/Transcript.sol``

See ``docs/evm.md`` for the toolchain, chain choices and measured gas. Submodules are imported explicitly (web3
and py-evm are heavy to import).
"""
