"""Focusing belief propagation (fBP) for binary committee machines with sign units, compiled (numba).

Factor graph (Braunstein & Zecchina, PRL 96, 030201 (2006) for the perceptron; Baldassi et al., PNAS 113,
E7655 (2016) for committees and the focusing): weights w_li = ±1 of unit l, hidden outputs
τ_lμ = sign(Σ_i w_li ξ_lμi), output constraint y_μ Σ_l τ_lμ > 0 (K odd). Messages are fields: pattern μ
tells weight (l, i) P(w_li = s) ∝ e^{s u_μli}; the total field is H_li = Σ_μ u_μli + e_li, e the focusing
field. One pattern update (the messages of all its weights, from the others' cavity magnetisations
m_li = tanh(H_li − u_μli)):

- Gaussian (central-limit) approximation of each unit's field over its cavity weights:
      ω_l = Σ_i ξ_li m_li,   V_l = Σ_i (1 − m_li²),   p_l = P(τ_l = +1) = Φ(ω_l / √V_l);
- the output node exactly: A_l(τ) = P(y (τ + Σ_{l'≠l} τ_l') > 0), the sum over the other units by
  convolution of their p_l' (K = 1: A(τ) = [y τ > 0]);
- to each weight, with the unit's cavity ω = ω_l − ξ_i m_li, V = V_l − (1 − m_li²):
      u_μli = ½ ln [A_l(+) Φ(a₊) + A_l(−) Φ(−a₊)] − ½ ln [A_l(+) Φ(a₋) + A_l(−) Φ(−a₋)],  a_± = (ω ± ξ_i)/√V,
  damped u ← λ u_old + (1 − λ) u_new.

Patterns are updated one at a time in a fresh random order each iteration (sequential BP, as in
BinaryCommitteeMachineFBP.jl), H kept current after every pattern.

Focusing (the robust-ensemble measure of y replicas coupled with strength γ to a traced-out centre): after
each pass over the patterns, every weight gets the field
      e_li = atanh( tanh γ · tanh( (y − 1) · atanh( tanh γ · tanh(H_li − e_li) ) ) ),
i.e. e = (y − 1)(H − e) at γ = ∞ ("reinforcement": the pattern field multiplied by y). The protocols
(`FOCUS_PROTOCOLS`) are the public Julia package's StandardReinforcement and PseudoReinforcement (x = ½),
with ρ rising linearly from 0 to 1 − 1/steps:
      reinforcement:  γ = ∞,            y = 1/(1 − ρ);
      pseudo:         γ = atanh(√ρ),    y = (2 − ρ)/(1 − ρ).
The readout is the sign of the total field H (ties → +1). The implementation is this project's own,
written from the equations above.
"""
from __future__ import annotations

import math

import numba
import numpy as np

FOCUS_PROTOCOLS = ("reinforcement", "pseudo")
_FIELD_CAP = 30.0        # |u|, |e| cap: tanh(30) = 1 in double precision, beyond that nothing changes
_VAR_FLOOR = 1e-6        # cavity variance floor: a fully polarised cavity makes the field deterministic


def focusing_schedule(protocol: str, steps: int) -> list[tuple[float, float]]:
    """(γ, y) for each of the `steps` focusing steps (γ = inf: pure reinforcement)."""
    out = []
    for t in range(steps):
        rho = t / steps
        if protocol == "reinforcement":
            out.append((math.inf, 1.0 / (1.0 - rho)))
        else:
            out.append((math.atanh(math.sqrt(rho)), (2.0 - rho) / (1.0 - rho)))
    return out


@numba.njit(cache=True)
def _log_phi(x: float) -> float:  # pragma: no cover - compiled
    """ln Φ(x), Φ the standard normal CDF; the asymptotic series where erfc underflows."""
    if x > -30.0:
        return math.log(0.5 * math.erfc(-x / math.sqrt(2.0)))
    return -0.5 * x * x - math.log(-x) - 0.5 * math.log(2.0 * math.pi) + math.log1p(-1.0 / (x * x))


@numba.njit(cache=True)
def _log_mix(log_ap: float, log_am: float, a: float) -> float:  # pragma: no cover - compiled
    """ln[A₊ Φ(a) + A₋ Φ(−a)] from ln A₊, ln A₋ (either may be −inf, as for the perceptron)."""
    if log_am == -np.inf:
        return log_ap + _log_phi(a)
    if log_ap == -np.inf:
        return log_am + _log_phi(-a)
    s1 = log_ap + _log_phi(a)
    s2 = log_am + _log_phi(-a)
    hi = max(s1, s2)
    return hi + math.log(math.exp(s1 - hi) + math.exp(s2 - hi))


@numba.njit(cache=True)
def _output_node(p: np.ndarray, y: float, log_a: np.ndarray) -> None:  # pragma: no cover - compiled
    """log_a[l, 0|1] = ln P(y·Σ τ > 0 | τ_l = +1|−1), the other units independent with P(τ = +1) = p."""
    K = p.shape[0]
    dist = np.zeros(K)                       # distribution of Σ_{l'≠l} τ_l' over the values −(K−1) … (K−1), step 2
    for l in range(K):
        dist[:] = 0.0
        dist[0] = 1.0
        count = 0
        for j in range(K):
            if j == l:
                continue
            for v in range(count + 1, 0, -1):   # count + 1 → sum of count+1 spins: index v = number of +1's
                dist[v] = dist[v] * (1.0 - p[j]) + dist[v - 1] * p[j]
            dist[0] *= 1.0 - p[j]
            count += 1
        for side in range(2):
            tau = 1.0 if side == 0 else -1.0
            total = 0.0
            for v in range(count + 1):
                if y * (2 * v - count + tau) > 0:
                    total += dist[v]
            log_a[l, side] = math.log(total) if total > 0.0 else -np.inf


@numba.njit(cache=True)
def bp_sweep(X: np.ndarray, y: np.ndarray, U: np.ndarray, H: np.ndarray, order: np.ndarray,
             damping: float) -> float:  # pragma: no cover - compiled
    """One pass over the patterns in `order`: X (G, P, n) ±1 (G = K tree, 1 fully connected), y (P,),
    U (P, K, n) messages and H (K, n) total fields updated in place. Returns max |Δu|."""
    P, K, n = U.shape
    tree = X.shape[0] == K
    m = np.empty((K, n))
    omega = np.empty(K)
    var = np.empty(K)
    p = np.empty(K)
    log_a = np.empty((K, 2))
    diff = 0.0
    for mu in order:
        for l in range(K):
            g = l if tree else 0
            w = 0.0
            v = 0.0
            for i in range(n):
                t = math.tanh(H[l, i] - U[mu, l, i])
                m[l, i] = t
                w += X[g, mu, i] * t
                v += 1.0 - t * t
            omega[l] = w
            var[l] = v
            p[l] = 0.5 * math.erfc(-w / math.sqrt(2.0 * max(v, _VAR_FLOOR)))
        _output_node(p, y[mu], log_a)
        for l in range(K):
            g = l if tree else 0
            for i in range(n):
                xi = X[g, mu, i]
                t = m[l, i]
                sd = math.sqrt(max(var[l] - (1.0 - t * t), _VAR_FLOOR))
                w = omega[l] - xi * t
                new = 0.5 * (_log_mix(log_a[l, 0], log_a[l, 1], (w + xi) / sd)
                             - _log_mix(log_a[l, 0], log_a[l, 1], (w - xi) / sd))
                new = min(max(new, -_FIELD_CAP), _FIELD_CAP)
                old = U[mu, l, i]
                new = damping * old + (1.0 - damping) * new
                diff = max(diff, abs(new - old))
                U[mu, l, i] = new
                H[l, i] += new - old
    return diff


@numba.njit(cache=True)
def focus_update(U: np.ndarray, E: np.ndarray, H: np.ndarray, gamma: float, y: float,
                 damping: float) -> float:  # pragma: no cover - compiled
    """Focusing fields E (K, n) for the current (γ, y) (module docstring); recomputes H = Σ_μ U + E from
    scratch (no drift from the incremental updates). Returns max |Δe|."""
    P, K, n = U.shape
    pol = math.tanh(gamma)
    r = y - 1.0
    diff = 0.0
    for l in range(K):
        for i in range(n):
            h = 0.0
            for mu in range(P):
                h += U[mu, l, i]
            if r <= 0.0:
                new = 0.0
            elif pol >= 1.0:
                new = r * h
            else:
                new = math.atanh(pol * math.tanh(r * math.atanh(pol * math.tanh(h))))
            new = min(max(new, -_FIELD_CAP), _FIELD_CAP)
            old = E[l, i]
            new = damping * old + (1.0 - damping) * new
            diff = max(diff, abs(new - old))
            E[l, i] = new
            H[l, i] = h + new
    return diff
