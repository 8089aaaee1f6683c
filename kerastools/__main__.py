"""Command line: `python -m kerastools demo` and `python -m kerastools devices`."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kerastools` command."""
    parser = argparse.ArgumentParser(prog="kerastools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="build, compile and train a small model, then report")
    demo.add_argument("--epochs", type=int, default=20)
    demo.add_argument("--output-dir", default="demo_output")
    commands.add_parser("devices", help="print the devices the backend sees")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from kerastools.demo import run_demo

        summary = run_demo(args.output_dir, epochs=args.epochs)
        width = max(map(len, summary))
        for key, value in summary.items():
            print(f"{key:>{width}}: {value}")
        return 0
    from kerastools import device

    print(device.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
