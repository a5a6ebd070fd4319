"""Command line: ``python -m rec_fast demo`` runs the built-in default workload;
``python -m rec_fast compare`` compares the methods (see :mod:`rec_fast.compare`);
``python -m rec_fast blocks`` codes one sample of a many-dimensional posterior in blocks.

The demo encodes one exact sample from each of N Gaussian targets (a VAE-like posterior:
means around 0, scales chosen so that KL is spread around 4 bits) against N(0, 1), decodes
the bytes, checks the round trip bit for bit, and prints bits against KL and throughput.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def default_workload(count: int, seed: int = 0):
    """N Gaussian targets against N(0, 1) with KL spread around 4 bits (log-uniform scale)."""
    import rec_fast as rf

    generator = np.random.default_rng(seed)
    scale = np.exp(generator.uniform(np.log(0.03), np.log(0.12), count))
    loc = generator.normal(0.0, 0.7, count)
    return rf.Normal(loc, scale), rf.Normal(0.0, 1.0)


def demo(count: int, method: str, seed: int, threads: int | None) -> int:
    import rec_fast as rf

    if count < 1:
        raise rf.RecError(f"--count {count}; the demo needs at least one target")
    Q, P = default_workload(count, seed)
    kl = rf.kl_divergence(Q, P)
    print(f"rec_fast {rf.__version__}: {count:,} Gaussian targets against N(0, 1), method {method!r}")
    print(f"  KL per element: mean {kl.mean():.3f} bits (5%-95%: {np.quantile(kl, 0.05):.2f}-"
          f"{np.quantile(kl, 0.95):.2f})")
    start = time.perf_counter()
    enc = rf.encode(Q, P, seed=seed, method=method, threads=threads)
    encode_seconds = time.perf_counter() - start
    data = enc.to_bytes()
    start = time.perf_counter()
    decoded = rf.decode(data, P, threads=threads)
    decode_seconds = time.perf_counter() - start
    identical = bool(np.array_equal(decoded.view(np.uint64), enc.samples.view(np.uint64)))
    mean_kl = float(kl.mean())
    bound = float(np.mean(kl + np.log2(kl + 1)))
    stream_bits = 8 * len(data) / count
    info = rf.stream_info(data)
    codings = sorted({chunk["coding"] for chunk in info["chunks"]})
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
    return 0 if identical else 1


def blocks_demo(d: int, seed: int, threads: int | None, stored: bool) -> int:
    """One exact sample of the COMBINER-like posterior (``rec_fast.workloads.combiner_profile``)
    coded by ``rf.encode_blocks``: bits against KL, steps, throughput, round trip."""
    import rec_fast as rf
    from rec_fast.workloads import combiner_profile

    if d < 1:
        raise rf.RecError(f"--d {d}; the demo needs at least one dimension")
    w = combiner_profile(d, seed)
    Q, P = w.target(), w.prior()
    layout = None if stored else rf.BlockLayout.from_kl(w.kl_bits, seed=1)
    kind = "built from Q and stored in the stream" if stored else "shared, from the expected KLs (from_kl)"
    print(f"rec_fast {rf.__version__}: one sample of a {d:,}-dimensional diagonal Gaussian posterior "
          f"(KL {w.total_kl_bits:,.1f} bits, median {np.median(w.kl_bits):.2f} bits/dimension) against N(0, 1)")
    start = time.perf_counter()
    enc = rf.encode_blocks(Q, P, seed=seed, layout=layout, threads=threads)
    encode_seconds = time.perf_counter() - start
    data = enc.to_bytes()
    start = time.perf_counter()
    decoded = rf.decode_blocks(data, P, layout=layout, threads=threads)
    decode_seconds = time.perf_counter() - start
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
    return 0 if identical else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rec_fast", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("demo", help="encode, decode and verify the default workload")
    run.add_argument("--count", type=int, default=1_000_000, help="number of targets (default 1,000,000)")
    run.add_argument("--method", default="gprs-bb", help="channel simulation method (default gprs-bb)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    block = commands.add_parser("blocks", help="code one sample of a many-dimensional posterior in blocks")
    block.add_argument("--d", type=int, default=200_000, help="dimensions (default 200,000)")
    block.add_argument("--seed", type=int, default=0)
    block.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    block.add_argument("--stored", action="store_true",
                       help="let the encoder build the layout from Q and store it (default: a shared layout)")
    table = commands.add_parser("compare", help="compare every method on a pair or the built-in suite")
    table.add_argument("--pair", nargs=4, type=float, metavar=("Q1", "Q2", "P1", "P2"),
                       help="one pair instead of the built-in suite: the parameters (loc, scale), or "
                            "(low, high) for Uniform, of Q and P")
    table.add_argument("--families", nargs=2, default=["Normal", "Normal"], metavar=("Q_FAMILY", "P_FAMILY"),
                       choices=["Normal", "Laplace", "Uniform"],
                       help="families of --pair (default: Normal Normal)")
    table.add_argument("--count", type=int, default=20_000, help="samples per pair and method (default 20,000)")
    table.add_argument("--methods", nargs="+", default=None, help="methods to run (default: all)")
    table.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    from rec_fast import RecError

    try:
        return _run(parser, arguments)
    except RecError as error:
        parser.error(str(error))  # usage and the message on stderr, exit status 2


def _run(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> int:
    if arguments.command == "compare":
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
        return 0 if all(row.get("identical", True) for row in rows) else 1
    if arguments.command == "blocks":
        return blocks_demo(arguments.d, arguments.seed, arguments.threads, arguments.stored)
    if arguments.command in (None, "demo"):
        if arguments.command is None:
            arguments = parser.parse_args(["demo"])
        return demo(arguments.count, arguments.method, arguments.seed, arguments.threads)
    return 2


if __name__ == "__main__":
    sys.exit(main())
