"""`essay models use NAME`: the `[llm]` settings for that model, written into the workspace's essay.toml.

tomlkit keeps everything else in the file as it was: comments, order, the other tables. The file is written
atomically and read back through the schema, so a `use` can never leave an essay.toml that essay refuses. A server
on this machine is trusted with private notes only with `--trust` (its address goes under `[privacy] trusted`); a
remote service, such as an Ollama cloud model, never is by `use`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import tomlkit
from tomlkit.exceptions import TOMLKitError

from pipeline.catalog.catalog import catalog_entry
from pipeline.core.config import CONFIG_NAME, load_settings
from pipeline.core.errors import ConfigError, UsageError
from pipeline.models.providers import LMSTUDIO_URL
from pipeline.models.providers.ollama import is_cloud_name, ollama_host, show_model
from pipeline.models.pulled import find_pulled


@dataclass(frozen=True)
class Choice:
    llm: dict[str, str]  # the [llm] keys to set; provider, model and base_url not named here are removed
    endpoint: str | None  # where requests go, for a server; None in-process
    remote: bool = False


@dataclass(frozen=True)
class Used:
    path: Path
    table: str  # the [llm] table as the file now has it
    trust_line: str


def choose(name: str) -> Choice:
    if name == "bundled":
        return Choice({"provider": "local"}, None)
    if name.startswith("ollama:"):
        model = name.removeprefix("ollama:")
        host = ollama_host()
        try:
            with httpx.Client(base_url=host, timeout=5.0) as client:
                remote = show_model(client, model).remote or is_cloud_name(model)
        except httpx.HTTPError:
            raise UsageError(f"cannot reach Ollama at {host} to check {model}: start it (`ollama serve`)") from None
        return Choice({"provider": "ollama", "model": model}, f"ollama:{model}" if remote else host, remote)
    if name.startswith("lmstudio:"):
        return Choice({"provider": "lmstudio", "model": name.removeprefix("lmstudio:")}, LMSTUDIO_URL)
    if find_pulled(name) is not None:
        return Choice({"provider": "local", "model": name}, None)
    if name.lower().endswith(".gguf") and Path(name).expanduser().is_file():
        return Choice({"provider": "local", "model": str(Path(name).expanduser().resolve())}, None)
    if catalog_entry(name) or name.startswith("hf:"):
        raise UsageError(f"{name} is not pulled yet: run `essay models pull {name}` first")
    raise UsageError(f"no model '{name}' here: `essay models` lists what this machine has")


def use_model(root: Path, name: str, *, trust: bool = False) -> Used:
    choice = choose(name)
    if trust and choice.remote:
        raise UsageError(
            f"{name} runs on Ollama's servers, not on this machine: `use --trust` trusts only servers here. To send "
            f'it private notes anyway, add "{choice.endpoint}" under [privacy] trusted in essay.toml yourself'
        )
    if trust and choice.endpoint is None:
        raise UsageError(
            f"{name} runs in this process: private notes never leave the machine, there is nothing to trust"
        )
    path = root / CONFIG_NAME
    text = path.read_text(encoding="utf-8-sig") if path.is_file() else ""
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}): fix it, then run `essay models use` again") from None
    llm = document.get("llm")
    if llm is None:
        llm = tomlkit.table()
        document["llm"] = llm
    for key in ("provider", "model", "base_url"):
        if key not in choice.llm and key in llm:
            del llm[key]
    for key, value in choice.llm.items():
        replaced = key in llm and llm[key] != value
        llm[key] = value
        if replaced:  # a comment beside the old value spoke of that value
            llm.item(key).trivia.comment = llm.item(key).trivia.comment_ws = ""
    trusted_now = False
    if trust and choice.endpoint:
        privacy = document.setdefault("privacy", tomlkit.table())
        listed = privacy.setdefault("trusted", tomlkit.array())
        if choice.endpoint not in [str(t) for t in listed]:
            listed.append(choice.endpoint)
        trusted_now = True
    _write(path, tomlkit.dumps(document))
    try:
        settings = load_settings(root)  # the schema's check, naming the problem, if the file would now be wrong
    except ConfigError:
        _write(path, text) if text else path.unlink()  # the writer's file as it was
        raise
    table = tomlkit.dumps({"llm": document["llm"]}).strip()
    return Used(path, table, _trust_line(name, choice, trusted_now, settings.trusted))


def _trust_line(name: str, choice: Choice, trusted_now: bool, trusted: tuple[str, ...]) -> str:
    if choice.endpoint is None:
        return "it runs in this process: your notes, private ones too, never leave this machine"
    if choice.remote:
        listed = choice.endpoint in trusted
        return f"{name} is a remote service (Ollama's servers): " + (
            "it is listed under [privacy] trusted, so private notes go to it"
            if listed
            else "private notes are never sent to it"
        )
    if trusted_now or choice.endpoint in trusted:
        return f"{choice.endpoint} is trusted with private notes ([privacy] trusted)"
    return (
        f"private notes are not sent to {choice.endpoint}: run `essay models use {name} --trust` to trust this "
        "server on this machine with them"
    )


def _write(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".essay-toml-", delete=False, encoding="utf-8") as f:
        f.write(text)
    try:
        if path.exists():
            os.chmod(f.name, path.stat().st_mode & 0o777)
        os.replace(f.name, path)
    except BaseException:
        Path(f.name).unlink(missing_ok=True)
        raise
