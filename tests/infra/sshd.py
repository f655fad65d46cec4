"""A real SFTP server for tests: Debian's OpenSSH ``sshd`` on a free loopback port, with its own
host key, config and authorized key (a user key generated for the test), serving the test's
folders by their absolute paths. Started in the foreground (``-D -e``), stopped by its pid."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


@dataclass
class SftpServer:
    host: str
    port: int
    user: str
    key_file: Path
    process: subprocess.Popen
    log: Path

    def url(self, path: str | Path) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}{Path(path).resolve()}"

    @property
    def options(self) -> dict:
        """fsspec's SFTP options for this server (no agent, no ~/.ssh keys)."""
        return {"key_filename": str(self.key_file), "look_for_keys": False, "allow_agent": False}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def start_sshd(folder: Path, timeout: float = 20) -> SftpServer:
    """Start sshd with everything it needs under ``folder``; fails with a clear message when
    OpenSSH's server is not installed (``apt-get install openssh-server``)."""
    if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        raise RuntimeError(f"{SSHD} is missing: apt-get install openssh-server")
    folder.mkdir(parents=True, exist_ok=True)
    host_key, user_key = folder / "host_ed25519", folder / "user_ed25519"
    _keygen(host_key)
    _keygen(user_key)
    authorized = folder / "authorized_keys"
    authorized.write_text((folder / "user_ed25519.pub").read_text())
    authorized.chmod(0o600)
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    port, user = _free_port(), getpass.getuser()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
        f"AuthorizedKeysFile {authorized}\nPidFile {folder / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        "UsePAM no\nStrictModes no\nPermitRootLogin yes\nSubsystem sftp internal-sftp\n"
        "LogLevel VERBOSE\n"
    )
    log = folder / "sshd.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return SftpServer("127.0.0.1", port, user, user_key, process, log)
        except OSError:
            time.sleep(0.1)
    stop_sshd(process)
    raise RuntimeError(f"sshd did not answer on port {port} within {timeout} s: {log.read_text()}")


def stop_sshd(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
