"""Cryptographic core: BN254 backends (fast + reference), Fr polynomials, SRS (.ptau), KZG + accumulator, and
the Keccak Fiat–Shamir transcript. Design notes: ``docs/crypto.md``; specification: ``docs/protocol.md`` §1–3."""
