"""`python -m vlmbench ...`: the CLI as a module, so that `accelerate launch -m vlmbench eval ...` can
start it once per rank."""

from vlmbench.cli import app
from vlmbench.parallel import leave_exit_code


def main() -> None:
    try:
        app(prog_name="vlmbench")
    except SystemExit as done:  # `vlmbench eval --num-processes N` reads rank 0's code from here
        leave_exit_code(done.code)
        raise


if __name__ == "__main__":
    main()
