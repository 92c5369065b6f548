"""Config loading: conf/config.yaml <- conf/<preset>.yaml <- command-line key=value overrides (OmegaConf)."""
from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from .paths import TRAINING_DIR

CONF_DIR = TRAINING_DIR / "conf"


def load_config(overrides: list[str] | None = None, conf_dir: Path | str = CONF_DIR) -> DictConfig:
    conf_dir = Path(conf_dir)
    overrides = list(overrides or [])
    for o in overrides:
        if "=" not in o:
            raise ValueError(f"override must be key=value, got {o!r}")
    cfg = OmegaConf.load(conf_dir / "config.yaml")
    cli = OmegaConf.from_dotlist(overrides)
    preset = cli.get("preset", None) or cfg.get("preset", None)
    if preset:
        p = conf_dir / f"{preset}.yaml"
        if not p.exists():
            raise FileNotFoundError(f"unknown preset {preset!r}: {p} not found")
        cfg = OmegaConf.merge(cfg, OmegaConf.load(p))
    OmegaConf.set_struct(cfg, True)  # unknown keys are errors (typos must not pass silently)
    cfg = OmegaConf.merge(cfg, cli)
    if preset:
        cfg.preset = preset
    return cfg


def resolve_path(p: str | None) -> Path | None:
    """Relative paths in the config are relative to training/ (where the CLI is documented to run)."""
    if p is None:
        return None
    p = Path(str(p)).expanduser()
    return p if p.is_absolute() else (TRAINING_DIR / p).resolve()


def parse_cli(argv: list[str] | None = None) -> tuple[DictConfig, bool]:
    argv = list(sys.argv[1:] if argv is None else argv)
    show = "--cfg" in argv
    argv = [a for a in argv if a != "--cfg"]
    for a in argv:
        if a.startswith("-"):
            raise SystemExit(f"unknown option {a!r}; use key=value overrides or --cfg")
    return load_config(argv), show


def to_yaml(cfg: DictConfig) -> str:
    return OmegaConf.to_yaml(cfg, resolve=False)
