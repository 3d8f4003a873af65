"""`scripts/explore.py [RUN_DIR] [--port 8000] [--host 127.0.0.1]`: serve the timbre explorer of a trained run
(with no RUN_DIR, the shipped timbre space `vae.pretrained.DEFAULT_RUN`)."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import socket
import sys
from pathlib import Path

from common.help import EXIT_BAD_INPUT, HelpFormatter, Parser

EPILOG = """examples:
  explore.py                                    # the shipped timbre space (16 kHz x 1 s), no training needed
  explore.py runs/demo                          # http://127.0.0.1:8000 (make demo trains runs/demo)
  explore.py runs/demo --port 8123 --points 3000  # a fresh map of 3,000 training patches
  explore.py runs/demo --host 0.0.0.0            # reachable from the network: no login, anyone can use it
"""


def _number(kind, low):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value >= low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {text}")
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="explore.py", formatter_class=HelpFormatter, epilog=EPILOG,
        description="The timbre explorer: a local web page with the UMAP map of a trained run's encoded training "
                    "patches. Click a point or empty space to hear the decoded patch (rendered by jaxsynth at the "
                    "run's sample rate), walk a path between two points, move the latent sliders, export patch.json "
                    "+ WAV, or drop a WAV to sound-match it onto the map. Prints the URL; Ctrl+C stops.")
    p.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                   help="a trained run (scripts/train.py --out; make demo makes runs/demo) (default: the shipped "
                        "timbre space, vae/pretrained/timbre-16k)")
    p.add_argument("--port", type=_number(int, 0), default=8000,
                   help="TCP port (0: any free port) (default: 8000)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; only this machine by default (default: 127.0.0.1)")
    p.add_argument("--checkpoint", choices=("best", "latest"), default="best", help="which checkpoint (default: best)")
    p.add_argument("--points", type=_number(int, 5),
                   help="compute a fresh map of N training patches (default: the evaluation's map if the run has "
                        "one, else 2000)")
    p.add_argument("--sample-rate", type=_number(int, 1000), metavar="HZ",
                   help="render at this rate instead of the run's (the patches are rate-independent) (default: the run's)")
    p.add_argument("--seconds", type=_number(float, 0.05), help="sound length instead of the run's (default: the run's)")
    p.add_argument("--match-budget", type=_number(float, 1), default=15.0, metavar="SECONDS",
                   help="sound-matching time per dropped WAV, compilation included (default: 15)")
    return p


def fail(message: str) -> int:
    print(f"explore.py: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def check_address(host: str, port: int) -> tuple[int, str | None]:
    """(the port to use, None) when host:port can be listened on now (port 0: a free one, chosen here), else
    (port, what is wrong, naming the flag and what to do)."""
    if port > 65535:
        return port, f"--port {port} is not a TCP port; choose 1-65535 (or 0 for any free port)"
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except socket.gaierror:
            return port, f"--host {host} is not an address of this machine; use 127.0.0.1 (or 0.0.0.0 for all)"
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return port, f"--port {port} is in use on {host}; choose another --port (or 0 for any free port)"
            return port, f"--host {host} --port {port}: {err.strerror}; choose another --host or --port"
        return s.getsockname()[1], None


def synth_settings(run_synth, sample_rate: int | None, seconds: float | None):
    """The run's SynthConfig with the rate and length replaced where given (control rate kept, at most the rate)."""
    if sample_rate is None and seconds is None:
        return run_synth
    import dataclasses

    rate = sample_rate or run_synth.sample_rate
    return dataclasses.replace(run_synth, sample_rate=rate, buffer_size_seconds=seconds or run_synth.buffer_size_seconds,
                               control_rate=min(run_synth.control_rate, rate))


def main(argv: list[str] | None = None) -> int:
    """Loads the run (map, warmed renderer), prints the URL and serves until Ctrl+C; 2 on bad input."""
    args = parser().parse_args(argv)
    from vae.run_files import RunFileError, RunPaths, load_config

    from vae.pretrained import DEFAULT_RUN

    run_dir = Path(args.run_dir) if args.run_dir is not None else DEFAULT_RUN
    if not RunPaths(run_dir).config.is_file():
        return fail(f"RUN_DIR {run_dir} is not a run directory (no config.json); train one with scripts/train.py "
                    "or `make demo`")
    port, problem = check_address(args.host, args.port)
    if problem:
        return fail(problem)

    from explorer import Explorer, ExplorerConfig, create_app, serve
    from explorer.server import allowed_hosts

    config = ExplorerConfig(points=args.points, match_budget_s=args.match_budget)
    try:
        synth = synth_settings(load_config(run_dir).synth, args.sample_rate, args.seconds)
    except RunFileError as err:
        return fail(f"RUN_DIR {run_dir} could not be loaded: {err}")
    except ValueError as err:
        return fail(f"--sample-rate/--seconds: {err}")
    try:
        explorer = Explorer.open(run_dir, config, which=args.checkpoint, synth=synth)
    except (RunFileError, FileNotFoundError, ValueError) as err:
        return fail(f"RUN_DIR {run_dir} could not be loaded: {err}")
    space = explorer.space
    print(f"map: {len(space)} training patches ({space.source}), {explorer.info()['inversion']}; "
          f"ready in {explorer.warm_seconds:.1f} s")
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    hosts = allowed_hosts(args.host)
    if hosts is None:
        print(f"explore.py: warning: listening on {args.host}: anyone who can reach this machine can use the page",
              file=sys.stderr)
    print(f"explorer: http://{shown}:{port}/  (Ctrl+C stops)", flush=True)
    serve(create_app(explorer, hosts), args.host, port)
    return 0
