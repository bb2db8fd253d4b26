"""Independent checker of a signed-beta elliptope certificate: ``twolayer certificate check FILE``.

It shares no code with the prover (conjecture.elliptope.prover, triangle_claims, feature_distance) beyond the
ball-arithmetic kernel python-flint: rationals are parsed into fractions.Fraction, the tree is rebuilt here, and
every bound is re-derived from kappa itself, p(theta) = kappa(1) - kappa(cos theta), with F a polynomial in p
(the prover works with s = sqrt(p)). What is checked, in order (the first failure stops the check):

1. the header: M = 3, activation relu, symmetry permutations, the root [-1, 1]^3 and the split rule;
2. q_etf = [lo, hi] encloses 3 / (kappa(1) + 2 kappa(-1/2));
3. coverage: descending the canonical bisection tree from the root, every node meeting the fundamental domain
   g12 >= g13 >= g23 is either a certificate box or is split; every certificate box is reached exactly once;
4. every claim: not_psd (exact rationals), upper_bound by triangle / taylor / corner (u < q_etf.lo, u >= 4),
   local (F_{q*} >= 0 near the ETF with equality only there).

Examples
--------
>>> import json, tempfile, os
>>> doc = {"format": "twolayer-elliptope-certificate/1", "kind": "signed_beta_elliptope", "M": 3}
>>> path = os.path.join(tempfile.mkdtemp(), "c.json")
>>> _ = open(path, "w").write(json.dumps(doc))
>>> check_file(path).ok    # missing fields: rejected, with the reason
False
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import flint
from flint import arb, fmpq

from theory.errors import InputError
from theory.limits import read_bounded_json

FORMAT = "twolayer-elliptope-certificate/1"
BITS = 256
MAX_BOXES = 200_000
MAX_DEPTH = 64
MAX_DIGITS = 200
_RATIONAL = re.compile(r"-?[0-9]{1,%d}(/[0-9]{1,%d})?" % (MAX_DIGITS, MAX_DIGITS))
_SPLIT_RULE = "bisect the widest coordinate (lowest index on ties) at its midpoint"


class Rejected(Exception):
    """The certificate does not prove its statement; the message says where and why."""


@dataclass
class ElliptopeCheck:
    """The outcome of one check (``ok`` only when every step held)."""

    file: str
    sha256: str
    ok: bool
    statement: str | None = None
    boxes: int = 0
    by_claim: dict[str, int] = field(default_factory=dict)
    outside_domain_nodes: int = 0
    failure: str | None = None
    wall_s: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def __repr__(self) -> str:
        head = "CERTIFICATE CHECKED" if self.ok else "CERTIFICATE REJECTED"
        lines = [f"{head}: {self.file}", f"  sha256 {self.sha256}"]
        if self.statement:
            lines.append(f"  statement: {self.statement}")
        claims = ", ".join(f"{k} {v}" for k, v in sorted(self.by_claim.items())) or "none"
        lines.append(f"  {self.boxes} boxes verified ({claims}); {self.outside_domain_nodes} tree nodes outside "
                     f"g12 >= g13 >= g23; {self.wall_s:.2f} s")
        if self.failure:
            lines.append(f"  first failure: {self.failure}")
        return "\n".join(lines)


# ---- parsing

def _rat(value, where: str) -> Fraction:
    if not isinstance(value, str) or not _RATIONAL.fullmatch(value):
        raise Rejected(f"{where}: expected a rational string like '-3/8' (got {str(value)[:40]!r})")
    out = Fraction(value)
    return out


def _triple(value, where: str) -> tuple[Fraction, Fraction, Fraction]:
    if not isinstance(value, list) or len(value) != 3:
        raise Rejected(f"{where}: expected a list of 3 rationals")
    return tuple(_rat(v, f"{where}[{i}]") for i, v in enumerate(value))


# ---- the checker's own real functions, from kappa (theta = arccos g)

def _ball(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


def _kappa(g: arb) -> arb:
    """ReLU kappa(g) = (sqrt(1 - g^2) + (pi - arccos g) g) / (2 pi), kappa(1) = 1/2."""
    return ((1 - g * g).sqrt() + (arb.pi() - g.acos()) * g) / (2 * arb.pi())


def _p_gram(g: Fraction) -> arb:
    """p = kappa(1) - kappa(g) = s^2 >= 0 (exactly 0 at g = 1)."""
    return arb(0) if g == 1 else (arb(1) / 2 - _kappa(_ball(g))).max(0)


def _p_theta(theta: arb) -> arb:
    t = theta.min(arb.pi())
    return (1 - (t.sin() + (arb.pi() - t) * t.cos()) / arb.pi()).max(0) / 2


def _s_gram(g: Fraction) -> arb:
    return _p_gram(g).sqrt()


def _ds_gram(g: Fraction) -> arb:
    """ds/dtheta = kappa'(g) sin(theta) / (2 s), kappa'(g) = (pi - arccos g) / (2 pi); 1/2 at g = 1."""
    if g == 1:
        return arb(1) / 2
    x = _ball(g)
    return (arb.pi() - x.acos()) / (2 * arb.pi()) * (1 - x * x).sqrt() / (2 * _s_gram(g))


def _chord_gram(g: Fraction) -> arb:
    """s(theta) / theta; 1/2 at g = 1."""
    return arb(1) / 2 if g == 1 else _s_gram(g) / _ball(g).acos()


def _theta(g: Fraction) -> arb:
    return _ball(g).acos()


def _f_of_p(p, c):
    return c * (2 * (p[0] * p[1] + p[0] * p[2] + p[1] * p[2]) - p[0] * p[0] - p[1] * p[1] - p[2] * p[2]) - 2 * p[0] * p[1] * p[2]


def _derivatives(thetas, c):
    """theta-gradient and Hessian of F through p: F_theta_i = F_p_i p_i', F_ij = F_p_ip_j p_i' p_j' + [i=j] F_p_i p_i''."""
    pi = arb.pi()
    p = [_p_theta(t) for t in thetas]
    dp = [(pi - t) * t.sin() / (2 * pi) for t in thetas]
    ddp = [((pi - t) * t.cos() - t.sin()) / (2 * pi) for t in thetas]
    fp = [c * 2 * (p[(i + 1) % 3] + p[(i + 2) % 3] - p[i]) - 2 * p[(i + 1) % 3] * p[(i + 2) % 3] for i in range(3)]
    grad = [fp[i] * dp[i] for i in range(3)]
    hess = [[None] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(3):
            fpp = -2 * c if i == j else 2 * c - 2 * p[3 - i - j]
            hess[i][j] = fpp * dp[i] * dp[j] + (fp[i] * ddp[i] if i == j else 0)
    return grad, hess


# ---- the domain

def _clip(lo, hi):
    """box ∩ {g12 >= g13 >= g23} as (lo, hi) of its bounding box, or None when empty."""
    if max(lo[1], lo[2]) > min(hi[0], hi[1]):
        return None
    return (max(lo), max(lo[1], lo[2]), lo[2]), (hi[0], min(hi[0], hi[1]), min(hi))


# ---- claims

def _not_psd(lo, hi, x) -> bool:
    total = sum(v * v for v in x)
    for (i, j), a, b in zip(((0, 1), (0, 2), (1, 2)), lo, hi):
        total += max(2 * x[i] * x[j] * a, 2 * x[i] * x[j] * b)
    return total < 0


def _triangle(lo, hi, c) -> bool:
    th1_lo, th2_lo = _theta(hi[0]), _theta(hi[1])
    th1_hi, th2_hi, th3_hi = _theta(lo[0]), _theta(lo[1]), _theta(lo[2])
    s1_lo, s1_hi = _s_gram(hi[0]), _s_gram(lo[0])
    s2_lo, s2_hi = _s_gram(hi[1]), _s_gram(lo[1])
    s3_lo = _s_gram(hi[2])
    th3_cap = th3_hi.min(th1_hi + th2_hi).min(2 * arb.pi() - th1_lo - th2_lo)
    s3_hi = _p_theta(th3_cap).sqrt()
    bounds = [_ds_gram(hi[1]) / _chord_gram(lo[0])]
    if hi[0] != 1:
        bounds.append((s3_hi.min(_p_theta(th2_lo + th1_hi).sqrt()) - s2_lo) / s1_lo)
        bounds.append((_p_theta(th2_lo + th1_lo).sqrt() - s2_lo) / th1_lo / _chord_gram(lo[0]))
    rho = bounds[0]
    for b in bounds[1:]:
        rho = rho.min(b)
    rho = rho.max(0)
    if not rho < 1:
        return False
    width = ((s2_lo + s3_lo) ** 2 - s1_hi ** 2).max(s3_lo * s3_lo + 2 * s2_lo * s3_lo).max(0)
    return bool(c * width * (1 - rho * rho) - 2 * (s2_hi * s3_hi) ** 2 > 0)


def _taylor(lo, hi, c, nu: Fraction) -> bool:
    if hi[0] == 1 or nu < 0:
        return False
    a = [_theta(g) for g in hi]
    b = [_theta(g) for g in lo]
    centre = [arb(((x.mid() + y.mid()) / 2).mid()) for x, y in zip(a, b)]
    value = _f_of_p([_p_theta(t) for t in centre], c)
    grad, _ = _derivatives(centre, c)
    _, hess = _derivatives([x.union(y) for x, y in zip(a, b)], c)
    n = _ball(nu)
    room = 2 * arb.pi() - sum(centre)
    linear = -n * room
    reach = []
    for i in range(3):
        d_lo, d_hi = a[i] - centre[i], b[i] - centre[i]
        linear += ((grad[i] + n) * d_lo).min((grad[i] + n) * d_hi)
        reach.append(d_lo.abs_upper().max(d_hi.abs_upper()))
    quad = arb(0)
    for i in range(3):
        for j in range(3):
            quad += (hess[i][i].min(0) if i == j else -hess[i][j].abs_upper()) * reach[i] * reach[j] / 2
    return bool(value + linear + quad > 0)


def _q_etf() -> arb:
    return 3 / (arb(1) / 2 + 2 * _kappa(arb(-1) / 2))


def _local(lo, hi) -> bool:
    t_star = 2 * arb.pi() / 3
    c_star = arb(1) / 2 - 1 / _q_etf()
    a = [_theta(g) for g in hi]
    b = [_theta(g) for g in lo]
    lam = _derivatives([t_star] * 3, c_star)[0][0]
    _, hess = _derivatives([a[i].min(t_star).union(b[i].max(t_star)) for i in range(3)], c_star)
    # the Hessian on 1-perp in the orthonormal basis (1,-1,0)/sqrt2, (1,1,-2)/sqrt6
    e = [[1 / arb(2).sqrt(), -1 / arb(2).sqrt(), arb(0)], [1 / arb(6).sqrt(), 1 / arb(6).sqrt(), -2 / arb(6).sqrt()]]
    t = [[sum(e[x][i] * hess[i][j] * e[y][j] for i in range(3) for j in range(3)) for y in range(2)] for x in range(2)]
    mu = (t[0][0] + t[1][1]) / 2 - ((t[0][0] - t[1][1]).abs_upper() / 2 + t[0][1].abs_upper())
    if not (mu > 0 and lam < 0):
        return False
    frob = sum(hess[i][j].abs_upper() ** 2 for i in range(3) for j in range(3)).sqrt()
    n_max = arb(3).sqrt() * (-lam) / (frob * frob / mu + frob / 2)
    n_box = sum(t_star - a[i] for i in range(3)).max(0) / arb(3).sqrt()
    return bool(n_max - n_box > 0)


def _corner_constant(g13_min: Fraction, c) -> bool:
    eps = _theta(g13_min)
    pi = arb.pi()
    g2 = (pi - eps) * eps.cos() - eps.sin()
    ell = 2 * g2 * eps.cos() / 3 / (4 * (2 * pi).sqrt() * (pi / 2) ** (arb(3) / 2))
    return bool(2 * c * ell - eps > 0)


# ---- the check

def _header(doc, sha: str, path: str) -> tuple[Fraction, Fraction, Fraction]:
    want = {"format": FORMAT, "kind": "signed_beta_elliptope", "M": 3, "activation": "relu",
            "symmetry": "permutations", "split_rule": _SPLIT_RULE, "entry_order": ["12", "13", "23"]}
    for key, value in want.items():
        if doc.get(key) != value:
            raise Rejected(f"header field {key!r} must be {value!r} (got {str(doc.get(key))[:60]!r})")
    root = doc.get("root")
    if not isinstance(root, dict) or _triple(root.get("lo"), "root.lo") != (-1,) * 3 or _triple(root.get("hi"), "root.hi") != (1,) * 3:
        raise Rejected("root must be [-1, 1]^3")
    q = doc.get("q_etf")
    if not isinstance(q, list) or len(q) != 2:
        raise Rejected("q_etf must be [lo, hi]")
    q_lo, q_hi = _rat(q[0], "q_etf[0]"), _rat(q[1], "q_etf[1]")
    exact = _q_etf()
    if not (_ball(q_lo) < exact < _ball(q_hi)):
        raise Rejected(f"q_etf = [{q[0]}, {q[1]}] does not enclose 3/(kappa(1) + 2 kappa(-1/2)) = {exact.str(20)}")
    corner = doc.get("corner")
    g13_min = _rat(corner.get("g13_min") if isinstance(corner, dict) else None, "corner.g13_min")
    if not (0 < g13_min < 1):
        raise Rejected("corner.g13_min must lie in (0, 1)")
    return q_lo, q_hi, g13_min


def _verify(doc, result: ElliptopeCheck) -> None:
    q_lo, _, g13_min = _header(doc, result.sha256, result.file)
    boxes = doc.get("boxes")
    if not isinstance(boxes, list) or len(boxes) > MAX_BOXES:
        raise Rejected(f"boxes must be a list of at most {MAX_BOXES}")
    index = {}
    for k, box in enumerate(boxes):
        if not isinstance(box, dict):
            raise Rejected(f"box {k}: not an object")
        key = (_triple(box.get("lo"), f"box {k} lo"), _triple(box.get("hi"), f"box {k} hi"))
        if key in index:
            raise Rejected(f"box {k}: the same box as box {index[key]}")
        index[key] = k
    corner_ok = {}
    reached = set()
    stack = [((Fraction(-1),) * 3, (Fraction(1),) * 3, 0)]
    while stack:
        lo, hi, depth = stack.pop()
        clipped = _clip(lo, hi)
        if clipped is None:
            result.outside_domain_nodes += 1
            continue
        k = index.get((lo, hi))
        if k is not None:
            _claim(k, boxes[k], lo, hi, clipped, q_lo, g13_min, corner_ok, result)
            reached.add(k)
            continue
        if depth >= MAX_DEPTH:
            raise Rejected(f"gap: the node lo={[str(x) for x in lo]} hi={[str(x) for x in hi]} (depth {depth}) meets "
                           "the fundamental domain and is covered by no box")
        widths = [h - l for l, h in zip(lo, hi)]
        i = widths.index(max(widths))
        mid = (lo[i] + hi[i]) / 2
        stack.append((lo[:i] + (mid,) + lo[i + 1:], hi, depth + 1))
        stack.append((lo, hi[:i] + (mid,) + hi[i + 1:], depth + 1))
    if len(reached) != len(boxes):
        k = min(set(range(len(boxes))) - reached)
        raise Rejected(f"box {k} is not a node of the canonical bisection tree that meets the fundamental domain")


_FIELDS = {"not_psd": {"witness"}, "local": set(), ("upper_bound", "triangle"): {"method", "upper"},
           ("upper_bound", "corner"): {"method", "upper"}, ("upper_bound", "taylor"): {"method", "upper", "multiplier"}}


def _claim(k, box, lo, hi, clipped, q_lo, g13_min, corner_ok, result) -> None:
    claim, method = box.get("claim"), box.get("method")
    where = f"box {k} (lo={[str(x) for x in lo]}, hi={[str(x) for x in hi]})"
    allowed = _FIELDS.get((claim, method) if claim == "upper_bound" else claim)
    extra = sorted(set(box) - {"lo", "hi", "claim"} - (allowed or set()))
    if allowed is not None and extra:
        raise Rejected(f"{where}: field {extra[0]!r} does not belong to a {claim} claim")
    if claim == "not_psd":
        if not _not_psd(lo, hi, _triple(box.get("witness"), f"{where} witness")):
            raise Rejected(f"{where}: the witness x does not give x^T G x < 0 on the whole box")
        name = "not_psd"
    elif claim == "local":
        if not _local(*clipped):
            raise Rejected(f"{where}: the local argument at the ETF does not hold on this box")
        name = "local"
    elif claim == "upper_bound":
        u = _rat(box.get("upper"), f"{where} upper")
        if not (4 <= u < q_lo):
            raise Rejected(f"{where}: upper = {u} is not in [4, q_etf.lo)")
        c = arb(1) / 2 - 1 / _ball(u)
        if method == "triangle":
            ok = _triangle(*clipped, c)
        elif method == "taylor":
            ok = _taylor(*clipped, c, _rat(box.get("multiplier"), f"{where} multiplier"))
        elif method == "corner":
            if u not in corner_ok:
                corner_ok[u] = _corner_constant(g13_min, c)
            ok = clipped[0][1] >= g13_min and corner_ok[u]
        else:
            raise Rejected(f"{where}: unknown upper_bound method {str(method)[:20]!r}")
        if not ok:
            raise Rejected(f"{where}: the {method} bound does not prove q <= {u} on this box")
        name = f"upper_bound/{method}"
    else:
        raise Rejected(f"{where}: unknown claim {str(claim)[:20]!r}")
    result.by_claim[name] = result.by_claim.get(name, 0) + 1
    result.boxes += 1


def check_file(path: str) -> ElliptopeCheck:
    """Check the certificate at ``path`` (InputError when it cannot be read as JSON within the limits)."""
    with open(path, "rb") as fh:
        sha = hashlib.sha256(fh.read(64 * 1024 * 1024 + 1)).hexdigest()
    doc = read_bounded_json(path, "path")
    return check_document(doc, path, sha)


def check_document(doc, path: str = "<document>", sha: str = "") -> ElliptopeCheck:
    """Check an already-parsed certificate."""
    result = ElliptopeCheck(path, sha, False)
    start = time.perf_counter()
    old = flint.ctx.prec
    flint.ctx.prec = BITS
    try:
        if not isinstance(doc, dict):
            raise Rejected("the certificate is not a JSON object")
        statement = doc.get("statement")
        result.statement = statement[:300] if isinstance(statement, str) else None
        _verify(doc, result)
        result.ok = True
    except Rejected as err:
        result.failure = str(err)
    finally:
        flint.ctx.prec = old
        result.wall_s = round(time.perf_counter() - start, 3)
    return result


def is_elliptope_certificate(doc) -> bool:
    """Whether a parsed JSON document claims to be an elliptope certificate (dispatch for the CLI)."""
    return isinstance(doc, dict) and doc.get("kind") == "signed_beta_elliptope"


__all__ = ["ElliptopeCheck", "check_file", "check_document", "is_elliptope_certificate", "InputError"]
