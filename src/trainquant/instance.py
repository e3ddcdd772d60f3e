"""The instance folder (``var/`` by default): private per-installation state such as generated secrets.

The folder is created 0700 and the secrets file 0600, so only the account running TrainQuant reads them.
The secrets file is written once, atomically: several server processes starting at once (``serve`` with
workers) race to create it, one wins, and every process then reads the winner's keys — a session signed
by one worker is accepted by the others.
"""

from __future__ import annotations

import base64
import errno
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path

SECRETS_FILE = "secrets"
SECRET_KEY_NAME = "TQ_SECRET_KEY"
ENCRYPTION_KEY_NAME = "TQ_ENCRYPTION_KEY"
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class InstanceSecrets:
    secret_key: str
    encryption_key: str


def new_secret_key() -> str:
    return secrets.token_urlsafe(48)


def new_encryption_key() -> str:
    """A key in Fernet's format (32 random bytes, url-safe base64), the same as ``Fernet.generate_key()``."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except (ValueError, TypeError):
        return False


def ensure_private_dir(folder: Path) -> Path:
    """``folder`` (and its parents), the folder itself created 0700. An existing folder is left as it is."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite then adopts the file, and gives
    its -wal and -shm files the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _render(values: InstanceSecrets) -> str:
    return (
        "# TrainQuant's generated secrets for this installation. Keep this file private (mode 0600) and back it up\n"
        "# with the database: the session key signs log-in cookies, the encryption key protects stored credentials.\n"
        "# Setting TQ_SECRET_KEY / TQ_ENCRYPTION_KEY in the environment overrides these values.\n"
        f"{SECRET_KEY_NAME}={values.secret_key}\n"
        f"{ENCRYPTION_KEY_NAME}={values.encryption_key}\n"
    )


def _parse(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            out[name.strip()] = value.strip()
    return out


def _read(path: Path) -> InstanceSecrets | None:
    values = _parse(path.read_text(encoding="utf-8"))
    if SECRET_KEY_NAME not in values or ENCRYPTION_KEY_NAME not in values:
        return None
    return InstanceSecrets(values[SECRET_KEY_NAME], values[ENCRYPTION_KEY_NAME])


def _publish(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` only if no file is there, never leaving a half-written file under that name.

    Written to a private temporary file first and then hard-linked into place: ``link`` fails if the name
    exists, so of racing processes exactly one publishes. Where hard links are not available, an exclusive
    create is the fallback (a racing reader may then see the file before it is complete, and retries).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(out, "w", encoding="utf-8") as fh:
                fh.write(content)
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create_secrets(folder: Path) -> InstanceSecrets:
    """The installation's secrets from ``folder/secrets``, generated on first use."""
    ensure_private_dir(folder)
    path = folder / SECRETS_FILE
    if not path.exists():
        _publish(path, _render(InstanceSecrets(new_secret_key(), new_encryption_key())))
    deadline = time.monotonic() + 5
    while True:
        found = _read(path)
        if found is not None:
            break
        if time.monotonic() > deadline:
            raise ValueError(f"{path} lacks {SECRET_KEY_NAME} or {ENCRYPTION_KEY_NAME}; add them or remove the file to generate new ones")
        time.sleep(0.05)  # only with the exclusive-create fallback: the winner is still writing
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ValueError(f"{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}")
    return found
