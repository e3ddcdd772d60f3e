"""No built-in secret: keys are configured, or generated once per installation into the instance folder."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from trainquant.config import Settings
from trainquant.instance import SECRETS_FILE, load_or_create_secrets

FERNET = base64.urlsafe_b64encode(b"k" * 32).decode()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_development_generates_private_random_secrets_once_and_reuses_them(tmp_path):
    first = Settings(env="development", instance_dir=tmp_path / "var")
    again = Settings(env="development", instance_dir=tmp_path / "var")
    elsewhere = Settings(env="development", instance_dir=tmp_path / "other")
    assert (first.secret_key, first.encryption_key) == (again.secret_key, again.encryption_key)
    # Two installations never share a key (the old built-in one was the same for everybody).
    assert first.secret_key != elsewhere.secret_key and first.encryption_key != elsewhere.encryption_key
    assert len(first.secret_key) >= 32
    assert len(base64.urlsafe_b64decode(first.encryption_key)) == 32  # Fernet.generate_key()'s format
    assert mode(tmp_path / "var") == 0o700
    assert mode(tmp_path / "var" / SECRETS_FILE) == 0o600
    assert first.secret_key not in repr(first)


def test_the_generated_encryption_key_is_a_fernet_key(tmp_path):
    fernet = pytest.importorskip("cryptography.fernet")
    key = Settings(env="development", instance_dir=tmp_path).encryption_key
    assert fernet.Fernet(key).decrypt(fernet.Fernet(key).encrypt(b"x")) == b"x"


def test_configured_secrets_win_over_the_instance_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TQ_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("TQ_ENCRYPTION_KEY", FERNET)
    s = Settings(env="development", instance_dir=tmp_path)
    assert (s.secret_key, s.encryption_key) == ("s" * 40, FERNET)
    assert not (tmp_path / SECRETS_FILE).exists()


def test_tests_get_ephemeral_keys_and_write_nothing(tmp_path):
    a, b = Settings(env="test", instance_dir=tmp_path), Settings(env="test", instance_dir=tmp_path)
    assert a.secret_key != b.secret_key
    assert not any(tmp_path.iterdir())


def test_weak_configured_secrets_are_refused():
    with pytest.raises(ValueError, match="at least 32"):
        Settings(env="test", secret_key="short")
    with pytest.raises(ValueError, match="Fernet key"):
        Settings(env="test", encryption_key="e" * 40)


def test_a_secrets_file_readable_by_others_is_refused(tmp_path):
    load_or_create_secrets(tmp_path)
    (tmp_path / SECRETS_FILE).chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        load_or_create_secrets(tmp_path)


def test_processes_starting_at_once_all_use_the_one_winner(tmp_path):
    code = "import sys; from pathlib import Path; from trainquant.instance import load_or_create_secrets as l; s = l(Path(sys.argv[1])); print(s.secret_key, s.encryption_key)"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "var")], stdout=subprocess.PIPE, text=True) for _ in range(6)]
    outputs = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(outputs) == 1, outputs
    assert sorted(os.listdir(tmp_path / "var")) == [SECRETS_FILE]  # no temporary file left behind


def test_the_sqlite_file_and_its_folder_are_created_private(tmp_path):
    from sqlalchemy import text

    from trainquant.db import make_engine

    db_file = tmp_path / "var" / "trainquant.db"
    engine = make_engine(Settings(env="test"), url=f"sqlite:///{db_file}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert mode(db_file) == 0o600
        assert mode(db_file.with_name("trainquant.db-wal")) == 0o600
    engine.dispose()
    assert mode(tmp_path / "var") == 0o700
