"""EVM side of zkchain: the generated Solidity verifier, Solidity compilation, chains and deployments.

- :mod:`zkchain.evm.yul`        ``EvmLoader``: runs the one verifier routine and emits its Yul
- :mod:`zkchain.evm.verifier_gen` ``generate_verifier(vk)``, ``compile_verifier(vk)``, ``calldata(proof, vk)``
- :mod:`zkchain.evm.deploy`     deployments (``deployment.json``), ``deploy_verifier``, ``submit_proof``

- :mod:`zkchain.evm.solc`       ``compile_solidity(sources) -> {name: CompiledContract}`` (solc-js, cached)
- :mod:`zkchain.evm.chain`      ``Chain.embedded()`` / ``Chain.rpc(url)`` with ``deploy``, ``call``, ``transact``
- :mod:`zkchain.evm.anvil`      ``Anvil()`` context manager; ``run_node`` behind ``zkchain node``
- :mod:`zkchain.evm.contracts`  ``library_sources()``: ``contracts/BN254.sol`` (KZG folding helpers; tests)

See ``docs/evm.md`` for the toolchain, chain choices and measured gas. Submodules are imported explicitly (web3
and py-evm are heavy to import).
"""
