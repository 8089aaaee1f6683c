"""The LivePlot panel plan: which key goes to which panel, their order and y range."""

from __future__ import annotations

from kerastools.live.history import RunHistory
from kerastools.live.panels import PanelPlan


def test_metrics_order_the_panels_and_the_loss_and_learning_rate_frame_them():
    plan = PanelPlan(metrics=("mae", "accuracy"), show_lr=True, log_loss=False, targets={})
    keys = ["learning_rate", "val_accuracy", "mae", "loss", "auc"]
    assert plan.order(keys) == ("loss", "mae", "accuracy", "learning_rate")
    assert plan.panel_of("auc") is None


def test_panels_seen_first_stay_first_without_metrics():
    plan = PanelPlan(metrics=None, show_lr=False, log_loss=False, targets={})
    assert plan.order(["loss", "zeta"]) == ("loss", "zeta")
    assert plan.order(["loss", "alpha", "zeta", "learning_rate"]) == ("loss", "zeta", "alpha")


def test_value_range_includes_targets_and_a_log_axis_skips_values_at_or_below_zero():
    store = RunHistory()
    store.record_epoch(0, {"loss": 0.0, "val_loss": 2.0, "accuracy": 0.5})
    store.record_epoch(1, {"loss": 0.5})
    plan = PanelPlan(metrics=None, show_lr=True, log_loss=True, targets={"val_accuracy": 0.9})
    assert plan.value_range("loss", store) == (0.5, 2.0)
    assert plan.value_range("accuracy", store) == (0.5, 0.9)
    assert plan.value_range("learning_rate", store) is None


def test_a_gan_gets_its_rates_in_the_learning_rate_panel_and_no_counter_panels():
    plan = PanelPlan(metrics=None, show_lr=True, log_loss=False, targets={})
    assert plan.panel_of("learning_rate_d_optimizer") == "learning_rate"
    assert plan.panel_of("learning_rate_g_optimizer") == "learning_rate"
    assert plan.panel_of("iterations_d_optimizer") is None
    assert plan.panel_of("d_loss") == "d_loss"
