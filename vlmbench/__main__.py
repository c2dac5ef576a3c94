"""`vlmbench ...` and `python -m vlmbench ...`: the CLI's entry point, also what `accelerate launch -m
vlmbench eval ...` starts once per rank."""

from vlmbench import quick_exit
from vlmbench.cli import app
from vlmbench.parallel import leave_exit_code


def main() -> None:
    try:
        app(prog_name="vlmbench")
    except SystemExit as done:
        leave_exit_code(done.code)  # `vlmbench eval --num-processes N` reads rank 0's code from here
        quick_exit.leave(done.code)
        raise


if __name__ == "__main__":
    main()
