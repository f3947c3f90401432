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
