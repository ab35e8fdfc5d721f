"""Credentials are redacted by their shape wherever they appear: hyperparameter values, list
items, nested keys, model-card text and the step summary (the training record: in
tests/integration/test_user_journeys.py); ordinary
hyperparameters (rates, paths, hashes, git SHAs, UUIDs, base64 of non-secrets) never are.

Shapes, and where they are documented:
- detect-secrets plugins (Yelp/detect-secrets, detect_secrets/plugins/*.py): AWS `AKIA` +
  16 (aws.py), GitHub `ghp_` + 36 (github_token.py), Slack `xoxb-...` (slack.py), Stripe
  `sk_live_` + 24 (stripe.py), PEM/OpenSSH/PGP private keys (private_key.py), basic auth
  `://user:password@` (basic_auth.py), JWTs (jwt.py);
- patterns we add, from gitleaks/gitleaks cmd/generate/config/rules/: Hugging Face `hf_` + 34
  letters (huggingface.go), fine-grained GitHub `github_pat_` + 82 (github.go), Google `AIza` +
  35 (gcp.go); `Bearer` + b64token from RFC 6750 section 2.1.

Every sample is assembled at run time, so no credential-shaped literal is committed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import uuid
from pathlib import Path

import pytest

from tests.helpers import run_python, run_usc
from unified_supply_chain import redact
from unified_supply_chain.bom.build import clean_strings

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _chars(n: int, alphabet: str = _ALNUM, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "\n".join(_chars(64, seed=i) for i in range(4))
    + "\n-----END RSA PRIVATE KEY-----"
)

#: kind -> a credential of that kind (what must disappear from every output).
CREDENTIALS = {
    "aws": "AKIA" + _chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    "github": "ghp_" + _chars(36),
    "github-fine-grained": "github_pat_" + _chars(82, _ALNUM + "_"),
    "hugging-face": "hf_" + _chars(34, _ALNUM[:52]),
    "bearer": "Bearer " + _chars(40),
    "private-key": PEM,
    "slack": "xoxb-" + _chars(12, "0123456789") + "-" + _chars(24, _ALNUM[:26]),
    "stripe": "sk_live_" + _chars(24),
    "gcp": "AIza" + _chars(35),
    "jwt": ".".join(
        base64.urlsafe_b64encode(part).decode().rstrip("=")
        for part in (b'{"alg":"HS256","typ":"JWT"}', b'{"sub":"1234567890"}', b"s" * 32)
    ),
}


def _secret_part(kind: str) -> str:
    """What must not survive (the token after `Bearer `, the body of a key)."""
    value = CREDENTIALS[kind]
    if kind == "bearer":
        return value.split(" ", 1)[1]
    if kind == "private-key":
        return value.splitlines()[1]
    return value


@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
def test_every_kind_is_found_alone_and_inside_text(kind: str) -> None:
    value = CREDENTIALS[kind]
    for text in (value, f"use {value} to log in", f'{{"token": "{value}"}}', f"[1, '{value}']"):
        out, kinds = redact.redact_found(text)
        assert _secret_part(kind) not in out, text
        assert redact.REDACTED in out
        assert kinds, text
    # The text around it stays.
    assert redact.redact_found(f"use {value} to log in")[0].startswith("use ")


def test_a_private_key_block_goes_whole_and_every_plugin_header_is_covered() -> None:
    out, kinds = redact.redact_found(f"key:\n{PEM}\nafter")
    assert out == f"key:\n{redact.REDACTED}\nafter"
    assert kinds == ("Private Key",)
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    for pattern in PrivateKeyDetector.denylist:  # each header the plugin knows
        header = pattern.pattern  # a literal, e.g. "BEGIN OPENSSH PRIVATE KEY"
        if header.startswith("BEGIN"):
            end = header.replace("BEGIN", "END")
            text = f"a\n-----{header}-----\nsecretbody\n-----{end}-----\nb"
            assert redact.redact_found(text)[0] == f"a\n{redact.REDACTED}\nb", header
        else:  # PuTTY's key file, closed by its MAC line
            text = f"a\n{header}: ssh-rsa\nPrivate-Lines: 1\nsecretbody\nPrivate-MAC: 0f1e\nb"
            assert redact.redact_found(text)[0] == f"a\n{redact.REDACTED}\nb", header


def test_a_key_without_its_end_line_is_redacted_to_the_end() -> None:
    out, _ = redact.redact_found("x " + PEM.rsplit("\n", 1)[0])
    assert out == "x " + redact.REDACTED


def test_basic_auth_in_a_url_keeps_the_host() -> None:
    password = _chars(12)
    assert redact.redact_text(f"pip install --index-url https://bob:{password}@pypi.corp/s x") == (
        "pip install --index-url https://pypi.corp/s x"
    )
    out, kinds = redact.redact_found(f"'ftp://bob:{password}@host/'")
    assert password not in out and kinds == ("Basic Auth Credentials",)


@pytest.mark.parametrize(
    "text",
    [
        "bearer tokens expire after an hour",  # prose, not a credential
        "HF_HUB_ENABLE_HF_TRANSFER",
        "hf_" + "a" * 33,  # one letter short
        "use the hf_transfer backend",
        "github_pat_short",
        "AIzaShort",
        "Bearer short",
    ],
)
def test_added_patterns_do_not_fire_on_look_alikes(text: str) -> None:
    assert redact.redact_found(text) == (text, ())


def test_a_jwt_is_redacted_whole_even_past_the_plugins_lazy_match() -> None:
    long_jwt = CREDENTIALS["jwt"] + _chars(6000, _ALNUM + "-_")
    out, kinds = redact.redact_found(("word " * 900) + long_jwt + " tail")
    assert out.endswith(f" {redact.REDACTED} tail")
    assert kinds == ("JSON Web Token",)


def test_hostile_long_text_is_left_as_it_is() -> None:
    # Inputs on which plugin patterns backtrack (the npm one is left out for it; the others
    # run in bounded windows): each must come back unchanged.
    for text in ("/" * 100_000, "://" + "a" * 100_000, "BEGIN " * 20_000, "ab" * 50_000):
        assert redact.redact_found(text) == (text, ())


def realistic_params(n: int) -> dict[str, object]:
    """What ML configs hold: rates, counts, paths, digests, git SHAs, UUID run ids, base64
    blobs of non-secrets, model names, URLs without credentials, floats in e-notation, prose."""
    rng = random.Random(7)
    words = ["encoder", "decoder", "dropout", "optimizer", "warmup", "batch", "vocab", "head"]
    out: dict[str, object] = {}
    for i in range(n):
        w = rng.choice(words)
        values: list[object] = [
            round(rng.uniform(1e-6, 1), 8),
            rng.randint(0, 100_000),
            f"/data/{w}/{w}_{i}.parquet",
            hashlib.sha256(str(i).encode()).hexdigest(),
            hashlib.sha1(str(i).encode()).hexdigest(),
            str(uuid.UUID(int=rng.getrandbits(128))),
            base64.b64encode(f"config blob {i} {w}".encode()).decode(),
            rng.choice([True, False]),
            rng.choice(["bert-base-uncased", "meta-llama/Llama-3.1-8B", "google/flan-t5-xl"]),
            f"s3://my-bucket/{w}/run-{i}/checkpoint.pt",
            f"{rng.uniform(0, 1):.3e}",
            f"sha256:{hashlib.sha256(str(-i).encode()).hexdigest()}",
            base64.urlsafe_b64encode(hashlib.sha256(str(i).encode()).digest()).decode(),
            f"https://huggingface.co/datasets/{w}/{w}-{i}",
            f"Train the {w} with {rng.choice(words)} for {i} steps",
            "${oc.env:WANDB_API_KEY}",
        ]
        out[f"{w}.p{i}"] = values[i % len(values)]
    return out


def test_no_redaction_on_a_realistic_params_set() -> None:
    params = realistic_params(4000)
    doc = {"properties": [{"name": k, "value": str(v)} for k, v in params.items()]}
    found: list[tuple[str, tuple[str, ...]]] = []
    assert clean_strings(doc, found) == doc
    assert found == []


def test_redactions_are_reported_by_where_never_by_value() -> None:
    secret = CREDENTIALS["aws"]
    doc = {
        "components": [
            {
                "bom-ref": "hyperparameters:params.yaml",
                "properties": [{"name": "usc:hyperparameter:aws.key_id", "value": secret}],
            }
        ]
    }
    found: list[tuple[str, tuple[str, ...]]] = []
    cleaned = clean_strings(doc, found)
    assert secret not in json.dumps(cleaned)
    assert found == [
        (
            "components[hyperparameters:params.yaml].properties"
            "[usc:hyperparameter:aws.key_id].value",
            ("AWS Access Key",),
        )
    ]


def _repo(root: Path) -> Path:
    root.mkdir()
    lines = ["train:", "  lr: 0.001"]
    for kind, value in CREDENTIALS.items():
        key = kind.replace("-", "_")
        if kind == "private-key":
            body = "\n".join(f"    {line}" for line in value.splitlines())
            lines += [f"{key}: |", body]
            continue
        lines.append(f"{key}: {json.dumps(value)}")  # a value
        lines.append(f"{key}_list: [1, {json.dumps(value)}]")  # a list item
        lines.append(f"aws_{key}:\n  key_id: {json.dumps(value)}")  # a nested key
    lines.append(f"auth: {json.dumps(CREDENTIALS['bearer'])}")
    (root / "params.yaml").write_text("\n".join(lines) + "\n")
    card = "\n".join(f"Log in with {v.splitlines()[0]} ({k})." for k, v in CREDENTIALS.items())
    (root / "README.md").write_text(f"---\nlicense: mit\n---\n# A model\n\n{card}\n")
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    (root / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    return root


def test_no_credential_reaches_the_sbom_or_stderr(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    out = tmp_path / "sbom.json"
    result = run_usc("sbom", str(repo), "-o", str(out), "--no-cache")
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for kind in CREDENTIALS:
        assert _secret_part(kind) not in text, kind
        assert _secret_part(kind) not in result.stderr, kind
    assert "0.001" in text  # ordinary values stay
    # Warnings say where: the nested key, the list, the card text.
    assert ".properties[aws_github.key_id].value" in result.stderr
    assert ".properties[github_list].value" in result.stderr
    assert "[model:model.safetensors].description" in result.stderr
    assert "(GitHub Token)" in result.stderr


def test_the_step_summary_carries_no_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unified_supply_chain import actions_io

    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    rows = "\n".join(f"| {k} | {v.splitlines()[0]} |" for k, v in CREDENTIALS.items())
    actions_io.append_summary(f"## Findings\n\n| kind | text |\n|---|---|\n{rows}\n\x1b[31m")
    written = summary.read_text()
    for kind in CREDENTIALS:
        assert CREDENTIALS[kind].splitlines()[0] not in written or kind == "private-key", kind
    assert "## Findings" in written and written.count("REDACTED") >= len(CREDENTIALS) - 1
    assert "\x1b" not in written


@pytest.mark.parametrize("argv", [["--help"], ["sbom", "--help"]])
def test_help_does_not_load_the_secret_patterns(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from unified_supply_chain.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(str('detect_secrets' in sys.modules))\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert "usage: usc" in done.stdout
    assert done.stderr == "False"
