"""What a proof is, shared by the prover and both verifiers: the transcript schedule and calldata layout
(:mod:`zkchain.protocol.schedule`), the verifying key (:mod:`zkchain.protocol.vk`) and the proof format
(:mod:`zkchain.protocol.proof`). Nothing here computes a proof or checks one."""
