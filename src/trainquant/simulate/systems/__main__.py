"""``python -m trainquant.simulate.systems --config CONFIG.json --port PORT``: one simulated system in its own
process, serving until killed (``server.start_process`` runs it this way so a planned crash ends a real process)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from trainquant.simulate.systems.server import SystemConfig, SystemServer


def _write_atomically(path: Path, text: str) -> None:
    # The parent polls for this file: it must never see it half written.
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainquant.simulate.systems", description="Serve one simulated school system over HTTP.")
    parser.add_argument("--config", type=Path, required=True, help="a JSON file with SystemConfig's fields, items included")
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-file", type=Path, help="where to write the port once listening")
    args = parser.parse_args(argv)
    try:
        config = SystemConfig.from_dict(json.loads(args.config.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        parser.error(f"{args.config}: {exc}")
    server = SystemServer((args.host, args.port), config, exit_on_crash=True)
    if args.port_file is not None:
        _write_atomically(args.port_file, str(server.server_address[1]))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
