"""Figures of the training sweeps: PSG Fig. 4 (four optimizer panels, the paper's order and colours) and PSG
Fig. 5(a) (tau/sqrt(L) vs eta L collapse). Drawn from the CSVs only; captions state what the CSV contains."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from isometry.papers.common import read_input as _read

from ..analysis import OPTIMIZER_ORDER, OPTIMIZER_TITLE, exponents, fig4_table, mean_curve, optimum, speed_table
from ..common import scale_note, tight
from ..reference import FIG4_T03, FIG4_T04, FIG5_ETA_L_OPT, fig4_value, mid

_COLOUR = {"blue": "tab:blue", "red": "tab:red", "black": "black"}


def _colour_of(configs: list[dict]) -> dict[str, str]:
    return {c["name"]: c["colour"] for c in configs}


def _ran(df: pd.DataFrame, col: str, fallback) -> str:
    """The value of ``col`` in the CSV (what ran; several values joined), else ``fallback`` marked as configured."""
    if col in df.columns and df[col].notna().any():
        return "/".join(f"{int(v)}" for v in sorted(df[col].dropna().unique()))
    return f"{fallback} (configured)"


def _empty_note(ax, text):
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.3", wrap=True)


# ================================================================================================ Fig. 4
def fig_cifar10_learning(params, inputs, output):
    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "cifar10_learning")
    p = params["cifar10_learning"]
    colours = _colour_of(p["configs"])
    main = df[df.stage == "main"] if "stage" in df.columns and len(df) else df
    opts = [o for o in OPTIMIZER_ORDER if o in set(main.get("optimizer", pd.Series(dtype=str)))]
    fig, axs = new_figure(1, max(len(opts), 1), width=3.2, height=3.0, sharey=True)
    tab = fig4_table(main) if len(main) else pd.DataFrame()
    n_div = 0
    for j, opt in enumerate(opts):
        ax = axs[0, j]
        for c in p["configs"]:
            for init, ls in (("orthogonal", "-"), ("gaussian", "--")):
                g = main[(main.optimizer == opt) & (main.config == c["name"]) & (main.init == init)]
                if g.empty:
                    continue
                curve = mean_curve(g)
                curve = curve[curve.index > 0]
                col = _COLOUR[colours[c["name"]]]
                lr = float(g.lr.iloc[0])
                n_div += int(g.groupby("run_id").diverged.max().sum())
                if np.isfinite(curve.to_numpy()).any():
                    ax.plot(curve.index.to_numpy(), curve.to_numpy(), ls, color=col, lw=1.3,
                            label=f"{c['name']}, {init[:5]}. (lr {lr:g})")
                else:
                    ax.plot([], [], ls, color=col, label=f"{c['name']}, {init[:5]}. (lr {lr:g}): diverged")
                # the paper's digitized steps to 0.3 / 0.4 test accuracy, same colour, hollow markers
                for tbl, y in ((FIG4_T03, 0.3), (FIG4_T04, 0.4)):
                    v = mid(fig4_value(tbl, opt, colours[c["name"]], init))
                    if v is not None:
                        ax.plot([v], [y], marker="o" if init == "orthogonal" else "D", ms=5, mfc="none", mec=col,
                                mew=1.0, ls="none")
        for y in (0.3, 0.4):
            ax.axhline(y, color="0.7", lw=0.7, ls=":")
        ax.axhline(0.1, color="0.85", lw=0.7)
        ax.set(xscale="log", xlabel="t (training steps)", title=f"({'abcd'[j]}) {OPTIMIZER_TITLE[opt]}", ylim=(0, 0.6))
        ax.set_xlim(1, max(float(main.step.max()), 10.0))
        if j == 0:
            ax.set_ylabel("test accuracy")
        ax.legend(fontsize=4.8, loc="upper left")
    if not opts:
        _empty_note(axs[0, 0], "no runs in the CSV")
    axs[0, -1].plot([], [], "o", mfc="none", mec="0.3", label="paper, digitized (o orth., D Gauss.)")
    axs[0, -1].legend(fontsize=4.8, loc="upper left")
    d0 = main.iloc[0] if len(main) else None
    desc = (f"depth L = {int(d0.depth)}, width N = {int(d0.width)}, "
            f"batch {_ran(main, 'batch_size', p['batch_size'])}, {int(main.step.max())} steps, dataset {d0.dataset}"
            if d0 is not None else "no runs")
    pilot = df[df.stage == "pilot"] if "stage" in df.columns and len(df) else df.iloc[:0]
    pilot_steps = f"{int(pilot.step.max())}" if len(pilot) else f"{int(p['pilot_steps'])} (configured; none in the CSV)"
    grids = "; ".join(f"{OPTIMIZER_TITLE[o]} {main[main.optimizer == o].lr_grid.iloc[0]}" for o in opts
                      if "lr_grid" in main)
    tight(fig)
    save_figure(fig, output, (
        f"PSG Fig. 4 reproduction: test accuracy (first {_ran(main, 'n_test', p['n_test'])} test images) versus step, "
        f"fully connected networks, {desc}, {_ran(main, 'n_train', p['n_train'])} training images, panels in the "
        f"paper's order. Blue: tanh "
        f"sigma_w^2 = 1.05 (q* = 0.026); red: tanh sigma_w^2 = 2 (q* = 0.82); black: ReLU sigma_w^2 = 2. Solid: "
        f"orthogonal, dashed: Gaussian weights. Each curve's learning rate was chosen by a {pilot_steps}-"
        f"step pilot over the grid ({grids}): lowest training loss over the pilot's second half (legend). Hollow "
        f"markers: the paper's steps to 0.3 / 0.4 test accuracy read off its figure (verified.md sec. 2). "
        f"Diverged runs in the CSV: {n_div}. " + scale_note(params)
        + f" The paper: L = 200, N = 400, 10^5 steps; here N and the steps are reduced to fit the CPU budget."))


# ================================================================================================ Fig. 5(a)
def fig_learning_speed(params, inputs, output):
    import matplotlib

    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "learning_speed")
    p = params["learning_speed"]
    thr = float(params["analysis"]["speed_threshold"])
    fig, axs = new_figure(1, 3, width=3.4, height=3.0)
    if df.empty:
        for ax in axs[0]:
            _empty_note(ax, "no runs in the CSV")
        tab = pd.DataFrame(columns=["depth"])
    else:
        tab = speed_table(df, thr)
    depths = sorted(int(d) for d in tab.depth.unique())
    cmap = matplotlib.colormaps["viridis"]
    cols = {L: ("black" if i == 0 else cmap(0.15 + 0.7 * i / max(len(depths) - 1, 1))) for i, L in enumerate(depths)}
    ax = axs[0, 0]
    censored = 0
    for L in depths:
        g = tab[tab.depth == L].sort_values("eta_l")
        y = g.tau / math.sqrt(L)
        fin = np.isfinite(y)
        ax.plot(g.eta_l[fin], y[fin], "o-", color=cols[L], ms=3.5, lw=1.0, label=f"L = {L}")
        # censored (never reached within the run) and diverged points: open markers at the censoring level
        cap = g.last_step / math.sqrt(L)
        for (_, r), c in zip(g[~fin].iterrows(), cap[~fin]):
            censored += 1
            ax.plot([r.eta_l], [c], "x" if r.diverged else "^", color=cols[L], ms=5, mfc="none")
    ax.axvspan(*FIG5_ETA_L_OPT, color="0.9", zorder=0, label="paper optimum, eta L ~ 1-5")
    ax.set(xscale="log", yscale="log", xlabel=r"$\eta L$", ylabel=r"$\tau/\sqrt{L}$",
           title="(a) collapse (PSG Fig. 5(a))")
    ax.legend(fontsize=5.5)
    opt = optimum(tab) if len(tab) else pd.DataFrame(columns=["depth", "eta_star", "tau_star", "interior"])
    a, b = exponents(opt) if len(opt) else (math.nan, math.nan)
    for axk, col, ref, lab in ((axs[0, 1], "eta_star", -1.0, r"$\eta^*$"), (axs[0, 2], "tau_star", 0.5,
                                                                                  r"$\tau(\eta^*)$")):
        o = opt[np.isfinite(opt[col].astype(float)) & np.isfinite(opt.tau_star.astype(float))] if len(opt) else opt
        if len(o):
            axk.plot(o.depth, o[col], "ko", ms=5)
            for _, r in o[~o.interior.astype(bool)].iterrows():
                axk.plot([r.depth], [r[col]], "o", ms=9, mfc="none", mec="C3")
            x = np.geomspace(min(depths), max(depths), 20)
            expo = a if col == "eta_star" else b
            if np.isfinite(expo):
                c0 = np.exp(np.mean(np.log(o[col].astype(float))) - expo * np.mean(np.log(o.depth.astype(float))))
                axk.plot(x, c0 * x ** expo, "k-", lw=0.8, label=f"fit: slope {expo:.2f}")
            c1 = np.exp(np.mean(np.log(o[col].astype(float))) - ref * np.mean(np.log(o.depth.astype(float))))
            axk.plot(x, c1 * x ** ref, "C3--", lw=0.8, label=f"paper: slope {ref:g}")
            axk.legend(fontsize=6)
        axk.set(xscale="log", yscale="log", xlabel="depth L", ylabel=lab)
    axs[0, 1].set_title(r"(b) optimal learning rate $\eta^*$")
    axs[0, 2].set_title(r"(c) steps to threshold at $\eta^*$")
    d0 = df.iloc[0] if len(df) else None
    grid = ", ".join(f"{x:g}" for x in sorted(tab.eta_l.unique())) if len(tab) else "-"
    opt_ran = d0.get("optimizer", p["optimizer"]) if d0 is not None else "-"
    tight(fig)
    save_figure(fig, output, (
        f"PSG Fig. 5(a) reproduction on {d0.dataset if d0 is not None else '-'}: orthogonal tanh networks at q* = "
        f"{float(p['q_star']):g} on the critical line, depths L = {', '.join(map(str, depths)) or '-'}, width "
        f"N = {int(d0.width) if d0 is not None else '-'}, {opt_ran} with batch "
        f"{_ran(df, 'batch_size', p['batch_size'])}, "
        f"learning rate eta = (eta L)/L for eta L in {{{grid}}}, {int(df.step.max()) if len(df) else 0} steps. "
        f"tau = steps until the test accuracy (first {_ran(df, 'n_test', p['n_test'])} test images) first reaches "
        f"{thr:g} "
        f"(interpolated in log step). (a) tau/sqrt(L) vs eta L: the paper's curves collapse with the optimum at "
        f"eta L ~ 1-5 (grey band); triangles: not reached within the run (drawn at the last step), crosses: "
        f"diverged ({censored} such points). (b) eta* per depth (grid minimum, refined by a parabola in log-log "
        f"when bracketed; red ring: at the grid's end, only a bound) with the fitted slope and the paper's -1; "
        f"(c) tau(eta*) with the fitted slope and the paper's 1/2. " + scale_note(params)))
