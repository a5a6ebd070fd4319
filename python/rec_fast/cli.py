"""The ``rec-fast`` command (also ``python -m rec_fast``).

Subcommands: ``demo`` (the built-in workload: encode, decode, verify, summarize), ``encode`` and
``decode`` (targets from ``.npz``/``.npy`` files, streams to files), ``inspect`` (a stream's
header, bits per element and checksums), ``compare`` (every method side by side), ``blocks``
(one sample of a many-dimensional posterior), ``plot`` (the figures of :mod:`rec_fast.plot`).

Exit status: 0 success; 1 a verification failed (a round trip that is not bit-identical, a
checksum that does not hold, a corrupt stream); 2 a usage or input error. Errors are one line
on stderr, ``rec-fast: error: ...``, never a traceback (set ``REC_FAST_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import re
import time
import zipfile
import zlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

#: Exit statuses.
EXIT_OK, EXIT_VERIFICATION_FAILED, EXIT_USAGE = 0, 1, 2

#: Array names of each family's two parameters in a targets or proposal file.
PARAMETER_NAMES: Dict[str, Tuple[str, str]] = {"Normal": ("loc", "scale"), "Laplace": ("loc", "scale"),
                                               "Uniform": ("low", "high")}


class InputError(ValueError):
    """A file or option the command cannot use (exit status 2)."""


def _distribution(family: str, first: Any, second: Any) -> Any:
    import rec_fast as rf

    return {"Normal": rf.Normal, "Laplace": rf.Laplace, "Uniform": rf.Uniform}[family](first, second)


def load_distribution(path: str, family: Optional[str]) -> Any:
    """A distribution from a file: an ``.npz`` with the family's two arrays (``loc`` and ``scale``,
    or ``low`` and ``high``) and optionally a string entry ``family``; or an ``.npy`` whose first
    axis has length 2 (the two parameter arrays stacked). ``family`` (an option) overrides the
    file's entry; the default is Normal."""
    try:
        return _load_distribution(path, family)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an .npz or .npy file") from None
    except MemoryError:
        raise InputError(f"{path}: its arrays do not fit in memory") from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        if isinstance(error, ValueError) and type(error).__module__.startswith("rec_fast"):
            raise  # a RecError about the parameters' values: reported as it is
        raise InputError(f"{path}: not a readable numpy .npz or .npy file ({error or type(error).__name__})") from None


def _load_distribution(path: str, family: Optional[str]) -> Any:
    loaded = np.load(path, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        family = family or "Normal"
        if loaded.ndim == 0 or loaded.shape[0] != 2:
            raise InputError(f"{path}: an .npy of parameters must stack the {family} "
                             f"{' and '.join(PARAMETER_NAMES[family])} arrays on its first axis (length 2), "
                             f"got shape {loaded.shape}")
        return _distribution(family, loaded[0], loaded[1])
    with loaded:
        stored = str(loaded["family"]) if "family" in loaded.files else None
        family = family or stored or "Normal"
        if family not in PARAMETER_NAMES:
            raise InputError(f"{path}: family {family!r} is not one of {', '.join(PARAMETER_NAMES)}")
        names = PARAMETER_NAMES[family]
        missing = [name for name in names if name not in loaded.files]
        if missing:
            raise InputError(f"{path}: a {family} needs arrays {' and '.join(names)}; the file holds "
                             f"{', '.join(loaded.files) or 'nothing'}")
        return _distribution(family, loaded[names[0]], loaded[names[1]])


_SPEC = re.compile(r"\s*([A-Za-z]+)\s*(?:\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)|:\s*([^,:]+?)\s*,\s*([^,:]+?))\s*")


def parse_distribution_spec(text: str) -> Any:
    """One distribution written ``FAMILY:A,B`` or ``FAMILY(A, B)`` (``Normal:0,1``,
    ``laplace(0, 2)``, ``Uniform(0.2, 0.5)``; the family's case does not matter), its parameters
    (loc, scale) or (low, high)."""
    match = _SPEC.fullmatch(text)
    families = {name.lower(): name for name in PARAMETER_NAMES}
    family = families.get(match.group(1).lower()) if match else None
    if match is None or family is None:
        raise InputError(f"cannot read distribution {text!r}; expected FAMILY:A,B or FAMILY(A, B) with FAMILY "
                         f"one of {', '.join(PARAMETER_NAMES)}, e.g. Normal:0,1 or 'Normal(1, 0.35)'")
    values = [value for value in match.groups()[1:] if value is not None]
    try:
        first, second = (float(value) for value in values)
    except ValueError:
        raise InputError(f"cannot read the parameters of {text!r}; they must be numbers") from None
    return _distribution(family, first, second)


def parse_proposal(spec: str, family: Optional[str] = None) -> Any:
    """A distribution spec (:func:`parse_distribution_spec`) or the path of a parameters file
    (:func:`load_distribution`, ``family`` for its family)."""
    if spec.endswith((".npz", ".npy")):
        return load_distribution(spec, family)
    try:
        return parse_distribution_spec(spec)
    except InputError as error:
        raise InputError(f"--proposal: {error}, or the path of an .npz/.npy file") from None


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None


def _write_atomically(path: str, write: Callable[[Any], None]) -> None:
    """Write ``path`` through a temporary file beside it, renamed over it once complete, so that
    an error or Ctrl-C leaves no half-written file; the name is used exactly as given."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory; give a file name")
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".rec-fast-", suffix=".part")
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _progress(arguments: argparse.Namespace) -> bool:
    """A progress bar unless --no-progress, when tqdm is installed (else a one-line hint)."""
    if arguments.no_progress:
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        print("rec-fast: (no progress bar: pip install rec_fast[progress] for one)", file=sys.stderr)
        return False
    return True


@contextlib.contextmanager
def _bar_from_start(arguments: argparse.Namespace) -> Iterator[bool]:
    """``progress=`` for the demos, whose bar shows from the start (a demo is there to be
    watched; elsewhere a bar waits a second, so quick encodes print nothing)."""
    from rec_fast import _progress as progress_module

    delay = progress_module.BAR_DELAY
    progress_module.BAR_DELAY = 0.0
    try:
        yield _progress(arguments)
    finally:
        progress_module.BAR_DELAY = delay


def _timed(call: Callable[[], Any]) -> Tuple[Any, float]:
    """(what ``call()`` returns, the seconds it took)."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def _run_demo(arguments: argparse.Namespace) -> int:
    import rec_fast as rf
    from rec_fast.workloads import default_workload

    count, method, seed, threads = arguments.count, arguments.method, arguments.seed, arguments.threads
    if count < 1:
        raise InputError(f"--count {count}; the demo needs at least one target")
    if arguments.plot:
        _require_plot()
        if os.path.isdir(arguments.plot):
            raise InputError(f"--plot {arguments.plot}: is a directory; give an image file name")
    Q, P = default_workload(count, seed)
    kl = rf.kl_divergence(Q, P)
    print(f"rec_fast {rf.__version__}: {count:,} Gaussian targets against N(0, 1), method {method!r}")
    print(f"  KL per element: mean {kl.mean():.3f} bits (5%-95%: {np.quantile(kl, 0.05):.2f}-"
          f"{np.quantile(kl, 0.95):.2f})")
    with _bar_from_start(arguments) as progress:
        enc, encode_seconds = _timed(lambda: rf.encode(Q, P, seed=seed, method=method, threads=threads,
                                                       progress=progress))
    data = enc.to_bytes()
    decoded, decode_seconds = _timed(lambda: rf.decode(data, P, threads=threads))
    identical = bool(np.array_equal(decoded.view(np.uint64), enc.samples.view(np.uint64)))
    mean_kl = float(kl.mean())
    bound = float(np.mean(kl + np.log2(kl + 1)))
    stream_bits = 8 * len(data) / count
    info = rf.stream_info(data)
    codings = sorted({chunk["coding"] for chunk in info["chunks"]})
    assert enc.steps is not None
    print(f"  encode: {count / encode_seconds:,.0f} samples/s ({encode_seconds:.2f} s), "
          f"mean steps {enc.steps.mean():.2f}")
    print(f"  decode: {count / decode_seconds:,.0f} samples/s ({decode_seconds:.2f} s)")
    print(f"  stream: {len(data):,} bytes, format version {info['format_version']}, {len(info['chunks'])} "
          f"chunk(s) ({', '.join(codings)}), header and models {enc.header_bits / count:.4f} bits/sample")
    print(f"  bits/sample, whole stream: {stream_bits:.3f} = KL {mean_kl:.3f} + {stream_bits - mean_kl:.3f} "
          f"(mean of KL + log2(KL + 1) = {bound:.3f})")
    standardized = (enc.samples - Q.loc) / Q.scale
    print(f"  standardized samples (x - mu_Q) / sigma_Q: mean {standardized.mean():+.4f}, "
          f"variance {standardized.var():.4f} (exact sampling: 0 and 1)")
    print(f"  round trip bit-identical: {identical}")
    if arguments.plot:
        from rec_fast import plot

        figure = plot.run_summary(kl, enc.bits, enc.steps, method=method)
        figure.savefig(arguments.plot)
        print(f"  figure (bits and steps against KL): {arguments.plot}")
    return EXIT_OK if identical else EXIT_VERIFICATION_FAILED


def _run_blocks(arguments: argparse.Namespace) -> int:
    """One exact sample of the COMBINER-like posterior (``rec_fast.workloads.combiner_profile``)
    coded by ``rf.encode_blocks``: bits against KL, steps, throughput, round trip."""
    import rec_fast as rf
    from rec_fast.workloads import combiner_profile

    d, seed, threads = arguments.d, arguments.seed, arguments.threads
    if d < 1:
        raise InputError(f"--d {d}; the demo needs at least one dimension")
    w = combiner_profile(d, seed)
    Q, P = w.target(), w.prior()
    layout = None if arguments.stored else rf.BlockLayout.from_kl(w.kl_bits, seed=1)
    kind = "built from Q and stored in the stream" if arguments.stored else "shared, from the expected KLs (from_kl)"
    print(f"rec_fast {rf.__version__}: one sample of a {d:,}-dimensional diagonal Gaussian posterior "
          f"(KL {w.total_kl_bits:,.1f} bits, median {np.median(w.kl_bits):.2f} bits/dimension) against N(0, 1)")
    with _bar_from_start(arguments) as progress:
        enc, encode_seconds = _timed(lambda: rf.encode_blocks(Q, P, seed=seed, layout=layout, threads=threads,
                                                              progress=progress))
    data = enc.to_bytes()
    decoded, decode_seconds = _timed(lambda: rf.decode_blocks(data, P, layout=layout, threads=threads))
    identical = bool(np.array_equal(decoded.view(np.uint64), enc.samples.view(np.uint64)))
    steps = enc.block_steps
    print(f"  layout: {kind}; {enc.layout.num_blocks:,} blocks, {d / max(1, enc.layout.num_blocks):.1f} "
          f"dimensions and {w.total_kl_bits / max(1, enc.layout.num_blocks):.2f} bits of KL per block")
    print(f"  stream: {len(data):,} bytes = {enc.total_bits:,} bits = {enc.total_bits / w.total_kl_bits:.3f} x KL "
          f"(header and layout {enc.header_bits:,} bits)")
    print(f"  steps per block: mean {steps.mean():.0f}, p99 {np.percentile(steps, 99):.0f}, max {steps.max():,}")
    print(f"  encode: {d / encode_seconds:,.0f} dimensions/s ({encode_seconds:.2f} s); "
          f"decode: {d / decode_seconds:,.0f} dimensions/s ({decode_seconds:.3f} s)")
    standardized = (enc.samples - w.q_loc) / w.q_scale
    print(f"  standardized sample (x - mu_Q) / sigma_Q: mean {standardized.mean():+.4f}, "
          f"variance {standardized.var():.4f} (exact sampling: 0 and 1)")
    print(f"  round trip bit-identical: {identical}")
    return EXIT_OK if identical else EXIT_VERIFICATION_FAILED


def _run_encode(arguments: argparse.Namespace) -> int:
    import rec_fast as rf

    Q = load_distribution(arguments.targets, arguments.family)
    P = parse_proposal(arguments.proposal, arguments.proposal_family)
    enc, seconds = _timed(lambda: rf.encode(Q, P, seed=arguments.seed, method=arguments.method,
                                            max_steps=arguments.max_steps, threads=arguments.threads,
                                            chunk_size=arguments.chunk_size, progress=_progress(arguments)))
    data = enc.to_bytes()
    _write_atomically(arguments.out, lambda file: file.write(data))
    count = len(enc)
    kl = float(np.sum(rf.kl_divergence(Q, P))) / max(1, count)
    if not arguments.quiet:
        print(f"{arguments.out}: {count:,} {Q.family} targets, shape {enc.shape}, {enc.samples.dtype.name} samples, "
              f"method {enc.method}, seed {enc.seed}; {len(data):,} bytes = {enc.bits_per_element:.3f} bits/element "
              f"(mean KL {kl:.3f} bits); {count / max(seconds, 1e-9):,.0f} elements/s")
    return EXIT_OK


def _run_decode(arguments: argparse.Namespace) -> int:
    import rec_fast as rf

    data = _read(arguments.stream)
    P = parse_proposal(arguments.proposal, arguments.proposal_family)
    samples = rf.decode(data, P, threads=arguments.threads)
    _write_atomically(arguments.out, lambda file: np.save(file, samples, allow_pickle=False))
    if not arguments.quiet:
        print(f"{arguments.out}: {samples.size:,} samples, shape {samples.shape}, {samples.dtype.name}")
    return EXIT_OK


def _run_inspect(arguments: argparse.Namespace) -> int:
    import rec_fast as rf

    data = _read(arguments.stream)
    if data[:4] == b"RECB":
        try:
            info: Dict[str, Any] = dict(rf.block_stream_info(data))
        except rf.CorruptStreamError as error:
            _print_failure(arguments, data, error)
            return EXIT_VERIFICATION_FAILED
        layout = info.pop("layout", None)
        if layout is not None:
            info["layout_blocks"] = layout.num_blocks
        info["kind"] = "block stream"
        count = int(np.prod(info["shape"], dtype=object))
        info["bytes"] = len(data)
        info["bits_per_element"] = 8 * len(data) / max(1, count)
        info["checksums"] = "header verified (chunks are checked when decoded)"
        _print_info(info, arguments.json)
        return EXIT_OK
    try:
        stream = rf.stream_info(data)
    except rf.CorruptStreamError as error:
        _print_failure(arguments, data, error)
        return EXIT_VERIFICATION_FAILED
    info = dict(stream)
    count = int(np.prod(info["shape"], dtype=object))
    chunks = info.pop("chunks")
    info["bytes"] = len(data)
    info["bits_per_element"] = 8 * len(data) / max(1, count)
    info["chunk_count"] = len(chunks)
    info["checksums"] = f"ok (header and {len(chunks)} chunk(s))"
    if arguments.json:
        info["chunks"] = chunks
    _print_info(info, arguments.json)
    return EXIT_OK


def _print_failure(arguments: argparse.Namespace, data: bytes, error: Exception) -> None:
    if arguments.json:
        print(json.dumps({"file": arguments.stream, "bytes": len(data), "checksums": "failed", "error": str(error)}))
    else:
        print(f"{arguments.stream}: {len(data):,} bytes\n  checksums: FAILED: {error}")


def _print_info(info: Dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps({key: list(value) if isinstance(value, tuple) else value for key, value in info.items()}))
        return
    for key, value in info.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{key:>18}: {shown}")


def _run_compare(arguments: argparse.Namespace) -> int:
    import rec_fast as rf
    from rec_fast.compare import FAMILIES, compare, format_table

    pairs = None
    if arguments.pair is not None:
        q1, q2, p1, p2 = arguments.pair
        q_family, p_family = (FAMILIES[name] for name in arguments.families)
        pairs = [("given pair", q_family(q1, q2), p_family(p1, p2))]
    rows = compare(pairs, arguments.methods, arguments.count, arguments.seed)
    print(f"rec_fast {rf.__version__}: {arguments.count:,} samples per pair and method; "
          "divergences and bits per sample in bits; steps = arrivals examined")
    print(format_table(rows))
    return EXIT_OK if all(row.get("identical", True) for row in rows) else EXIT_VERIFICATION_FAILED


def _require_plot() -> None:
    """Fail before any work when the figures cannot be drawn."""
    try:
        import matplotlib  # noqa: F401

        from rec_fast import plot  # noqa: F401
    except ImportError:
        raise InputError("figures need matplotlib: pip install rec_fast[plot]") from None


def _run_plot(arguments: argparse.Namespace) -> int:
    _require_plot()
    from rec_fast import plot

    options: Dict[str, Any] = {}
    if arguments.target is not None:
        options["Q"] = parse_distribution_spec(arguments.target)
    if arguments.proposal is not None:
        options["P"] = parse_distribution_spec(arguments.proposal)
    for name in ("seed", "index", "max_steps"):
        if getattr(arguments, name) is not None:
            options[name] = getattr(arguments, name)
    if arguments.method is not None:
        if arguments.kind == "sweep":
            options["methods"] = tuple(method.strip() for method in arguments.method.split(","))
        else:
            options["method"] = arguments.method
    if os.path.isdir(arguments.out):
        raise InputError(f"--out {arguments.out}: is a directory; give an image file name")
    plot.render(arguments.kind, arguments.out, **options)
    print(f"{arguments.out}: {arguments.kind}")
    return EXIT_OK


def _plot_kinds() -> List[str]:
    # rec_fast.plot.KINDS, without importing matplotlib to build the parser (a test keeps them equal).
    return ["poisson", "gprs", "branch-and-bound", "stretch", "sweep", "blocks"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rec-fast`` (every subcommand has ``--help``)."""
    from rec_fast._api import METHODS

    parser = argparse.ArgumentParser(prog="rec-fast", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    def threads(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")

    def no_progress(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--no-progress", action="store_true", help="no progress bar (shown after 1 s otherwise)")

    def proposal(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--proposal", default="Normal:0,1", metavar="SPEC",
                         help="the coding distribution P: FAMILY:A,B (default Normal:0,1) or an .npz/.npy "
                              "parameters file")
        sub.add_argument("--proposal-family", choices=list(PARAMETER_NAMES), default=None,
                         help="family of a --proposal file (default: its 'family' entry, else Normal)")

    demo = command("demo", _run_demo, "encode, decode and verify the built-in workload (Gaussian targets, "
                                      "KL around 4 bits, against N(0, 1))")
    demo.add_argument("--count", type=int, default=1_000_000, help="number of targets (default 1,000,000)")
    demo.add_argument("--method", default="gprs-bb", choices=METHODS, help="method (default gprs-bb)")
    demo.add_argument("--seed", type=int, default=0)
    threads(demo)
    no_progress(demo)
    demo.add_argument("--plot", metavar="FILE", help="save a figure of bits and steps against KL (needs matplotlib)")

    encode = command("encode", _run_encode, "encode one sample of each target in a file to a stream file")
    encode.add_argument("targets", metavar="TARGETS",
                        help="an .npz with arrays loc and scale (Normal, Laplace) or low and high (Uniform), and "
                             "optionally a string entry 'family'; or an .npy stacking the two arrays")
    encode.add_argument("--out", "-o", required=True, metavar="STREAM", help="the stream file to write")
    encode.add_argument("--family", choices=list(PARAMETER_NAMES), default=None,
                        help="the targets' family (default: the file's 'family' entry, else Normal)")
    proposal(encode)
    encode.add_argument("--method", default="gprs-bb", choices=METHODS, help="method (default gprs-bb)")
    encode.add_argument("--seed", type=int, default=0, help="the seed shared with the decoder (default 0)")
    encode.add_argument("--chunk-size", type=int, default=None, help="elements per chunk (default 65,536)")
    encode.add_argument("--max-steps", type=int, default=None, help="bound on each element's search")
    threads(encode)
    no_progress(encode)
    encode.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")

    decode = command("decode", _run_decode, "decode a stream file to an .npy of samples")
    decode.add_argument("stream", metavar="STREAM")
    decode.add_argument("--out", "-o", required=True, metavar="SAMPLES.npy", help="the .npy file to write")
    proposal(decode)
    threads(decode)
    decode.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")

    inspect = command("inspect", _run_inspect, "print a stream's header, bits per element and whether every "
                                               "checksum holds (exit status 1 if not)")
    inspect.add_argument("stream", metavar="STREAM")
    inspect.add_argument("--json", action="store_true", help="one JSON object instead of lines")

    table = command("compare", _run_compare, "compare every method on a pair or the built-in suite")
    table.add_argument("--pair", nargs=4, type=float, metavar=("Q1", "Q2", "P1", "P2"),
                       help="one pair instead of the built-in suite: the parameters (loc, scale), or "
                            "(low, high) for Uniform, of Q and P")
    table.add_argument("--families", nargs=2, default=["Normal", "Normal"], metavar=("Q_FAMILY", "P_FAMILY"),
                       choices=list(PARAMETER_NAMES), help="families of --pair (default: Normal Normal)")
    table.add_argument("--count", type=int, default=20_000, help="samples per pair and method (default 20,000)")
    table.add_argument("--methods", nargs="+", default=None, choices=METHODS, metavar="METHOD",
                       help="methods to run (default: all)")
    table.add_argument("--seed", type=int, default=0)

    block = command("blocks", _run_blocks, "code one sample of a many-dimensional posterior in blocks")
    block.add_argument("--d", type=int, default=200_000, help="dimensions (default 200,000)")
    block.add_argument("--seed", type=int, default=0)
    threads(block)
    no_progress(block)
    block.add_argument("--stored", action="store_true",
                       help="let the encoder build the layout from Q and store it (default: a shared layout)")

    figure = command("plot", _run_plot, "draw a figure of the talk (needs matplotlib; docs/plots.md)")
    figure.add_argument("kind", choices=_plot_kinds(), metavar="KIND", help=f"one of {', '.join(_plot_kinds())}")
    figure.add_argument("--out", "-o", required=True, metavar="FILE", help="image file (.png, .pdf, .svg)")
    figure.add_argument("--target", "-Q", default=None, metavar="SPEC",
                        help="the target Q of the pair pictures, e.g. 'Normal(1, 0.35)' (the default) or Laplace:0.7,0.3")
    figure.add_argument("--proposal", "-P", default=None, metavar="SPEC",
                        help="the coding distribution P, e.g. 'Normal(0, 1)' (the default)")
    figure.add_argument("--seed", type=int, default=None, help="the seed (default 0)")
    figure.add_argument("--index", type=int, default=None, help="the element's stream index (search pictures)")
    figure.add_argument("--max-steps", type=int, default=None,
                        help="bound on the search drawn (poisson, gprs: default 65,536; branch-and-bound: 127)")
    figure.add_argument("--method", default=None,
                        help="branch-and-bound: the method; sweep: comma-separated methods")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``rec-fast`` with ``argv`` (default: the process's arguments); returns the exit status."""
    parser = build_parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit:  # --help (0) or a usage error (2, message printed by argparse)
        return int(exit.code or 0)
    if arguments.command is None:
        arguments = parser.parse_args(["demo"])
    from rec_fast import CorruptStreamError, RecError

    try:
        return int(arguments.run(arguments))
    except KeyboardInterrupt:
        print("rec-fast: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`rec-fast inspect s.rec | head -1`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_VERIFICATION_FAILED
    except Exception as error:
        if os.environ.get("REC_FAST_DEBUG"):
            raise
        if isinstance(error, CorruptStreamError):
            status = EXIT_VERIFICATION_FAILED
        elif isinstance(error, (InputError, RecError, ValueError, TypeError, OSError, ImportError, MemoryError)):
            status = EXIT_USAGE
        else:
            raise
        message = " ".join(str(error).split())
        print(f"rec-fast: error: {message}", file=sys.stderr)
        return status
