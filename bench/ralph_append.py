"""Ralph's LRS server with its ``fs`` backend patched to append: run by ``bench_lrs.py`` in Ralph's own venv.

    /tmp/ralph-venv/bin/python bench/ralph_append.py --host 127.0.0.1 --port 8100

Ralph 5.1's file-system LRS backend (``ralph.backends.lrs.fs.FSLRSBackend``) writes every POST batch
to one file, ``fs_lrs.jsonl``, with the data backend's default operation type, ``CREATE``
(``FSDataBackend.default_operation_type``): ``FSDataBackend._write_bytes`` then refuses to write to a
file that exists, so every batch after the first is answered 500. Here ``FSLRSBackend.write`` is
wrapped to ask for ``APPEND`` when the caller asks for nothing (Ralph's statements router never
does), and nothing else changes: the same validation, duplicate check (it reads the file back) and
history file. Then the app is served as ``ralph runserver -b fs`` serves it (uvicorn, one process,
Ralph's logging config), without ``--reload`` and at uvicorn's default log level, not ``debug``.

Ralph reads its settings from the environment (``RALPH_RUNSERVER_BACKEND=fs``, ``RALPH_AUTH_FILE``,
...), which the bench sets; run it from an empty folder: the statements file is written there.
"""

from __future__ import annotations

import argparse
from typing import Any


def patch() -> None:
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    create_write = FSLRSBackend.write

    def append_write(self: Any, data: Any, target: str | None = None, chunk_size: int | None = None, ignore_errors: bool = False,
                     operation_type: Any = None) -> int:
        return create_write(self, data, target, chunk_size, ignore_errors, operation_type or BaseOperationType.APPEND)

    FSLRSBackend.write = append_write  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8100)
    args = ap.parse_args()
    patch()
    import uvicorn
    from ralph.api import app
    from ralph.conf import settings

    uvicorn.run(app, host=args.host, port=args.port, log_config=settings.LOGGING)


if __name__ == "__main__":
    main()
