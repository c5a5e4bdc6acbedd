"""Triton kernels for RePU, MRePU, the Zorro core and Radial Bounding.

Triton cannot run torch code, so this module restates the reference formulas of
actlab.activations.power, .zorro and .radial (same names, same case splits, same
NaN behaviour); tests/test_kernels*.py checks every function against them. Loads
any of float32/float16/bfloat16, computes in float32, stores the input's dtype.
Offsets are int64, so tensors beyond 2³¹ elements are fine.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import torch
import triton
import triton.language as tl

from . import ZORRO_CORE, ElementwiseKernel

REPU, MREPU, ZORRO = 0, 1, 2
_KINDS = {"repu": REPU, "mrepu": MREPU, "zorro": ZORRO}
BLOCK = 1024  # elements per program, elementwise kernels
TILE = 2048   # elements per program, radial bounding (rows × padded group)


# --- the formulas -------------------------------------------------------------------
@triton.jit
def _pow(base, e):
    """power._pow: exp(e·ln base)."""
    return tl.exp(e * tl.log(base))


@triton.jit
def _clamp_min0(v):
    """torch.clamp_min(v, 0): NaN stays NaN."""
    return tl.where(v > 0, v, tl.where(v != v, v, 0.0))


@triton.jit
def repu_value(z, p):
    """max(0, z)^p."""
    return _pow(_clamp_min0(z), p)


@triton.jit
def repu_derivative(z, p):
    pos = z > 0
    zs = tl.where(pos, z, 1.0)
    return tl.where(pos, p * _pow(zs, p - 1), 0.0)


@triton.jit
def repu_partials(z, p):
    pos = z > 0
    zs = tl.where(pos, z, 1.0)
    return tl.where(pos, _pow(zs, p) * tl.log(zs), 0.0)


@triton.jit
def mrepu_value(z, p):
    """z · max(0, z + 1)^p, z capped below at −1 (power.mrepu_value; NaN stays NaN)."""
    return tl.where(z < -1, -1.0, z) * _pow(_clamp_min0(z + 1), p)


@triton.jit
def mrepu_derivative(z, p):
    inside = z > -1
    u = tl.where(inside, z + 1, 1.0)
    return tl.where(inside, _pow(u, p - 1) * ((p + 1) * z + 1), 0.0)


@triton.jit
def mrepu_partials(z, p):
    inside = z > -1
    u = tl.where(inside, z + 1, 1.0)
    return tl.where(inside, z * _pow(u, p) * tl.log(u), 0.0)


@triton.jit
def _hump(x, an, bn, ap, bp):
    """zorro._hump: (x < 0, t, a, S, h, σ(ab)) on the side x lies on."""
    lo = x < 0
    t = tl.minimum(tl.maximum(tl.maximum(-x, x - 1), 0.0), 1e18)  # capped at zorro.T_MAX
    a = tl.where(lo, an, ap)
    c = tl.where(lo, tl.exp(-an * bn), tl.exp(-ap * bp))
    e = tl.exp(-a * t)
    s = 1 / (1 + e * c)
    return lo, t, a, s, e * (1 + c) * s, 1 / (1 + c)


@triton.jit
def core_value(x, an, bn, ap, bp, m):
    lo, t, a, s, h, sab = _hump(x, an, bn, ap, bp)
    th = t * h
    upper = tl.where(m > 0, m * (x - 1), 0.0) + (1 - m) * th  # zorro.core_value: m·(x − 1) uncapped
    return tl.where(lo, -th, tl.where(x > 1, 1 + upper, x))


@triton.jit
def core_derivative(x, an, bn, ap, bp, m):
    lo, t, a, s, h, sab = _hump(x, an, bn, ap, bp)
    tail = h * (1 - a * t * s)
    return tl.where(lo, tail, tl.where(x > 1, m + (1 - m) * tail, 1.0))


@triton.jit
def core_partials(x, an, bn, ap, bp, m):
    lo, t, a, s, h, sab = _hump(x, an, bn, ap, bp)
    b = tl.where(lo, bn, bp)
    hi = x > 1
    w = tl.where(lo, -t * h, (1 - m) * t * h)
    da = w * (b * sab - (t + b) * s)
    db = w * a * (sab - s)
    return (tl.where(lo, da, 0.0), tl.where(lo, db, 0.0), tl.where(hi, da, 0.0), tl.where(hi, db, 0.0),
            tl.where(hi, (x - 1) - t * h, 0.0))


# --- elementwise kernels --------------------------------------------------------------
# The activation's parameters arrive as MAX_PARAMS pointers to its 0-d tensors (unused
# ones point anywhere): stacking them into one tensor would cost a kernel launch per call.
MAX_PARAMS = 4


@triton.jit
def _param(p0_ptr, p1_ptr, p2_ptr, p3_ptr, INDEX: tl.constexpr, DEFAULT: tl.constexpr):
    """The activation's parameter at INDEX, or DEFAULT (a float32 scalar either way) when INDEX < 0."""
    if INDEX == 0:
        v = tl.load(p0_ptr).to(tl.float32)
    elif INDEX == 1:
        v = tl.load(p1_ptr).to(tl.float32)
    elif INDEX == 2:
        v = tl.load(p2_ptr).to(tl.float32)
    elif INDEX == 3:
        v = tl.load(p3_ptr).to(tl.float32)
    else:
        v = tl.full((), DEFAULT, tl.float32)
    return v


@triton.jit
def _zorro_params(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_AN: tl.constexpr, I_BN: tl.constexpr, I_AP: tl.constexpr,
                  I_BP: tl.constexpr, I_M: tl.constexpr, I_S: tl.constexpr):
    return (_param(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_AN, 1.0), _param(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_BN, 1.0),
            _param(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_AP, 1.0), _param(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_BP, 1.0),
            _param(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_M, 0.0), _param(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_S, 1.0))


@triton.jit
def _elementwise_fwd(x_ptr, y_ptr, p0_ptr, p1_ptr, p2_ptr, p3_ptr, n, KIND: tl.constexpr,
                     I_AN: tl.constexpr, I_BN: tl.constexpr, I_AP: tl.constexpr, I_BP: tl.constexpr,
                     I_M: tl.constexpr, I_S: tl.constexpr, SCALE: tl.constexpr, SHIFT: tl.constexpr,
                     GAIN: tl.constexpr, OFFSET: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    if KIND == 0:
        y = repu_value(x, tl.load(p0_ptr).to(tl.float32))
    elif KIND == 1:
        y = mrepu_value(x, tl.load(p0_ptr).to(tl.float32))
    else:
        an, bn, ap, bp, m, s = _zorro_params(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_AN, I_BN, I_AP, I_BP, I_M, I_S)
        y = GAIN * core_value(SCALE * s * x + SHIFT, an, bn, ap, bp, m) + OFFSET
    tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _elementwise_bwd(x_ptr, g_ptr, gx_ptr, p0_ptr, p1_ptr, p2_ptr, p3_ptr, part_ptr, n, KIND: tl.constexpr,
                     I_AN: tl.constexpr, I_BN: tl.constexpr, I_AP: tl.constexpr, I_BP: tl.constexpr,
                     I_M: tl.constexpr, I_S: tl.constexpr, SCALE: tl.constexpr, SHIFT: tl.constexpr,
                     GAIN: tl.constexpr, OFFSET: tl.constexpr, NEED_X: tl.constexpr, NEED_P: tl.constexpr,
                     BLOCK: tl.constexpr):
    """grad_x = g·f'(x); with NEED_P, this block's Σ g·∂f/∂(kernel parameter) in part_ptr[pid, :]."""
    pid = tl.program_id(0)
    offs = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    if KIND == 0:
        p = tl.load(p0_ptr).to(tl.float32)
        if NEED_X:
            tl.store(gx_ptr + offs, (g * repu_derivative(x, p)).to(gx_ptr.dtype.element_ty), mask=mask)
        if NEED_P:
            tl.store(part_ptr + pid, tl.sum(tl.where(mask, g * repu_partials(x, p), 0.0), axis=0))
    elif KIND == 1:
        p = tl.load(p0_ptr).to(tl.float32)
        if NEED_X:
            tl.store(gx_ptr + offs, (g * mrepu_derivative(x, p)).to(gx_ptr.dtype.element_ty), mask=mask)
        if NEED_P:
            tl.store(part_ptr + pid, tl.sum(tl.where(mask, g * mrepu_partials(x, p), 0.0), axis=0))
    else:
        an, bn, ap, bp, m, s = _zorro_params(p0_ptr, p1_ptr, p2_ptr, p3_ptr, I_AN, I_BN, I_AP, I_BP, I_M, I_S)
        u = SCALE * s * x + SHIFT
        d = core_derivative(u, an, bn, ap, bp, m)
        if NEED_X:
            tl.store(gx_ptr + offs, (g * (GAIN * SCALE * s * d)).to(gx_ptr.dtype.element_ty), mask=mask)
        if NEED_P:
            gg = tl.where(mask, GAIN * g, 0.0)
            dan, dbn, dap, dbp, dm = core_partials(u, an, bn, ap, bp, m)
            row = part_ptr + pid * 6
            tl.store(row + 0, tl.sum(gg * dan, axis=0))
            tl.store(row + 1, tl.sum(gg * dbn, axis=0))
            tl.store(row + 2, tl.sum(gg * dap, axis=0))
            tl.store(row + 3, tl.sum(gg * dbp, axis=0))
            tl.store(row + 4, tl.sum(gg * dm, axis=0))
            tl.store(row + 5, tl.sum(gg * (SCALE * x * d), axis=0))


@lru_cache(maxsize=None)
def _meta(kernel: ElementwiseKernel) -> dict:
    index = kernel.params if kernel.kind == "zorro" else (-1,) * len(ZORRO_CORE)
    scale, shift, gain, offset = kernel.affine
    return dict(KIND=_KINDS[kernel.kind], I_AN=index[0], I_BN=index[1], I_AP=index[2], I_BP=index[3],
                I_M=index[4], I_S=index[5], SCALE=float(scale), SHIFT=float(shift), GAIN=float(gain),
                OFFSET=float(offset), BLOCK=BLOCK)


def _pointers(params: Sequence[torch.Tensor], like: torch.Tensor) -> list[torch.Tensor]:
    """The MAX_PARAMS parameter pointers of the kernels: params, then `like` for the unused ones."""
    return [*params, *[like] * (MAX_PARAMS - len(params))]


def elementwise_forward(kernel: ElementwiseKernel, x: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    xf = x.contiguous()
    y = torch.empty_like(xf)
    n = xf.numel()
    if n:
        _elementwise_fwd[(triton.cdiv(n, BLOCK),)](xf, y, *_pointers(params, xf), n, **_meta(kernel))
    return y.view(x.shape)


def elementwise_backward(kernel: ElementwiseKernel, x: torch.Tensor, grad: torch.Tensor,
                         params: Sequence[torch.Tensor], needs: Sequence[bool]) -> tuple:
    need_x, need_p = bool(needs[0]), any(needs[1:])
    xf, gf = x.contiguous(), grad.contiguous()
    n = xf.numel()
    blocks = triton.cdiv(n, BLOCK)
    slots = len(ZORRO_CORE) if kernel.kind == "zorro" else 1
    # xf stands for an output that is not needed: an unused pointer (no allocation, which costs host time)
    gx = torch.empty_like(xf) if need_x else xf
    part = torch.empty((blocks, slots), dtype=torch.float32, device=x.device) if need_p else xf
    if n:
        _elementwise_bwd[(blocks,)](xf, gf, gx, *_pointers(params, xf), part, n, NEED_X=need_x, NEED_P=need_p,
                                    **_meta(kernel))
    grads: list = [gx.view(x.shape) if need_x else None]
    if not need_p:
        return (*grads, *([None] * len(params)))
    sums = part.sum(0)  # the kernel parameters' gradients
    index = kernel.params if kernel.kind == "zorro" else (0,)
    for j, p in enumerate(params):  # a parameter used in several core places gets their sum
        total = sum(sums[k] for k, i in enumerate(index) if i == j) if needs[j + 1] else None
        grads.append(None if total is None else total.to(p.dtype).reshape(p.shape))
    return tuple(grads)


# --- radial bounding --------------------------------------------------------------------
@triton.jit
def _rb_tile(pid, c, R, G_UNITS, BLOCK_R: tl.constexpr, BLOCK_G: tl.constexpr, FLAT: tl.constexpr,
             G_DIV: tl.constexpr):
    """Offsets and mask of chunk c of program pid's rows of G = G_UNITS·G_DIV elements.
    Loads and stores move 16 bytes per instruction only where triton can prove the
    addresses contiguous and aligned, hence two forms:
    FLAT (G == BLOCK_G, one chunk): the tile is BLOCK_R·G consecutive elements, addressed
    as one flat range (row·G + column with a runtime G hides that contiguity).
    Otherwise row·G + column, with G written as a runtime count of G_DIV, G's largest
    power-of-two divisor up to 16: triton then knows each row's alignment (a runtime
    integer it knows only to be a multiple of 16 or not)."""
    if FLAT:
        offs = pid.to(tl.int64) * (BLOCK_R * BLOCK_G) + tl.arange(0, BLOCK_R * BLOCK_G)
        mask = offs < R * BLOCK_G
    else:
        G = G_UNITS * G_DIV
        rows = pid.to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
        cols = c * BLOCK_G + tl.arange(0, BLOCK_G)
        offs, mask = rows[:, None] * G + cols[None, :], (rows[:, None] < R) & (cols[None, :] < G)
    return offs, mask


@triton.jit
def _rb_load(ptr, offs, mask, BLOCK_R: tl.constexpr, BLOCK_G: tl.constexpr):
    """The tile at offs (see _rb_tile) as float32 rows, shaped (BLOCK_R, BLOCK_G)."""
    return tl.reshape(tl.load(ptr + offs, mask=mask, other=0.0).to(tl.float32), (BLOCK_R, BLOCK_G))


@triton.jit
def _rb_store(ptr, offs, mask, rows):
    tl.store(ptr + offs, tl.reshape(rows, offs.shape).to(ptr.dtype.element_ty), mask=mask)


@triton.jit
def _rb_sums(x):
    """(Σx², Σu², number of infinite components) of rows x, u = x·2⁻⁶⁶.

    The CPU reference (radial.rb_scaled) divides a group by its largest |component|
    before summing, which takes a read of the group first; here both sums come from
    the one read: where Σx² overflows float32 (|x| ≳ 1.8e19), Σu² cannot (|u| would
    need |x| > 1.3e39 > float32's max), and u has x's direction."""
    u = x * 1.3552527156068805e-20  # 2⁻⁶⁶, exact
    return tl.sum(x * x, axis=1), tl.sum(u * u, axis=1), tl.sum((tl.abs(x) == float("inf")).to(tl.float32), axis=1)


@triton.jit
def _rb_rows(x, sq, usq, n_inf):
    """radial.rb_component: x·rsqrt(max(1, Σx²)); where Σx² overflowed u·rsqrt(Σu²), or
    along the infinite components."""
    big = (sq == float("inf"))[:, None]
    finite = x * tl.rsqrt(tl.where(sq < 1, 1.0, sq))[:, None]  # max(1, sq) that keeps NaN, like clamp_min
    scaled = x * 1.3552527156068805e-20 * tl.rsqrt(tl.where(sq == float("inf"), usq, 1.0))[:, None]
    direction = tl.where(tl.abs(x) == float("inf"), tl.where(x > 0, 1.0, -1.0), 0.0) * \
        tl.rsqrt(tl.maximum(n_inf, 1.0))[:, None]
    return tl.where(big, tl.where((n_inf > 0)[:, None], direction, scaled), finite)


@triton.jit
def _rb_fwd(x_ptr, y_ptr, R, G_UNITS, BLOCK_R: tl.constexpr, BLOCK_G: tl.constexpr, CHUNKS: tl.constexpr,
            FLAT: tl.constexpr, G_DIV: tl.constexpr):
    """y = RB(x) per row of G (_rb_rows); rows of more than BLOCK_G in CHUNKS passes."""
    pid = tl.program_id(0)
    if CHUNKS == 1:
        offs, mask = _rb_tile(pid, 0, R, G_UNITS, BLOCK_R, BLOCK_G, FLAT, G_DIV)
        x = _rb_load(x_ptr, offs, mask, BLOCK_R, BLOCK_G)
        sq, usq, n_inf = _rb_sums(x)
        _rb_store(y_ptr, offs, mask, _rb_rows(x, sq, usq, n_inf))
    else:
        sq = tl.zeros((BLOCK_R,), dtype=tl.float32)
        usq = tl.zeros((BLOCK_R,), dtype=tl.float32)
        n_inf = tl.zeros((BLOCK_R,), dtype=tl.float32)
        for c in range(CHUNKS):
            offs, mask = _rb_tile(pid, c, R, G_UNITS, BLOCK_R, BLOCK_G, FLAT, G_DIV)
            c_sq, c_usq, c_inf = _rb_sums(_rb_load(x_ptr, offs, mask, BLOCK_R, BLOCK_G))
            sq += c_sq
            usq += c_usq
            n_inf += c_inf
        for c in range(CHUNKS):
            offs, mask = _rb_tile(pid, c, R, G_UNITS, BLOCK_R, BLOCK_G, FLAT, G_DIV)
            _rb_store(y_ptr, offs, mask, _rb_rows(_rb_load(x_ptr, offs, mask, BLOCK_R, BLOCK_G), sq, usq, n_inf))


@triton.jit
def _rb_dots(x, g):
    """(Σx·g, Σu·g) of rows x, g, u = x·2⁻⁶⁶ (see _rb_sums)."""
    return tl.sum(x * g, axis=1), tl.sum(x * 1.3552527156068805e-20 * g, axis=1)


@triton.jit
def _rb_vjp_rows(x, g, sq, usq, n_inf, dot, udot):
    """radial.rb_component_vjp: g inside the ball, (g − x·(x·g)/‖x‖²)/‖x‖ outside; where
    Σx² overflowed the same in u = x·SCALE; 0 along infinite components."""
    big = sq == float("inf")
    outside = sq > 1
    s = tl.where(outside & (sq != float("inf")), sq, 1.0)
    finite = tl.where(outside[:, None], (g - x * (dot / s)[:, None]) * tl.rsqrt(s)[:, None], g)
    us = tl.where(big, usq, 1.0)
    scaled = (g - x * 1.3552527156068805e-20 * (udot / us)[:, None]) * (tl.rsqrt(us) * 1.3552527156068805e-20)[:, None]
    return tl.where(big[:, None], tl.where((n_inf > 0)[:, None], 0.0, scaled), finite)


@triton.jit
def _rb_bwd(x_ptr, g_ptr, gx_ptr, R, G_UNITS, BLOCK_R: tl.constexpr, BLOCK_G: tl.constexpr,
            CHUNKS: tl.constexpr, FLAT: tl.constexpr, G_DIV: tl.constexpr):
    pid = tl.program_id(0)
    if CHUNKS == 1:
        offs, mask = _rb_tile(pid, 0, R, G_UNITS, BLOCK_R, BLOCK_G, FLAT, G_DIV)
        x = _rb_load(x_ptr, offs, mask, BLOCK_R, BLOCK_G)
        g = _rb_load(g_ptr, offs, mask, BLOCK_R, BLOCK_G)
        sq, usq, n_inf = _rb_sums(x)
        dot, udot = _rb_dots(x, g)
        _rb_store(gx_ptr, offs, mask, _rb_vjp_rows(x, g, sq, usq, n_inf, dot, udot))
    else:
        sq = tl.zeros((BLOCK_R,), dtype=tl.float32)
        usq = tl.zeros((BLOCK_R,), dtype=tl.float32)
        n_inf = tl.zeros((BLOCK_R,), dtype=tl.float32)
        dot = tl.zeros((BLOCK_R,), dtype=tl.float32)
        udot = tl.zeros((BLOCK_R,), dtype=tl.float32)
        for c in range(CHUNKS):
            offs, mask = _rb_tile(pid, c, R, G_UNITS, BLOCK_R, BLOCK_G, FLAT, G_DIV)
            x = _rb_load(x_ptr, offs, mask, BLOCK_R, BLOCK_G)
            g = _rb_load(g_ptr, offs, mask, BLOCK_R, BLOCK_G)
            c_sq, c_usq, c_inf = _rb_sums(x)
            c_dot, c_udot = _rb_dots(x, g)
            sq += c_sq
            usq += c_usq
            n_inf += c_inf
            dot += c_dot
            udot += c_udot
        for c in range(CHUNKS):
            offs, mask = _rb_tile(pid, c, R, G_UNITS, BLOCK_R, BLOCK_G, FLAT, G_DIV)
            x = _rb_load(x_ptr, offs, mask, BLOCK_R, BLOCK_G)
            g = _rb_load(g_ptr, offs, mask, BLOCK_R, BLOCK_G)
            _rb_store(gx_ptr, offs, mask, _rb_vjp_rows(x, g, sq, usq, n_inf, dot, udot))


def _rb_launch(rows: torch.Tensor) -> tuple[tuple[int], tuple[int, int], dict]:
    """Grid, runtime sizes (R, G_UNITS) and compile-time meta of the kernels on rows (R, G)."""
    R, G = rows.shape
    block_g = min(triton.next_power_of_2(G), TILE)
    block_r = max(1, TILE // block_g)
    g_div = min(G & -G, 16)
    return (triton.cdiv(R, block_r),), (R, G // g_div), dict(
        BLOCK_R=block_r, BLOCK_G=block_g, CHUNKS=triton.cdiv(G, block_g), FLAT=block_g == G, G_DIV=g_div)


def radial_forward(xg: torch.Tensor) -> torch.Tensor:
    rows = xg.reshape(-1, xg.shape[-1]).contiguous()
    y = torch.empty_like(rows)
    if rows.numel():
        grid, sizes, meta = _rb_launch(rows)
        _rb_fwd[grid](rows, y, *sizes, **meta)
    return y.view(xg.shape)


def radial_backward(xg: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    rows = xg.reshape(-1, xg.shape[-1]).contiguous()
    g = grad.reshape(rows.shape).contiguous()
    gx = torch.empty_like(rows)
    if rows.numel():
        grid, sizes, meta = _rb_launch(rows)
        _rb_bwd[grid](rows, g, gx, *sizes, **meta)
    return gx.view(xg.shape)
