"""``python -m minigan`` is the ``minigan`` command (setup.cfg's entry point is ``run`` below)."""
import sys


def run():
    """Import the command line and run it. A Ctrl-C while NumPy and matplotlib load (the first
    second or so) is one line too, not a traceback from inside an import."""
    try:
        from .program.cli import main
    except KeyboardInterrupt:
        print("minigan: interrupted while starting; nothing was done", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
