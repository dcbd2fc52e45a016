"""A structural test per plot kind: what is drawn, over which range, and that it is legible."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.feedback.mutants import load_mutant
from autograder.report import plots
from autograder.runtime.worker import _call, _map, _session
from autograder.suite.reference import Reference
from autograder.suite.registry import all_checks, build_probes

pytest.importorskip("matplotlib")


def main_probe(function: str):
    check = next(c for c in all_checks() if c.function == function and c.main)
    return build_probes(check, "plots", Reference())[0]


def mutant_reply(name: str, probe):
    module, op = load_mutant(name), probe.request["op"]
    if op == "call":
        return _call(module, probe.request)
    return _map(module, probe.request, "") if op == "map" else _session(module, probe.request, "")


@pytest.fixture
def figure_of(monkeypatch):
    """Draw a plot and return its matplotlib figure instead of PNG bytes."""
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"png")

    def draw(function, probe, reply):
        assert plots.plot_for(function, probe, reply) == b"png"
        fig = figures[-1]
        fig.canvas.draw()
        return fig

    yield draw
    plt.close("all")


def legible(fig) -> None:
    """Titles inside the figure, legends readable, nothing clipped."""
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    for ax in fig.axes:
        title = ax.title.get_window_extent(renderer)
        assert box.x0 - 1 <= title.x0 and title.x1 <= box.x1 + 1, ax.get_title()
        legend = ax.get_legend()
        if legend is not None:
            assert all(t.get_fontsize() >= 8 for t in legend.get_texts())
        low, high = sorted(ax.get_ylim())
        for label in ax.get_yticklabels():
            if label.get_text() and low <= label.get_position()[1] <= high:
                assert label.get_window_extent(renderer).x0 >= box.x0 - 1


@pytest.mark.parametrize("function, mistake", [("step_decay", "step_decay_off_by_one"),
                                               ("inverse_sqrt", "inverse_sqrt_not_scaled"),
                                               ("cosine_decay", "cosine_not_held")])
def test_a_schedule_is_drawn_as_steps_over_its_whole_range_with_markers(figure_of, function, mistake):
    probe = main_probe(function)
    fig = figure_of(function, probe, mutant_reply(mistake, probe))
    ax = fig.axes[0]
    target = next(line for line in ax.get_lines() if line.get_label() == "target")
    yours = next(line for line in ax.get_lines() if line.get_label() == "yours")
    steps = probe.expected["steps"]
    assert target.get_drawstyle() == "steps-post"
    assert min(target.get_xdata()) == min(steps) and max(target.get_xdata()) >= max(steps)
    assert yours.get_linestyle() == "None" and yours.get_marker() == "x" and len(yours.get_xdata()) == len(steps)
    marked = [line for line in ax.get_lines() if line.get_label().startswith("first difference: step ")]
    first = next(s for s, want, item in zip(steps, probe.expected["values"], mutant_reply(mistake, probe)["results"])
                 if not np.isclose(item["result"]["value"], want, rtol=1e-5, atol=1e-8))
    assert len(marked) == 1 and marked[0].get_xdata()[0] == first
    assert all(float(t).is_integer() for t in ax.get_xticks())
    legible(fig)


def test_orthogonal_shows_every_singular_value(figure_of):
    probe = main_probe("orthogonal")
    fig = figure_of("orthogonal", probe, mutant_reply("orthogonal_float32", probe))
    ax = fig.axes[0]
    rows, cols = probe.expected["shape"][0], int(np.prod(probe.expected["shape"][1:]))
    yours = next(line for line in ax.get_lines() if line.get_label().startswith("yours"))
    assert len(yours.get_xdata()) == min(rows, cols)
    assert 0 < np.abs(yours.get_ydata()).max() < 1e-5  # float32: off by ~1e-7 from gain
    legible(fig)


def test_batchnorm_shows_running_statistics_over_several_steps(figure_of):
    probe = main_probe("BatchNorm")
    fig = figure_of("BatchNorm", probe, mutant_reply("BN_momentum_flipped", probe))
    for ax in fig.axes:
        target = [line for line in ax.get_lines() if line.get_color() == plots.TARGET]
        assert target and all(len(line.get_xdata()) >= 2 for line in target)
        assert all(float(t).is_integer() for t in ax.get_xticks())
    legible(fig)


@pytest.mark.parametrize("shape, mode", [((182, 728), "fan_out"), ((728, 182), "fan_out"), ((728, 182), "fan_in"),
                                         ((2048, 300), "fan_in")])
def test_the_init_depth_panel_keeps_the_target_at_its_scale(figure_of, shape, mode):
    """The target's curve is a faithful picture: its network has the width the target's std
    is meant for (he_normal fan_out on a non-square shape: the fan_out), so the activation
    std after 20 ReLU layers stays within a factor of 2 of the first layer's."""
    from autograder.suite.checks_initialization import _he

    probe = _he(Reference(), "he_normal", shape, mode=mode)
    target = plots.target_depth_profile("he_normal", probe)
    assert len(target) == 20 and 0.5 <= target[-1] / target[0] <= 2, target
    fig = figure_of("he_normal", probe, {"ok": False, "error": "NotImplementedError", "message": ""})
    drawn = next(line for line in fig.axes[1].get_lines() if line.get_color() == plots.TARGET)
    assert list(drawn.get_ydata()) == target


def test_the_init_depth_panel_compares_scales_on_the_same_draws(figure_of):
    """A right std (the transposed-shape mistake) is "same scale as the target", not a
    second curve that drifts from sampling noise; a wrong one is drawn on the same draws."""
    from autograder.suite.checks_initialization import _he

    probe = _he(Reference(), "he_normal", (182, 728), mode="fan_out")
    fig = figure_of("he_normal", probe, mutant_reply("he_normal_shape_transposed", probe))
    depth = fig.axes[1]
    assert not [line for line in depth.get_lines() if line.get_color() == plots.YOURS]
    assert any("same scale as the target" in t.get_text() for t in depth.get_legend().get_texts())
    fig = figure_of("he_normal", probe, mutant_reply("he_normal_other_fan", probe))
    yours = next(line for line in fig.axes[1].get_lines() if line.get_color() == plots.YOURS)
    target = next(line for line in fig.axes[1].get_lines() if line.get_color() == plots.TARGET)
    assert yours.get_ydata()[-1] > 100 * target.get_ydata()[-1]  # std 2x too large: explodes
    legible(fig)


def test_batchnorm_counts_training_calls_in_messages_and_plot(figure_of):
    """Gets, sets and eval calls are not steps of training: the message and the plot's x axis
    count training calls (bn(x) in training mode), the same count in both."""
    from autograder.runtime.probes import judge

    check = next(c for c in all_checks() if c.name == "batchnorm_eval_mode")
    probe = build_probes(check, "plots", Reference())[0]
    reply = mutant_reply("BN_momentum_flipped", probe)
    message = judge(probe, reply, [reply]).message
    steps = probe.request["steps"]
    first_call = next(s for s in steps if s[0] == "call")[1][0]
    assert "step" not in message, message
    # gamma and beta are set first, then training call 1; the first judged statistic follows it.
    assert message.startswith(f"after training call 1, bn(x: {tuple(first_call.shape)}): running_mean"), message
    fig = figure_of("BatchNorm", probe, reply)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "training calls"
    target = next(line for line in ax.get_lines() if line.get_color() == plots.TARGET)
    # running_mean is read after training calls 1 and 2, after the eval calls (still 2), and
    # after training call 3: the x axis says so.
    assert list(target.get_xdata()) == [1, 2, 2, 3]


@pytest.mark.parametrize("function, mistake", [("clip_by_norm", "clip_norm_per_tensor"), ("he_normal", "he_normal_no_gain"),
                                               ("layer_norm", "ln_batch_axis"),
                                               ("batch_norm_backward", "bnb_dgamma_uses_x")])
def test_the_other_kinds_are_legible_with_integer_count_ticks(figure_of, function, mistake):
    probe = main_probe(function)
    fig = figure_of(function, probe, mutant_reply(mistake, probe))
    legible(fig)
    if function == "clip_by_norm":
        assert all(float(t).is_integer() for t in fig.axes[0].get_xticks())
    if function == "he_normal":
        assert all(float(t).is_integer() for t in fig.axes[1].get_xticks())


@pytest.mark.parametrize("function, mistake", [("global_norm", "global_norm_sum_of_norms"),
                                               ("compute_fans", "fans_swapped")])
def test_the_fallback_bars_have_integer_entry_ticks(figure_of, function, mistake):
    probe = main_probe(function)
    fig = figure_of(function, probe, mutant_reply(mistake, probe))
    ax = fig.axes[0]
    assert len(ax.patches) >= 2  # target and yours
    assert all(float(t).is_integer() for t in ax.get_xticks())
    legible(fig)
