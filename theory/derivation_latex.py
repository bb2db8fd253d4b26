"""A derivation as a standalone LaTeX document (amsmath, amssymb, geometry) that compiles with pdflatex and
whose sections can be pasted into a paper; long numbers and expressions are broken to the text width.
"""

from __future__ import annotations

import re

import sympy as sp

from theory.derivation import LAW_QUADRATURE_DPS, UNIT_ABAR, Derivation, Entry
from theory.derivation_text import entry_value, number_text
from theory.kernels import SERIES_ORDER
from theory.sphere import D, ID


# ---- LaTeX ----------------------------------------------------------------------------------------------------

# Entry names -> LaTeX labels (math mode), in one place; names with a number in them are matched below.
LATEX_LABELS = {
    "sigma(t)": r"\sigma(t)",
    "kappa(1) = E sigma^2": r"\kappa(1) = \mathbb{E}\,\sigma^2",
    "kappa(rho)": r"\kappa(\rho)",
    "kernel tail bound": r"\mathbb{E}\,\sigma^2 - \textstyle\sum_{k \le %d} \mu_k^2" % SERIES_ORDER,
    "E<w^,e1>^2": r"\mathbb{E}\langle \hat w, e_1\rangle^2",
    "E<w^,e1>^4": r"\mathbb{E}\langle \hat w, e_1\rangle^4",
    "c_d": r"c_d",
    "c_d 1/d expansion (ID = 1/d)": r"c_d",
    "kappa_4 of entries": r"\kappa_4 = m_4/m_2^2 - 3",
    "E[alpha^2]": r"\mathbb{E}[\alpha^2]",
    "rho0 = -1/(M-1)": r"\rho_0 = -1/(M-1)",
    "1^T K^-1 1": r"\mathbf{1}^\top K^{-1}\mathbf{1}",
    "beta*_j": r"\beta^*_j",
    "C_target": r"C_{\mathrm{target}}",
    "F_ETF": r"F_{\mathrm{ETF}}",
    "Ltilde*/C_target": r"\tilde L^*/C_{\mathrm{target}}",
    "Ltilde* at the law's abar": r"\tilde L^*",
    "||m||/abar": r"\|m\|/\bar a",
    "best tilt angle t": r"t^*",
    "Ltilde*(t)": r"\tilde L^*(t^*)",
    "Ltilde*(t)/C": r"\tilde L^*(t^*)/C",
    "anisotropy coefficient mu_4^2 kappa_4 / d^2": r"\mu_4^2\,\kappa_4/d^2",
    "bias coefficient": r"N(\mathbb{E}\,L_N - \tilde L)",
    "variance 1/N coefficient": r"v_1",
    "variance 1/N^2 coefficient": r"v_2",
    "variance 1/N^3 coefficient": r"v_3",
}
# Appended to the exact form of some entries.
LATEX_SUFFIX = {"c_d 1/d expansion (ID = 1/d)": r" + O(d^{-4})"}
LATEX_SECTIONS = {
    "activation": r"Activation: Hermite coefficients and dual kernel",
    "sphere": r"Sphere averages ($\hat w$ uniform on $S^{d-1}$)",
    "law": r"Entry law and scaling factors $\alpha = a\|w\|^n$",
    "etf": r"Simplex ETF (regime I)",
    "regime II": r"Regime II: equal-tilt ETF family",
    "regime III": r"Regime III: fourth-cumulant anisotropy",
    "finite N (at the ETF, beta*)": r"Finite $N$ at the ETF (with $\beta^*$ at the law's scale)",
}
LATEX_SECTION_TEXT = {
    "finite N (at the ETF, beta*)": r"Over draws of the $N$ target neurons, $\mathbb{E}\,L_N - \tilde L$ is exactly "
                                    r"the bias coefficient over $N$, and "
                                    r"$\operatorname{Var} L_N = v_1/N + v_2/N^2 + v_3/N^3$ exactly.",
}

LATEX_NORMALISATION_NOTE = (
    r"ETF and regime II values are normalised to $\bar a = \mathbb{E}[a\|w\|^n] = 1$ (a loss is "
    r"$\tilde L/\bar a^2$, a weight $\beta/\bar a$, a tilt $\|m\|/\bar a$), as in \texttt{twolayer conjecture}; "
    r"values marked ``law scale'' are at the entry law's own $\bar a$; unmarked values do not depend on the "
    r"law's scale.")


def latex_label(name: str, result: Derivation) -> str:
    """The math-mode label of an entry (see LATEX_LABELS)."""
    if name in LATEX_LABELS:
        return LATEX_LABELS[name]
    if name == "c_d at d":
        return rf"c_{{{result.d}}}"
    if name == "abar = E[a||w||^n]":
        n = result.degree
        return r"\bar a = \mathbb{E}[a]" if n == 0 else (r"\bar a = \mathbb{E}[a\|w\|]" if n == 1
                                                         else rf"\bar a = \mathbb{{E}}[a\|w\|^{{{n}}}]")
    m = re.fullmatch(r"mu_(\d+)", name)
    if m:
        return rf"\mu_{{{m.group(1)}}}"
    m = re.fullmatch(r"kappa series to rho\^(\d+)", name)
    if m:
        return rf"\textstyle\sum_{{k \le {m.group(1)}}} \mu_k^2 \rho^k"
    return r"\text{" + latex_text(name) + "}"


def latex_text(text: str) -> str:
    """Plain text -> LaTeX text mode (specials escaped, <= and >= as math)."""
    out = []
    i = 0
    while i < len(text):
        two = text[i:i + 2]
        if two in ("<=", ">="):
            out.append(r"$\le$" if two == "<=" else r"$\ge$")
            i += 2
            continue
        if two == "--":  # not an en dash
            out.append("-{}")
            i += 1
            continue
        ch = text[i]
        out.append({"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "§": r"\S{}"}.get(ch, ch))
        i += 1
    return "".join(out)


def _breakable(text: str) -> str:
    """Allow line breaks after the commas, semicolons and colons of a (typewriter) name."""
    return re.sub(r"([,;:])", r"\1\\allowbreak{}", text)


def latex_normalisation(text: str, result: Derivation) -> str:
    if not text:
        return ""
    if text == UNIT_ABAR:
        return r"(\bar a = 1)"
    if text.startswith("law scale"):
        return r"(\text{law scale: } \bar a \approx " + number_text(result.abar, 10) + ")"
    return r"(\text{" + latex_text(text) + "})"


# Approximate widths in pt of 10pt Computer Modern, display style (a little generous: they decide line breaks).
_W_CHAR = {"+": 12.5, "-": 12.5, "=": 13.9, "<": 13.9, ">": 13.9, "(": 3.9, ")": 3.9, "[": 2.8, "]": 2.8, ",": 4.5,
           ".": 2.8, "/": 5.0, "|": 2.8, "!": 2.8, "'": 2.8, "*": 5.0}
_W_CMD = {"pi": 5.8, "rho": 5.3, "sigma": 5.8, "kappa": 5.9, "mu": 6.1, "alpha": 6.5, "beta": 5.8, "theta": 4.9,
          "Gamma": 6.3, "infty": 10.0, ",": 1.7, ";": 2.8, ":": 2.2, "!": -1.7, " ": 3.4, "quad": 10.0, "qquad": 20.0,
          "approx": 13.9, "cdot": 7.8, "times": 12.5, "le": 13.9, "ge": 13.9, "langle": 3.9, "rangle": 3.9,
          "|": 5.0, "hat": 0.0, "tilde": 0.0, "bar": 0.0, "top": 7.8, "ldots": 13.4, "sim": 13.9, "to": 15.6,
          "Bigl": 6.0, "Bigr": 6.0, "bigl": 5.0, "bigr": 5.0, "big": 5.0, "Big": 6.0, "allowbreak": 0.0,
          "displaystyle": 0.0, "textstyle": 0.0, "left": 0.0, "right": 0.0, "e": 4.7, "operatorname": 0.0}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_&]|\s+|.")


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The argument starting at tokens[i]: a braced group (without braces) or one token; returns (tokens, next)."""
    while i < len(tokens) and tokens[i].isspace():
        i += 1
    if i >= len(tokens):
        return [], i
    if tokens[i] != "{":
        return [tokens[i]], i + 1
    depth, j = 0, i
    while j < len(tokens):
        if tokens[j] == "{":
            depth += 1
        elif tokens[j] == "}":
            depth -= 1
            if depth == 0:
                return tokens[i + 1:j], j + 1
        j += 1
    return tokens[i + 1:], len(tokens)


def _width(tokens: list[str], scale: float = 1.0) -> float:
    w, i = 0.0, 0
    while i < len(tokens):
        t = tokens[i]
        i += 1
        if t.isspace() or t in ("{", "}", "&"):
            continue
        if t in ("^", "_"):
            arg, i = _group(tokens, i)
            w += 0.75 * _width(arg, scale) + 0.5 * scale
        elif t == r"\frac":
            num, i = _group(tokens, i)
            den, i = _group(tokens, i)
            w += max(_width(num, scale), _width(den, scale)) + 2.4 * scale
        elif t == r"\sqrt":
            if i < len(tokens) and tokens[i] == "[":
                while i < len(tokens) and tokens[i] != "]":
                    i += 1
                i += 1
            arg, i = _group(tokens, i)
            w += _width(arg, scale) + 8.4 * scale
        elif t in (r"\text", r"\mathrm", r"\texttt", r"\textit", r"\mathbf", r"\mathbb", r"\mathit"):
            arg, i = _group(tokens, i)
            w += sum(5.6 if c.isupper() else (3.4 if c == " " else 5.0) for c in "".join(arg)) * scale
        elif t == r"\operatorname":
            arg, i = _group(tokens, i)
            w += (5.0 * len("".join(arg)) + 1.7) * scale
        elif t in (r"\left", r"\right"):
            if i < len(tokens):
                w += (0.0 if tokens[i] == "." else 5.5) * scale
                i += 1
        elif t == r"\begin":
            env, i = _group(tokens, i)
            depth, j = 1, i
            while j < len(tokens) and depth:
                if tokens[j] == r"\begin":
                    depth += 1
                elif tokens[j] == r"\end":
                    depth -= 1
                j += 1
            body = tokens[i:j - 1]
            _, i = _group(tokens, j)  # {env} of \end
            rows, row = [], []
            for tok in body + [r"\\"]:
                if tok == r"\\":
                    rows.append(row)
                    row = []
                else:
                    row.append(tok)
            w += max((_width([x for x in r if x != "&"], scale) + 10.0 * r.count("&") for r in rows), default=0.0)
            w += 12.0
        elif t.startswith("\\"):
            w += _W_CMD.get(t[1:], 6.0) * scale
        elif t.isdigit():
            w += 5.0 * scale
        elif t.isalpha():
            w += (7.6 if t.isupper() else (8.8 if t in "mw" else 5.3)) * scale
        else:
            w += _W_CHAR.get(t, 5.0) * scale
    return w


def latex_width(s: str) -> float:
    """Estimated width in pt of a math-mode LaTeX string (10pt Computer Modern, display style)."""
    return 1.04 * _width(_TOKEN.findall(s))


def _digit_groups(digits: str, size: int = 10) -> list[str]:
    return [digits[k:k + size] for k in range(0, len(digits), size)]


def _pack(pieces: list[str], budget: float, sep: str = " ") -> list[str]:
    """Greedy lines of pieces (joined by sep) whose estimated width stays within budget."""
    lines: list[str] = []
    for p in pieces:
        if lines and latex_width(lines[-1] + sep + p) <= budget:
            lines[-1] += sep + p
        else:
            lines.append(p)
    return lines


def latex_decimal(text: str, budget: float) -> list[str]:
    """'0.39894228040143267793' -> lines of 10-digit groups joined by thin spaces ('0.3989422804\\,0143267793');
    an exponent 'e-7' becomes \\times 10^{-7}."""
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?", text)
    if m is None:
        return [r"\text{" + latex_text(text) + "}"]
    sign, whole, frac, exp = m.groups()
    if len(whole) > 10:  # groups of 10 counted from the decimal point
        cut = len(whole) % 10 or 10
        pieces = [whole[:cut]] + _digit_groups(whole[cut:])
    else:
        pieces = [whole]
    frac_groups = _digit_groups(frac or "")
    if frac is not None:
        pieces[-1] += "." + (frac_groups.pop(0) if frac_groups else "")
    pieces = [sign + pieces[0]] + pieces[1:] + frac_groups
    if exp is not None:
        pieces[-1] += rf" \times 10^{{{int(exp)}}}"
    return _pack(pieces, budget, sep=r"\,")


def _latex_expr(expr) -> str:
    return sp.latex(expr)


def _integer_lines(n: int, budget: float) -> list[str]:
    s = str(abs(n))
    lines = _pack(_digit_groups(s), budget, sep=r"\,")
    if n < 0:
        lines[0] = "-" + lines[0]
    return lines


def wrap_expr(expr, budget: float) -> list[str] | None:
    """Lines of LaTeX whose estimated widths stay within ``budget`` pt, split at the top-level + and -, inside
    a fraction with a long numerator (written 1/D (...)), and inside long integers; None if it cannot be done."""
    s = _latex_expr(expr)
    if latex_width(s) <= budget:
        return [s]
    if budget < 60:
        return None
    if expr.is_Integer:
        return _integer_lines(int(expr), budget)
    if expr.is_Rational:
        num = _integer_lines(int(expr.p), budget)
        den = _integer_lines(int(expr.q), budget - 15)
        return num + [r"\big/\, " + den[0]] + den[1:]
    if expr.is_Add:
        lines: list[str] = []
        for k, term in enumerate(expr.as_ordered_terms()):
            negative = term.could_extract_minus_sign()
            body = -term if negative else term
            op = ("- " if negative else "") if k == 0 else ("- " if negative else "+ ")
            piece = op + _latex_expr(body)
            if latex_width(piece) <= budget:
                if lines and latex_width(lines[-1] + " " + piece) <= budget:
                    lines[-1] += " " + piece
                else:
                    lines.append(piece)
                continue
            sub = wrap_expr(body, budget - 15)
            if sub is None:
                return None
            lines.append(op + sub[0])
            lines.extend(sub[1:])
        return lines
    if expr.is_Mul:
        coeff, factors = expr.as_coeff_mul()
        num = [f for f in factors if not _is_reciprocal(f)]
        den = [1 / f for f in factors if _is_reciprocal(f)]
        p, q = int(sp.Rational(coeff).p), int(sp.Rational(coeff).q)
        if not den and q == 1:
            return _product_lines(p, num, budget)
        den_tex = _product_tex(q, den)
        if latex_width(den_tex) <= budget / 2:  # 1/D, then the numerator's lines
            pre = ("-" if p < 0 else "") + rf"\frac{{1}}{{{den_tex}}}"
            lines = _product_lines(abs(p), num, budget - 15)
            if lines is None:
                return None
            if latex_width(pre + " " + lines[0]) <= budget:
                return [pre + " " + lines[0]] + lines[1:]
            return [pre] + lines
        top, bottom = _product_lines(p, num, budget - 15), _product_lines(q, den, budget - 30)
        if top is None or bottom is None:
            return None
        top[0], top[-1] = r"\Bigl(" + top[0], top[-1] + r"\Bigr)"
        bottom[0], bottom[-1] = r"\big/\Bigl(" + bottom[0], bottom[-1] + r"\Bigr)"
        return top + bottom
    return None


def _is_reciprocal(f) -> bool:
    base, ex = f.as_base_exp()
    return bool(ex.is_number and ex.is_negative)


def _factor_tex(f) -> str:
    s = _latex_expr(f)
    return r"\left(" + s + r"\right)" if f.is_Add else s


def _product_tex(n: int, factors) -> str:
    parts = ([] if abs(n) == 1 else [str(abs(n))]) + [_factor_tex(f) for f in factors]
    return ("-" if n < 0 else "") + (" ".join(parts) if parts else "1")


def _product_lines(n: int, factors, budget: float) -> list[str] | None:
    """Lines of the product n * factors: a long integer split into digit groups, a long sum factor split inside
    \\Bigl( \\Bigr); None if some factor cannot be split."""
    if latex_width(_product_tex(n, factors)) <= budget:
        return [_product_tex(n, factors)]
    lines = _integer_lines(n, budget) if abs(n) != 1 else ["-" if n < 0 else ""]
    for f in factors:
        piece = _factor_tex(f)
        if latex_width(lines[-1] + " " + piece) <= budget:
            lines[-1] = (lines[-1] + " " + piece).strip()
        elif latex_width(piece) <= budget:
            lines.append(piece)
        elif f.is_Add:
            sub = wrap_expr(f, budget - 15)
            if sub is None:
                return None
            sub[0], sub[-1] = r"\Bigl(" + sub[0], sub[-1] + r"\Bigr)"
            if latex_width(lines[-1] + " " + sub[0]) <= budget:
                lines[-1] = (lines[-1] + " " + sub[0]).strip()
                lines.extend(sub[1:])
            else:
                lines.extend(sub)
        else:
            return None
    return [x for x in lines if x] or None


# Text width of the document (a4paper, margin 2.5cm: 160 mm = 455 pt).
TEXT_WIDTH_PT = 455.0
# A continuation line starts with an invisible relation and a quad (24 pt); contents are kept this far within budget.
_CONT = r"&\phantom{{}={}}\quad "
_CONT_PT = 30.0


def _latex_prose(text: str, width: float) -> str:
    """Text in math mode: one \\text{} if it fits, else a top-aligned ragged-right paragraph ``width`` pt wide."""
    body = latex_text(text)
    if latex_width(r"\text{" + text + "}") <= width:
        return r"\text{" + body + "}"
    return rf"\parbox[t]{{{width:.0f}pt}}{{\raggedright {body}}}"


def _entry_latex(e: Entry, result: Derivation, budget: float) -> list[str]:
    """The align* lines of one entry (without the trailing \\\\): label & relation content, then continuations."""
    room = budget - _CONT_PT
    exact = e.exact
    if exact is not None and exact.has(ID):
        exact = exact.subs(ID, 1 / D)
    value = entry_value(e, result)
    rhs: list[tuple[str, str]] = []  # (relation or "", content)
    if exact is not None:
        suffix = LATEX_SUFFIX.get(e.name, "")
        lines = wrap_expr(exact, room - latex_width(suffix))
        if lines is None:
            lines = [r"\text{(too wide to typeset here: see the --json output)}"]
        lines[-1] += suffix
        rhs += [("=", lines[0])] + [("", x) for x in lines[1:]]
    if value is not None and (exact is None or not sp.sympify(exact).is_Rational):
        dec = latex_decimal(value, room)
        if len(rhs) == 1 and len(dec) == 1 and latex_width(rhs[0][1] + r" \approx " + dec[0]) <= room:
            rhs[0] = ("=", rhs[0][1] + r" \approx " + dec[0])  # exact form and value on one line
        else:
            rhs += [(r"\approx", dec[0])] + [("", x) for x in dec[1:]]
    elif e.value is not None and value is None:
        rhs.append(("", r"\text{(not finite)}"))
    for extra in (e.note, "" if e.exact is not None or e.value is not None else e.source):
        if extra:
            rhs.append(("", _latex_prose("(" + extra + ")", room)))
    if not rhs:
        return []
    norm = latex_normalisation(e.normalisation, result)
    if norm:
        rel, last = rhs[-1]
        if latex_width(last + r"\quad " + norm) <= room:
            rhs[-1] = (rel, last + r"\quad " + norm)
        else:
            rhs.append(("", norm))
    label = latex_label(e.name, result)
    out = []
    for k, (rel, content) in enumerate(rhs):
        if k == 0:
            out.append(f"{label} &{rel} {content}" if rel else rf"{label} &\quad {content}")
        else:
            out.append(f"&{rel} {content}" if rel else _CONT + content)
    return out


def _command_line(result: Derivation) -> str:
    act = result.activation
    quoted = act if re.fullmatch(r"[A-Za-z0-9_^.]+", act) else '"' + act + '"'
    return (f"twolayer derive --activation {quoted} --law {result.law} --d {result.d} --M {result.M} "
            f"--dps {result.dps}")


def to_latex(result: Derivation) -> str:
    """A standalone LaTeX document: one \\subsection* and one align* per section, labels in math mode."""
    out = [
        "% Needs \\usepackage{amsmath,amssymb} (and \\allowdisplaybreaks) to paste the sections into a paper;"
        " geometry only sets this page.",
        "% " + _command_line(result),
        r"\documentclass{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[a4paper,margin=2.5cm]{geometry}",
        r"\allowdisplaybreaks",
        r"\setlength{\jot}{6pt}",
        r"\begin{document}",
        r"\section*{Closed forms of \texttt{twolayer derive}}",
        r"\noindent Activation \texttt{" + _breakable(latex_text(result.activation)) + r"}, entry law \texttt{"
        + _breakable(latex_text(result.law)) + rf"}}, $d = {result.d}$, $M = {result.M}$. Decimal values to "
        + rf"{result.dps} significant digits (regime II to at most 30, a quadrature over the entry law to at most "
        + rf"{LAW_QUADRATURE_DPS}, finite $N$ in float64, to the digits they keep). " + LATEX_NORMALISATION_NOTE,
    ]
    sections: list[tuple[str, list[Entry]]] = []
    for e in result.entries:
        if not sections or sections[-1][0] != e.section:
            sections.append((e.section, []))
        sections[-1][1].append(e)
    for name, entries in sections:
        out.append(r"\subsection*{" + LATEX_SECTIONS.get(name, latex_text(name)) + "}")
        for e in entries:
            if e.name == "note":
                out.append(r"\noindent\textit{Note:} " + latex_text(e.note or e.source) + r".\par")
        if name in LATEX_SECTION_TEXT:
            out.append(r"\noindent " + LATEX_SECTION_TEXT[name])
        body = [e for e in entries if e.name != "note"]
        labels = [latex_width(latex_label(e.name, result)) for e in body]
        budget = TEXT_WIDTH_PT - max(labels, default=0.0) - 20.0
        lines: list[str] = []
        for e in body:
            entry_lines = _entry_latex(e, result, budget)
            if entry_lines:
                entry_lines[-1] += r" \\ % " + e.source.replace("\n", " ")
                lines.extend(x if k == len(entry_lines) - 1 else x + r" \\" for k, x in enumerate(entry_lines))
        if lines:
            lines[-1] = lines[-1].replace(r" \\ % ", " % ", 1)
            out.append(r"\begin{align*}")
            out.extend("  " + x for x in lines)
            out.append(r"\end{align*}")
    out.append(r"\end{document}")
    return "\n".join(out)
