"""End-to-end flows built on the stages (``docs/architecture.md``): the demo, and resolving which deployed
verifier a proof goes to. The CLI and the Python API call these; nothing below them imports this package."""
