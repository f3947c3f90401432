"""SRS provenance: a dev-SRS key cannot be relabelled secure, and every verifying entry point says INSECURE.

The dev SRS's τ is public, so anyone can prove anything under it. The verifying key's digest covers the SRS
source (and the insecure flag is derived, never trusted from the file), and the dev SRS of the default seed
is recognised by its [τ]₂ whatever the labels say.
"""

from __future__ import annotations

import copy
import json

import pytest

from zkchain.blocks import load_circuit
from zkchain.crypto.srs import SRS, dev_g2_tau
from zkchain.errors import InputError
from zkchain.protocol.vk import VerifyingKey
from zkchain.prover.keys import required_degree, setup


@pytest.fixture(scope="module")
def dev_key(unit_built):
    """A unit model's key under the default dev seed (the one `zkchain setup` uses)."""
    b = unit_built("gemm_relu")
    c = b.compiled.circuit
    pk = setup(c, b.compiled.fixed_values, SRS.dev(required_degree(c)), "dev:zkchain-dev", meta={"model": "gemm_relu"})
    return b, pk


def _redigest(d: dict) -> dict:
    """The file an attacker would write: contents edited, digest recomputed to match."""
    vk = VerifyingKey(circuit=load_circuit(d["circuit"]), srs_degree=d["srs"]["degree"],
                      fixed_commitments={k: bytes.fromhex(v[2:]) for k, v in d["fixed_commitments"].items()},
                      g2_one=bytes.fromhex(d["g2_one"][2:]), g2_tau=bytes.fromhex(d["g2_tau"][2:]),
                      srs_source=d["srs"]["source"], meta=d["meta"])
    d = copy.deepcopy(d)
    d["digest"] = "0x" + vk.digest.hex()
    return d


def test_relabelled_dev_key_is_refused_or_still_insecure(dev_key):
    _b, pk = dev_key
    d = json.loads(json.dumps(pk.vk.to_json()))
    assert d["srs"] == {"degree": pk.vk.srs_degree, "insecure": True, "source": "dev:zkchain-dev"}

    lie = copy.deepcopy(d)
    lie["srs"].update(source="ptau:ppot_0080_20.ptau (power 20, degree 1048576)", insecure=False)
    with pytest.raises(InputError, match="digest does not match"):  # the old digest no longer fits
        VerifyingKey.from_json(lie)
    with pytest.raises(InputError, match="insecure"):  # a matching digest: [tau]_2 still gives it away
        VerifyingKey.from_json(_redigest(lie))

    lie["srs"]["insecure"] = True  # admits insecure but claims a ceremony source: loads, and says INSECURE
    vk = VerifyingKey.from_json(_redigest(lie))
    assert vk.srs_insecure and "INSECURE" in vk.srs_description and vk.digest != pk.vk.digest

    other = copy.deepcopy(d)  # dev source whose [tau]_2 is another seed's: contradictory, refused
    other["g2_tau"] = "0x" + dev_g2_tau("another-seed").hex()
    with pytest.raises(InputError, match="tau"):
        VerifyingKey.from_json(_redigest(other))


def test_relabelled_key_generates_an_insecure_contract(dev_key):
    from zkchain.evm.deploy import contract_name_for
    from zkchain.evm.verifier_gen import generate_verifier

    _b, pk = dev_key
    lie = json.loads(json.dumps(pk.vk.to_json()))
    lie["srs"].update(source="ptau:ceremony.ptau (power 20, degree 1048576)", insecure=True)
    vk = VerifyingKey.from_json(_redigest(lie))
    name = contract_name_for(vk)
    src = generate_verifier(vk, name)
    assert name.startswith("InsecureDevSrs")
    assert "bool public constant INSECURE_DEV_SRS = true;" in src and "WARNING:" in src and "INSECURE" in src


def test_every_verifying_entry_point_says_insecure(dev_key, tmp_path, capsys):
    """zkchain verify, deploy-verifier and submit-proof (embedded chain), api.verify and the contract constant."""
    from zkchain import api
    from zkchain.cli import main

    b, pk = dev_key
    build = tmp_path / "b"
    build.mkdir()
    pk.vk.save(build / "vk.json")
    from zkchain.prover.prove import prove

    proof = prove(pk, b.compiled.vector_values(b.model.execute(b.x_int)))
    proof.save(tmp_path / "p.json", pk.vk)
    v = api.verify(build, proof)
    assert v and "INSECURE" in v.warning

    def run(*args) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        out = capsys.readouterr()
        return exc.value.code, out.out + out.err

    for args in (("verify", build, tmp_path / "p.json"),
                 ("deploy-verifier", build, "--rpc-url", "embedded"),
                 ("submit-proof", build, tmp_path / "p.json", "--rpc-url", "embedded")):
        code, out = run(*args)
        assert code == 0 and "INSECURE" in out, (args, out)


def test_contract_exposes_the_flag(dev_key, adv_chain):
    from harness import SolidityJudge

    _b, pk = dev_key
    sol = SolidityJudge(adv_chain, pk.vk, "AdvInsecureFlag")
    assert adv_chain.call(sol.address, sol.compiled, "INSECURE_DEV_SRS") is True
