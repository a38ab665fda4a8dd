"""The command line, run as a user runs it: a separate process with its environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from biostresstest.sources import rivm_groenkaart


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BIOSTRESSTEST_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "biostresstest.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        check=False,
    )


def test_sources_list_prints_the_table() -> None:
    out = _cli("sources", "list", env={}).stdout
    for source_id in (
        "cbs-gemeenten-2023",
        "cbs-wijkenbuurten-2020",
        "rivm-groenkaart",
        "natura2000",
    ):
        assert source_id in out
    assert "https://api.pdok.nl/rvo/natura2000" in out and "licence" in out


def test_gemeenten_search(tmp_path: Path, mirror: Path) -> None:
    env = {"BIOSTRESSTEST_DATA_DIR": str(tmp_path), "BIOSTRESSTEST_MIRROR": str(mirror)}
    result = _cli("gemeenten", "--search", "bred", env=env)
    assert result.returncode == 0 and "GM0758  Breda" in result.stdout


def test_unknown_gemeente_says_how_to_find_codes(tmp_path: Path, mirror: Path) -> None:
    env = {"BIOSTRESSTEST_DATA_DIR": str(tmp_path), "BIOSTRESSTEST_MIRROR": str(mirror)}
    result = _cli("run", "--gemeente", "GM9999", env=env)
    assert result.returncode == 2
    assert "no gemeente with code GM9999" in result.stderr
    assert "biostresstest gemeenten --search" in result.stderr
    assert "Traceback" not in result.stderr
    malformed = _cli("run", "--gemeente", "Breda", env=env)
    assert malformed.returncode == 2 and "GM0758" in malformed.stderr


def test_offline_without_mirror_names_the_source_and_the_setting(tmp_path: Path) -> None:
    env = {"BIOSTRESSTEST_DATA_DIR": str(tmp_path), "BIOSTRESSTEST_OFFLINE": "1"}
    result = _cli("run", "--gemeente", "GM0758", env=env)
    assert result.returncode == 4
    assert "cbs-gemeenten-2023" in result.stderr and "https://api.pdok.nl/" in result.stderr
    assert "BIOSTRESSTEST_MIRROR" in result.stderr


def test_corrupt_input_file_names_source_and_file(tmp_path: Path, mirror: Path) -> None:
    fake = tmp_path / "mirror"
    fake.mkdir()
    for folder in mirror.iterdir():
        if folder.is_dir():
            (fake / folder.name).symlink_to(folder)
    rel = Path(rivm_groenkaart.SPEC.mirror_path)
    (fake / rel.parent).unlink()
    (fake / rel.parent).mkdir()
    (fake / rel).write_bytes((mirror / rel).read_bytes()[:4096])
    env = {"BIOSTRESSTEST_DATA_DIR": str(tmp_path / "data"), "BIOSTRESSTEST_MIRROR": str(fake)}
    result = _cli("run", "--gemeente", "GM0758", env=env)
    assert result.returncode == 4, result.stderr
    assert "rivm-groenkaart" in result.stderr and rel.name in result.stderr
    assert not (tmp_path / "data" / "store" / "GM0758").exists()
