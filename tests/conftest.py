import os

import pytest
import torch

# Tests are small; two intra-op threads match the CI machine.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def run_cli(capsys):
    """Run `actlab ARGS...` in-process; returns (exit_code, stdout, stderr)."""
    from actlab.cli import main

    def run(*args: str):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse exits for --help and usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run
