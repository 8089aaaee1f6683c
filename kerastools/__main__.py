"""Command line: `python -m kerastools demo`, `devices` and `report DIR`."""

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
    report = commands.add_parser("report", help="print a RunReport's report.json as a table")
    report.add_argument("directory", help="the RunReport directory (or its report.json)")
    args = parser.parse_args(argv)

    if args.command == "report":
        from kerastools.callbacks.run_report_schema import read_report, report_table
        from kerastools.errors import KerastoolsError

        try:
            document = read_report(args.directory)
        except KerastoolsError as error:
            # One line and status 2, as argparse does for a bad argument: no traceback.
            print(f"kerastools report: error: {error}", file=sys.stderr)
            return 2
        print(report_table(document))
        return 0

    if args.command == "demo":
        from kerastools import __version__
        from kerastools.demo import run_demo

        # The first line is kerastools' own (the backend's start-up notices are off,
        # kerastools/_quiet_start.py), shown before training starts.
        print(f"kerastools {__version__} demo: a small MLP on the circles set (epochs={args.epochs}), "
              f"output in {args.output_dir}", flush=True)
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
