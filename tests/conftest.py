import pytest
import torch

# The tests run many small tensor ops, for which torch's thread pool costs more than it
# gains (4x slower wall time with 2 threads on a loaded 2-core machine).
torch.set_num_threads(1)


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
