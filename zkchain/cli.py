"""The ``zkchain`` command line. Verbs mirror the pipeline::

    compile -> setup -> prove -> verify -> gen-verifier -> deploy-verifier -> submit-proof

Exit codes: 0 success, 1 proof rejected, 2 usage or input error (one clear line on stderr, no traceback).
"""

from __future__ import annotations

import sys

import click

from zkchain import __version__
from zkchain.errors import ZkchainError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zkchain")
def cli() -> None:
    """zkchain: prove y = model(x) for an ONNX model and verify it on Ethereum.

    Typical flow: zkchain compile model.onnx -o build/ ; zkchain setup build/ ;
    zkchain prove build/ --input input.json -o proof.json ; zkchain verify build/ proof.json
    """


# --- front end commands (compile, predict): zkchain/onnx, zkchain/quant ---


# --- prover commands (setup, prove, verify): zkchain/prover, zkchain/verifier ---


# --- chain commands (node, gen-verifier, deploy-verifier, submit-proof, demo): zkchain/evm ---


@cli.command("node")
@click.option("--port", type=int, default=8545, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--chain-id", type=int, default=31337, show_default=True, help="Chain id of the local chain.")
@click.option("--verbose", is_flag=True, help="Show anvil's own log (every RPC request).")
def node_cmd(port: int, host: str, chain_id: int, verbose: bool) -> None:
    """Run a local anvil node in the foreground (Ctrl-C stops it); deploy verifiers to the printed URL."""
    from zkchain.evm.anvil import run_node

    run_node(port, host=host, chain_id=chain_id, verbose=verbose, echo=lambda line: click.echo(line))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the click group and maps user-facing errors to exit code 2."""
    try:
        cli.main(args=argv, prog_name="zkchain", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(2)
    except click.exceptions.ClickException as exc:  # usage errors: click's own message, exit 2
        exc.show()
        sys.exit(2)
    except ZkchainError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(0)


if __name__ == "__main__":
    main()
