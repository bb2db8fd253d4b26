"""The signed-beta elliptope proof for M = 3: prover and checker speed, and where the time goes.

    python benchmarks/bench_elliptope.py [--repeats 3] [--out /tmp/elliptope]

Prints (and writes as strict JSON under --out): the prover's wall time (median of --repeats), boxes per second,
leaves by claim and by depth, the checker's wall time on the shipped certificate, and the top functions of a
cProfile of one prover run (cumulative time). One core; about 15 s in all.

``--m4-seconds S`` (``--m5-seconds S``) adds the M = 4 (M = 5) probe (docs/signed_beta.md, "M = 4 and M = 5"): breadth-first bisection of
[-1, 1]^6 ([-1, 1]^10) without symmetry, discarding boxes by a not_psd witness or by a mean-value bound of det(K - 11^T/u) > 0
(u = 5.3, 5.303, 5.3033 < q_4 = 5.30332, or 5.5, 5.514, 5.5149 < q_5; for u >= q_(M-1) the smaller principal minors are >= 0 once M - 1 points are proved; for M = 5 that is not yet so).
It reports the cube fraction each discards, the depth reached and where the open boxes sit.
``--activations`` scans max q / q_ETF at M = 3 over 20000 Haar frames in R^3 and 20000 planar frames, for relu,
leaky_relu(1/10), relu^2, relu^3, abs and step (numerical, not a proof).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import itertools
import statistics
import time
from pathlib import Path

import numpy as np
from flint import arb, arb_mat, fmpq

from conjecture.elliptope.triangle_claims import not_psd_witness
from conjecture.interval import working_bits

def kap_f(t): return (np.sqrt(1-t*t)+(np.pi-np.arccos(t))*t)/(2*np.pi)
def p_of_g(g):  # arb p = kappa(1) - kappa(g) from g (arb ball allowed)
    pi = arb.pi()
    return arb(1)/2 - ((1 - g*g).sqrt() + (pi - g.acos())*g)/(2*pi)
def F_and_grad(gs, c, M=4):
    """F = det(cJ - P) and dF/dg_ij (balls) for g balls."""
    pi = arb.pi()
    pairs = list(itertools.combinations(range(M), 2))
    p = [p_of_g(g) for g in gs]
    A = [[c]*M for _ in range(M)]
    for (i,j),pp in zip(pairs,p):
        A[i][j] = c - pp; A[j][i] = c - pp
    det = arb_mat(A).det()
    # adjugate via cofactors
    grad = []
    for k,(i,j) in enumerate(pairs):
        rows = [r for r in range(M) if r != i]; cols = [s for s in range(M) if s != j]
        minor = arb_mat([[A[r][s] for s in cols] for r in rows]).det()
        cof = (-1)**(i+j) * minor
        # dF/dp_ij = -2 cof_ij ; dp/dg = -kappa'(g) = -(pi - acos g)/(2 pi)
        dpdg = -(pi - gs[k].acos())/(2*pi)
        grad.append(-2*cof*dpdg)
    return det, grad
def mv_bound(lo, hi, c, M=4):
    mid = [arb((l+h)/2) for l,h in zip(lo,hi)]
    box = [arb(l).union(arb(h)) for l,h in zip(lo,hi)]
    F0,_ = F_and_grad(mid, c, M)
    _,gr = F_and_grad(box, c, M)
    tot = F0
    for k in range(len(lo)):
        d = arb(hi[k]-lo[k])/2
        tot -= gr[k].abs_upper()*d
    return tot
RUNGS = {4: [fmpq(53, 10), fmpq(5303, 1000), fmpq(53033, 10000)],     # q_4 = 5.3033174
         5: [fmpq(55, 10), fmpq(5514, 1000), fmpq(55149, 10000)]}      # q_5 = 5.5149912
def m_probe(seconds, M=4):
    """Breadth-first over [-1, 1]^(M(M-1)/2) (no symmetry): not_psd witnesses and a mean-value bound of det(A_u)."""
    n = M * (M - 1) // 2
    pairs = list(itertools.combinations(range(M), 2))
    cs = [arb(1)/2 - 1/arb(u) for u in RUNGS[M]]
    frontier = [([fmpq(-1)]*n, [fmpq(1)]*n)]
    vol = {'not_psd':0.0,'bound':0.0}; t0=time.time(); depth=0; boxes=0; per_depth=[]
    while frontier and time.time()-t0 < seconds:
        nxt=[]; cert_here=0
        for lo,hi in frontier:
            if time.time()-t0 > seconds: nxt.append((lo,hi)); continue
            boxes+=1; v=float(np.prod([float(h-l) for l,h in zip(lo,hi)]))/2**n
            if not_psd_witness(lo, hi, M) is not None: vol['not_psd']+=v; cert_here+=1; continue
            ok=False
            for c in cs:
                b = mv_bound(lo,hi,c,M)
                if b > 0: ok=True; break
            if ok: vol['bound']+=v; cert_here+=1; continue
            w=[h-l for l,h in zip(lo,hi)]; i=w.index(max(w)); m=(lo[i]+hi[i])/2
            h1=list(hi); h1[i]=m; l2=list(lo); l2[i]=m
            nxt += [(lo,h1),(l2,hi)]
        per_depth.append((depth, len(frontier), cert_here, round(time.time()-t0,1), round(vol['not_psd'],4), round(vol['bound'],4)))
        frontier=nxt; depth+=1
    wall = time.time() - t0
    C = np.array([[float((l + h) / 2) for l, h in zip(lo, hi)] for lo, hi in frontier]).reshape(-1, n)
    eig = []
    for c in C:
        G = np.eye(M)
        for (i, j), m in zip(pairs, c):
            G[i, j] = G[j, i] = m
        eig.append(np.linalg.eigvalsh(G)[0])
    eig = np.array(eig)
    return {"seconds": round(wall, 1), "boxes": boxes, "boxes_per_second": round(boxes / wall, 1),
            "cube_fraction_not_psd": round(vol["not_psd"], 4), "cube_fraction_by_bound": round(vol["bound"], 6),
            "depth_reached": depth, "open_boxes": len(C),
            "open_near_coincidence_max_g_gt_0.8": int((C.max(axis=1) > 0.8).sum()) if len(C) else 0,
            "open_within_0.25_of_etf": int((np.abs(C + 1 / (M - 1)).max(axis=1) < 0.25).sum()) if len(C) else 0,
            "open_by_centre_min_eig": {"< -0.1": int((eig < -0.1).sum()), "-0.1..0.05": int(((eig >= -0.1) & (eig <= 0.05)).sum()),
                                       "> 0.05": int((eig > 0.05).sum())},
            "per_depth": [dict(zip(("depth", "boxes", "certified", "t_s", "cube_not_psd", "cube_bound"), r)) for r in per_depth]}



def activation_scan(frames: int = 20000, seed: int = 0) -> dict:
    """max q over Haar frames in R^3 and over planar (rank <= 2) frames, against q_ETF, per activation (M = 3)."""
    from numerics.kappa import FastKappa
    from theory.activations import get_activation

    rng = np.random.default_rng(seed)
    haar = rng.standard_normal((frames, 3, 3))
    haar /= np.linalg.norm(haar, axis=2, keepdims=True)
    ang = rng.uniform(0, 2 * np.pi, (frames, 3))
    planar = np.stack([np.cos(ang), np.sin(ang), np.zeros_like(ang)], axis=2)
    etf = np.array([[1, 0, 0], [-0.5, np.sqrt(3) / 2, 0], [-0.5, -np.sqrt(3) / 2, 0]])
    out = {}
    for name in ("relu", "leaky_relu(1/10)", "relu^2", "relu^3", "abs", "step"):
        kappa = FastKappa.from_activation(get_activation(name))

        def q(x):
            K = kappa.evaluate(np.clip(x @ np.swapaxes(x, -1, -2), -1, 1))
            return np.einsum("...i,...ij,...j->...", np.ones(3), np.linalg.pinv(K, rcond=1e-12), np.ones(3))

        q_etf = float(q(etf))
        out[name] = {"q_etf": q_etf, "max_haar_over_q_etf": float(q(haar).max() / q_etf),
                     "max_planar_over_q_etf": float(q(planar).max() / q_etf), "q_orthonormal_over_q_etf": float(q(np.eye(3)) / q_etf)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--m4-seconds", type=float, default=0.0, help="run the M = 4 probe for this long (0: skip)")
    ap.add_argument("--m5-seconds", type=float, default=0.0, help="run the M = 5 probe for this long (0: skip)")
    ap.add_argument("--activations", action="store_true", help="scan max q / q_ETF over frames for other activations")
    args = ap.parse_args()
    from conjecture.elliptope.checker import check_file
    from conjecture.elliptope.prover import prove_m3
    from conjecture.elliptope.stored import DATA_DIR

    walls, run = [], None
    for _ in range(args.repeats):
        t = time.perf_counter()
        run = prove_m3()
        walls.append(time.perf_counter() - t)
    checks = []
    for _ in range(args.repeats):
        result = check_file(f"{DATA_DIR}/relu_M3.json")
        checks.append(result.wall_s)
    profiler = cProfile.Profile()
    profiler.enable()
    prove_m3()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(14)
    prover_s = statistics.median(walls)
    out = {"prover_s_median": round(prover_s, 3), "prover_s_all": [round(w, 3) for w in walls],
           "leaves": len(run.boxes), "leaves_per_second": round(len(run.boxes) / prover_s, 1),
           "leaves_by_claim": run.counts, "leaves_by_depth": {str(k): v for k, v in sorted(run.depth_counts.items())},
           "unresolved": run.unresolved, "checker_s_median": statistics.median(checks),
           "checker_boxes_per_second": round(result.boxes / statistics.median(checks), 1), "checker_ok": result.ok}
    with working_bits(128):
        for M, seconds in ((4, args.m4_seconds), (5, args.m5_seconds)):
            if seconds > 0:
                out[f"m{M}_probe"] = m_probe(seconds, M)
    if args.activations:
        out["activations_M3"] = activation_scan()
    print(json.dumps(out, indent=1))
    print("\nprover profile (cumulative):")
    print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:4000])
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        Path(args.out, "elliptope.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
