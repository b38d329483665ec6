#!/usr/bin/env python
"""Benchmark: candidate BPE engines against tiktoken's ``encode_ordinary``, ids checked exactly.

Run from the repository root with an interpreter that has the candidates installed::

    PYTHONPATH=src python bench/bench_engines.py           # full run (a few minutes on 2 cores)
    PYTHONPATH=src python bench/bench_engines.py --quick   # smaller sizes, fewer repeats
    PYTHONPATH=src python bench/bench_engines.py --json    # machine-readable results

Candidates (each skipped with a note when it is not installed): ``rs_bpe``, ``bpe_openai``,
``fastokens`` (``Tokenizer.from_tiktoken`` on the packaged rank file) and ``quicktok``. The
baseline is tiktoken's ``encode_ordinary`` on the encoding ``inputtokens`` builds from its
packaged files; the reference ids are ``inputtokens.core.tokenizer.encode_text`` with that
encoding (exactly ``encode_ordinary``, also where tiktoken alone panics or is slow). An engine
whose ids or counts differ from the reference on any text is reported as disqualified.

Corpora: prose (this repository's README and docs), code (its Python sources), JSON, CJK,
random Unicode text, and pathological inputs (a run of one letter, a run of spaces, random
letters without spaces, a run of digits). Each is cut to sizes from ~50 tokens to 1 MiB. The
tiny size is many *different* strings (each call misses any per-string cache), since per-call
overhead matters most for a request made of many short texts. Engines are timed in rotating
order within each repeat, and the median of the repeats is reported, as a ratio against
tiktoken measured in the same repeats. Load time, first-call latency and peak RSS are measured
in fresh interpreters.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The baseline and the reference are tiktoken itself: inputtokens must not use its engine here.
os.environ["INPUTTOKENS_TOKENIZER_ENGINE"] = "tiktoken"

from inputtokens.core.tokenizer import ENCODING_SPECS, encode_text, get_encoding  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ROOT / "src" / "inputtokens" / "vocab"
ENCODINGS = ("o200k_base", "cl100k_base")

Encode = Callable[[str], list[int]]
Count = Callable[[str], int]

# --------------------------------------------------------------------------------------------
# Engines: name -> loader(encoding) -> (encode, count or None). A loader raises when the engine
# is missing or cannot express the encoding.
# --------------------------------------------------------------------------------------------


def _load_tiktoken(name: str) -> tuple[Encode, Count | None]:
    enc = get_encoding(name)
    return enc.encode_ordinary, None


def _load_rs_bpe(name: str) -> tuple[Encode, Count | None]:
    from rs_bpe.bpe import openai

    tok = {"o200k_base": openai.o200k_base, "cl100k_base": openai.cl100k_base}[name]()
    return tok.encode, tok.count


def _load_bpe_openai(name: str) -> tuple[Encode, Count | None]:
    from bpe_openai import _bindings

    tok = _bindings.tokenizer_for_encoding(name)
    return tok.encode, tok.count


def _load_fastokens(name: str) -> tuple[Encode, Count | None]:
    from fastokens import Tokenizer

    spec = ENCODING_SPECS[name]
    tok = Tokenizer.from_tiktoken(
        str(VOCAB / spec.rank_file), pattern=spec.pattern, special_tokens=spec.special_tokens
    )
    return (lambda text: tok.encode_ordinary(text).ids), None


def _load_quicktok(name: str) -> tuple[Encode, Count | None]:
    import quicktok

    tok = quicktok.BasicTokenizer()  # a trainable byte-level BPE without a pre-tokenizer
    tok.load(str(VOCAB / ENCODING_SPECS[name].rank_file))  # raises: not its model format
    return tok.encode, None


def _surrogates_like_tiktoken(
    load: Callable[[str], tuple[Encode, Count | None]],
) -> Callable[[str], tuple[Encode, Count | None]]:
    """Engines take only valid UTF-8; tiktoken replaces lone surrogates (UTF-16 round trip).

    inputtokens does the same before calling an engine, so the bench measures that path.
    """

    def wrap(fn: Callable[[str], Any]) -> Callable[[str], Any]:
        def call(text: str) -> Any:
            try:
                return fn(text)
            except UnicodeEncodeError:
                return fn(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))

        return call

    def loader(name: str) -> tuple[Encode, Count | None]:
        encode, count = load(name)
        return wrap(encode), (wrap(count) if count is not None else None)

    return loader


LOADERS: dict[str, Callable[[str], tuple[Encode, Count | None]]] = {
    "tiktoken": _load_tiktoken,
    "rs_bpe": _surrogates_like_tiktoken(_load_rs_bpe),
    "bpe_openai": _surrogates_like_tiktoken(_load_bpe_openai),
    "fastokens": _surrogates_like_tiktoken(_load_fastokens),
    "quicktok": _load_quicktok,
}

# --------------------------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------------------------

_CJK = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
    "過去現在未来東京大阪日本語学校先生時間電話会社仕事食事天気今日明日昨日新聞映画音楽写真旅行"
    "ひらがなカタカナです。ます。した、ません。でしょう？한국어안녕하세요감사합니다사랑학교친구"
)
_CJK_PUNCT = "，。、；：？！「」（）"


def _repeat_to(text: str, n_chars: int) -> str:
    return (text * (n_chars // max(1, len(text)) + 1))[:n_chars]


def _json_text(rng: random.Random, n_chars: int) -> str:
    rows: list[str] = []
    size = 0
    while size < n_chars:
        obj = {
            "id": f"{rng.getrandbits(48):012x}",
            "name": rng.choice(["Ana", "Bo", "Chloé", "Dmitri", "Eun-ji"]),
            "score": round(rng.uniform(-1e3, 1e3), 3),
            "tags": rng.sample(["a", "beta", "gamma_ray", "delta-9", "ε"], 2),
            "ok": rng.random() < 0.5,
            "nested": {"n": rng.randint(0, 10**6), "path": "/v1/items/" + str(rng.randint(1, 99))},
        }
        row = json.dumps(obj, indent=rng.choice([None, 2]), ensure_ascii=rng.random() < 0.5)
        rows.append(row)
        size += len(row) + 2
    return (",\n".join(rows))[:n_chars]


def _cjk_text(rng: random.Random, n_chars: int) -> str:
    out: list[str] = []
    while len(out) < n_chars:
        out.extend(rng.choice(_CJK) for _ in range(rng.randint(4, 30)))
        out.append(rng.choice(_CJK_PUNCT) if rng.random() < 0.8 else " GPT-4o 2025 ")
    return "".join(out)[:n_chars]


def _random_text(rng: random.Random, n_chars: int) -> str:
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x300, 0x36F),
              (0x600, 0x6FF), (0x900, 0x97F), (0x3040, 0x30FF), (0x4E00, 0x9FFF),
              (0xAC00, 0xD7A3), (0x1F300, 0x1FAFF), (0x2000, 0x206F)]  # fmt: skip
    chars = []
    for _ in range(n_chars):
        r = rng.random()
        if r < 0.15:
            chars.append(rng.choice(" \n\t\r  "))
        else:
            lo, hi = rng.choice(blocks)
            chars.append(chr(rng.randint(lo, hi)))
    return "".join(chars)


def _source_text(pattern: str, n_chars: int, rng: random.Random) -> str:
    files = sorted(ROOT.glob(pattern))
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in files)
    start = rng.randrange(len(text))  # a different window for every seed
    return _repeat_to(text[start:] + "\n\n" + text[:start], n_chars)


def corpus(kind: str, n_chars: int, seed: int = 16) -> str:
    """`n_chars` characters of corpus `kind`, the same for the same seed on every run."""
    rng = random.Random(f"{kind}/{seed}")
    if kind == "prose":
        return _source_text("docs/*.md", n_chars, rng)
    if kind == "code":
        return _source_text("src/inputtokens/**/*.py", n_chars, rng)
    if kind == "json":
        return _json_text(rng, n_chars)
    if kind == "cjk":
        return _cjk_text(rng, n_chars)
    if kind == "random":
        return _random_text(rng, n_chars)
    if kind == "one_letter":
        return "a" * n_chars
    if kind == "spaces":
        return " " * n_chars
    if kind == "letters":
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n_chars))
    if kind == "digits":
        return "".join(rng.choice("0123456789") for _ in range(n_chars))
    raise ValueError(kind)


NATURAL = ("prose", "code", "json", "cjk", "random")
PATHOLOGICAL = ("one_letter", "spaces", "letters", "digits")
# Strings per batch: each engine encodes each batch once, so an engine with a per-string or
# per-word cache meets text it has not seen (random text and letters defeat word caches too).
SIZES = {"tiny": (200, 300), "1KiB": (1 << 10, 40), "64KiB": (1 << 16, 2), "1MiB": (1 << 20, 1)}


def texts_for(kind: str, size: str, seed: int) -> list[str]:
    """One batch of different strings of `size` (tiny: ~50 tokens, others in UTF-8 bytes)."""
    n_bytes, count = SIZES[size]
    out = []
    for i in range(count):
        text = corpus(kind, n_bytes, seed * 1000 + i)
        if size != "tiny":  # trim multi-byte corpora to about n_bytes of UTF-8
            text = text.encode("utf-8", "surrogatepass")[:n_bytes].decode("utf-8", "ignore")
        out.append(text)
    return out


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


def _safe_call(fn: Callable[[str], Any], text: str) -> tuple[Any, float]:
    start = time.perf_counter()
    try:
        out = fn(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3 panics derive from BaseException
        out = exc
    return out, time.perf_counter() - start


def measure(
    engines: dict[str, tuple[Encode, Count | None]],
    batches: list[list[str]],
    reference: Callable[[str], list[int]],
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Per engine, the median seconds per call of encode and count over the batches.

    Every engine encodes every batch once, engines in rotating order; batch 0 is a warm-up.
    Also returns the engines whose ids or counts differed from `reference` (with the reason).
    """
    times: dict[tuple[str, str], list[float]] = {}
    failed: dict[str, str] = {}
    names = list(engines)
    for r, batch in enumerate(batches):
        expected = [reference(t) for t in batch]
        for name in names[r % len(names) :] + names[: r % len(names)]:
            if name in failed:
                continue
            encode, count = engines[name]
            for what, fn in (("encode", encode), ("count", count)):
                if fn is None:
                    continue
                outs: list[Any] = []
                start = time.perf_counter()
                try:
                    for text in batch:
                        outs.append(fn(text))
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # noqa: BLE001 - pyo3 panics are BaseException
                    failed[name] = f"{what} raised {type(exc).__name__} ({len(batch[0])} chars)"
                    break
                took = (time.perf_counter() - start) / len(batch)
                want = expected if what == "encode" else [len(e) for e in expected]
                if [o if isinstance(o, int) else list(o) for o in outs] != want:
                    failed[name] = f"{what} differs ({len(batch[0])} chars)"
                    break
                if r:  # batch 0 warms up
                    times.setdefault((name, what), []).append(took)
    result: dict[str, dict[str, Any]] = {n: {} for n in names}
    for (name, what), values in times.items():
        if name not in failed:
            result[name][what + "_s"] = statistics.median(values)
    for name, why in failed.items():
        result[name]["encode"] = "error" if "raised" in why else "wrong"
    return result, failed


def check_exact(
    engines: dict[str, tuple[Encode, Count | None]], texts: list[str], reference: list[list[int]]
) -> dict[str, str]:
    """Engines whose ids or counts differ from the reference on these texts, with the reason."""
    bad: dict[str, str] = {}
    for name, (encode, count) in engines.items():
        for text, ref in zip(texts, reference, strict=True):
            ids, _ = _safe_call(encode, text)
            if isinstance(ids, BaseException):
                if name != "tiktoken":  # tiktoken's panics are why the splitter exists
                    bad[name] = f"raised {type(ids).__name__} on {len(text)} chars"
                break
            if list(ids) != ref:
                bad[name] = f"ids differ on {text[:40]!r}... ({len(text)} chars)"
                break
            if count is not None and count(text) != len(ref):
                bad[name] = f"count differs on {text[:40]!r}... ({len(text)} chars)"
                break
    return bad


TRICKY = [
    "",
    " ",
    "   \n\n  \r\n\t x",
    "Hello world! It's 2025; they'll've 1234567 apples.",
    "I'M DON'T you'RE \"quoted\" 'single'",
    "   leading and trailing   ",
    "line1\r\nline2\rline3\n\n\n",
    "<|endoftext|> <|im_start|>user<|im_end|> <|endofprompt|>",
    "👩‍👩‍👧‍👦 🇵🇹 ❤️ e\u0301 a\u0308\u0323",
    "你好，世界。日本語のテキストです。안녕하세요",
    "def f(x):\n    return x**2  # comment\n",
    '{"a": [1, 2.5, null], "b": "\\u00e9"}',
    "\u00a0\u2003\u3000 nbsp and ideographic spaces",
    "x" * 5000,
    " " * 3000 + "end",
    "1" * 100,
    "path/to/file.txt\n/usr/bin\n",
    "MixedCASEWordsHereAndTHERE",
    "\ud800 lone \udfff surrogates \ud83d",
]


# --------------------------------------------------------------------------------------------
# Load time and RSS in fresh interpreters
# --------------------------------------------------------------------------------------------

_COLD = r"""
import json, sys, time
start = time.perf_counter_ns()
sys.path.insert(0, sys.argv[2])
import bench_engines as b
after_import = time.perf_counter_ns()
encode, count = b.LOADERS[sys.argv[1]]("o200k_base")
loaded = time.perf_counter_ns()
encode("Tell me a joke about tokenizers, please.")
first = time.perf_counter_ns()
hwm = 0.0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) / 1024
print(json.dumps({"load_ms": (loaded - after_import) / 1e6, "first_ms": (first - loaded) / 1e6,
                  "peak_rss_mb": hwm}))
"""

_BARE = r"""
import sys
sys.path.insert(0, sys.argv[2])
import bench_engines
hwm = 0.0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) / 1024
print(hwm)
"""


def cold(names: list[str], runs: int) -> dict[str, dict[str, float]]:
    """Median load time, first-call time and peak RSS for o200k, each engine in fresh processes."""
    here = str(Path(__file__).resolve().parent)
    samples: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for _ in range(runs):
        for name in names:  # alternate engines run by run
            proc = subprocess.run(
                [sys.executable, "-c", _COLD, name, here], capture_output=True, text=True
            )
            if proc.returncode == 0:
                samples[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    bare = subprocess.run(
        [sys.executable, "-c", _BARE, "", here], capture_output=True, text=True, check=True
    )
    base_mb = float(bare.stdout.strip())
    out: dict[str, dict[str, float]] = {}
    for name, runs_ in samples.items():
        if runs_:
            out[name] = {
                k: statistics.median(s[k] for s in runs_)
                for k in ("load_ms", "first_ms", "peak_rss_mb")
            }
            out[name]["rss_over_bare_mb"] = out[name]["peak_rss_mb"] - base_mb
    return out


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def run(quick: bool) -> dict[str, Any]:
    sizes = ["tiny", "1KiB", "64KiB"] + ([] if quick else ["1MiB"])
    repeats = 3 if quick else 7
    results: dict[str, Any] = {"encodings": {}, "unavailable": {}, "disqualified": {}}
    for enc_name in ENCODINGS:
        enc = get_encoding(enc_name)
        engines: dict[str, tuple[Encode, Count | None]] = {}
        for name, loader in LOADERS.items():
            try:
                engines[name] = loader(enc_name)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - any failure makes it unavailable
                results["unavailable"][f"{name}/{enc_name}"] = f"{type(exc).__name__}: {exc}"
        bad = check_exact(engines, TRICKY, [encode_text(enc, t) for t in TRICKY])
        rows: dict[str, Any] = {}
        for kind in NATURAL + PATHOLOGICAL:
            for size in sizes:
                n = repeats if size != "1MiB" else max(2, repeats // 2)
                batches = [texts_for(kind, size, seed) for seed in range(n + 1)]
                fair = {name: e for name, e in engines.items() if name not in bad}
                timing, failed = measure(fair, batches, lambda t, e=enc: encode_text(e, t))
                for name, why in failed.items():
                    if name != "tiktoken":  # tiktoken's panics are why the splitter exists
                        bad.setdefault(name, f"{kind}/{size}: {why}")
                tokens = statistics.mean(len(encode_text(enc, t)) for t in batches[0])
                rows[f"{kind}/{size}"] = {"tokens_per_call": tokens, "timing": timing}
                print(f"  {enc_name} {kind}/{size} done", file=sys.stderr)
        for name, why in bad.items():
            results["disqualified"][f"{name}/{enc_name}"] = why
        results["encodings"][enc_name] = rows
    results["cold_o200k"] = cold(
        [n for n in LOADERS if f"{n}/o200k_base" not in results["unavailable"]], 3 if quick else 5
    )
    return results


def _ratio(base: dict[str, Any], other: dict[str, Any], what: str) -> str:
    b, o = base.get("encode_s"), other.get(what + "_s")
    if isinstance(o, str) or o is None:
        return other.get(what, "-") if isinstance(other.get(what), str) else "-"
    if not isinstance(b, float):
        return f"{o * 1e3:.1f}ms"
    return f"{b / o:5.2f}x"


def print_report(res: dict[str, Any]) -> None:
    for key, why in res["unavailable"].items():
        print(f"unavailable: {key}: {why}")
    for key, why in res["disqualified"].items():
        print(f"DISQUALIFIED (not exact): {key}: {why}")
    for enc_name, rows in res["encodings"].items():
        names = [n for n in next(iter(rows.values()))["timing"] if n != "tiktoken"]
        print(f"\n{enc_name}: speed-up over tiktoken encode_ordinary (>1 is faster)")
        head = "".join(f"{n + ' ids':>16}{n + ' count':>16}" for n in names)
        print(f"{'case':<18}{'tokens':>9}{'tiktoken':>12}{head}")
        for case, row in rows.items():
            timing = row["timing"]
            base = timing.get("tiktoken", {})
            b = base.get("encode_s")
            bt = f"{b * 1e6:9.1f}µs" if isinstance(b, float) else str(base.get("encode", "-"))
            cells = "".join(
                f"{_ratio(base, timing[n], 'encode'):>16}{_ratio(base, timing[n], 'count'):>16}"
                for n in names
            )
            print(f"{case:<18}{row['tokens_per_call']:9.0f}{bt:>12}{cells}")
    print("\no200k in a fresh interpreter (median): load, first call, peak RSS (over bare)")
    for name, c in res["cold_o200k"].items():
        print(
            f"  {name:<12}{c['load_ms']:8.1f} ms {c['first_ms']:7.2f} ms "
            f"{c['peak_rss_mb']:7.1f} MB ({c['rss_over_bare_mb']:+.1f} MB)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    res = run(args.quick)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print_report(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
