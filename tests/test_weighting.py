"""Loss weighting: registry, the LWF architecture, the collapse toy problem, the baselines."""

import pytest
import torch
from torch import nn

from detectron2.config import get_cfg

from lwf_track import add_lwf_config
from lwf_track.weighting import (
    DWA,
    LOSS_WEIGHTING_REGISTRY,
    LWF,
    TASK_LOSS_KEYS,
    Fixed,
    GradNorm,
    LossWeighting,
    Uncertainty,
    build_loss_weighting,
)

NAMES = ("Fixed", "LWF", "Uncertainty", "DWA", "GradNorm")


def as_dict(values, requires_grad=False):
    return {
        key: torch.tensor(float(v), requires_grad=requires_grad)
        for key, v in zip(TASK_LOSS_KEYS, values)
    }


def config(name):
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.MODEL.LOSS_WEIGHTING.NAME = name
    return cfg


class SharedToy(nn.Module):
    """A shared linear layer and three heads whose output scales give different gradient norms."""

    def __init__(self, scales=(1.0, 3.0, 10.0)):
        super().__init__()
        self.shared = nn.Linear(4, 8)
        self.heads = nn.ModuleList(nn.Linear(8, 1) for _ in scales)
        self.scales = scales
        self.x = torch.randn(16, 4)

    def forward(self):
        features = torch.relu(self.shared(self.x))
        return {
            key: (scale * head(features)).pow(2).mean()
            for key, head, scale in zip(TASK_LOSS_KEYS, self.heads, self.scales)
        }


# ----------------------------------------------------------------------------------- registry
def test_all_methods_registered_and_built_from_config():
    for name in NAMES:
        assert name in LOSS_WEIGHTING_REGISTRY
        module = build_loss_weighting(config(name))
        assert isinstance(module, nn.Module) and isinstance(module, LossWeighting)
        assert module.current_weights().shape == (3,)
    assert isinstance(build_loss_weighting(config("LWF")), LWF)  # the default


def test_a_method_must_state_forward_and_current_weights():
    class ForwardOnly(LossWeighting):
        def forward(self, raw_losses, shared_parameters=None):
            return dict(raw_losses)

    with pytest.raises(TypeError, match="current_weights"):
        ForwardOnly()


def test_unknown_name_lists_registered_names():
    with pytest.raises(KeyError) as info:
        build_loss_weighting(config("Nope"))
    for name in NAMES:
        assert name in str(info.value)


def test_missing_task_loss_is_named():
    with pytest.raises(KeyError, match="loss_reid"):
        Fixed()({"loss_cls": torch.tensor(1.0), "loss_box_reg": torch.tensor(1.0)})


# ----------------------------------------------------------------------------------- LWF
@pytest.mark.parametrize(
    "hidden_dim, num_hidden_layers, expected",
    [(4, 1, 40), (8, 1, 112), (16, 1, 352), (32, 1, 1216), (64, 1, 4480), (128, 1, 17152)]
    + [(32, 2, 2240), (32, 3, 3264)],
)
def test_lwf_parameter_count_matches_paper(hidden_dim, num_hidden_layers, expected):
    module = LWF(hidden_dim=hidden_dim, num_hidden_layers=num_hidden_layers)
    assert sum(p.numel() for p in module.parameters()) == expected
    assert all(name.endswith("weight") for name, _ in module.named_parameters())
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == num_hidden_layers + 2 and all(m.bias is None for m in linears)


def test_lwf_starts_at_one_and_stays_positive():
    module = LWF()
    assert torch.equal(module.current_weights(), torch.ones(3))
    module(as_dict([1.0, 1.0, 1.0]))
    assert torch.allclose(module.current_weights(), torch.ones(3))
    for values in ([0.01, 0.5, 9.0], [100.0, 0.0, 3.0]):
        module(as_dict(values))
        weights = module.current_weights()
        assert (weights > 0).all() and torch.allclose(weights, weights[0])  # equal rows at init
        assert 0.5 < weights[0] < 1.5


def test_lwf_reads_detached_losses():
    module = LWF(constraint="none")
    raw = as_dict([0.5, 2.0, 8.0], requires_grad=True)
    sum(module(raw).values()).backward()
    weights = module.current_weights()
    for i, key in enumerate(TASK_LOSS_KEYS):
        assert raw[key].grad == weights[i]  # only d(w_i L_i)/dL_i = w_i, nothing via the MLP input
    assert all(p.grad is not None for p in module.parameters())


def train_weighting(module, values, steps=300, lr=1e-2):
    """Only the weighting module learns; the task losses are constants."""
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    raw = as_dict(values)
    for _ in range(steps):
        loss = sum(module(raw).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    module(raw)
    return module.current_weights()


LOSSES = torch.tensor([0.5, 2.0, 8.0])


def test_lwf_literal_variant_collapses():
    weights = train_weighting(LWF(constraint="none"), LOSSES)
    assert (weights < 0.05).all()


def test_lwf_log_barrier_balances_the_tasks():
    weights = train_weighting(LWF(constraint="log_barrier"), LOSSES)
    weighted = weights * LOSSES
    assert (weights > 0.05).all()
    assert weighted.max() / weighted.min() < 1.5
    assert torch.allclose(weights, 1.0 / LOSSES, rtol=0.2)  # the barrier's optimum w_i = 1/L_i


def test_lwf_sum_constraint_keeps_sum_three():
    module = LWF(constraint="sum")
    module(as_dict(LOSSES))
    assert torch.isclose(module.current_weights().sum(), torch.tensor(3.0))
    weights = train_weighting(module, LOSSES, steps=100)
    assert torch.isclose(weights.sum(), torch.tensor(3.0))
    assert weights.argmax() == LOSSES.argmin()


@pytest.mark.parametrize("constraint, revives", [("log_barrier", True), ("none", False)])
def test_lwf_dead_relu_revived_only_by_the_barrier(constraint, revives):
    module = LWF(constraint=constraint)
    with torch.no_grad():
        module.mlp[-1].weight.fill_(-0.1)  # every output below 0: all weights at EPS
    module(as_dict(LOSSES))
    assert torch.allclose(module.current_weights(), torch.full((3,), module.eps))
    weights = train_weighting(module, LOSSES, steps=50)
    assert bool((weights > 0.05).all()) == revives


# ----------------------------------------------------------------------------------- baselines
def test_fixed_weights_from_config_and_not_in_checkpoint():
    cfg = config("Fixed")
    cfg.MODEL.LOSS_WEIGHTING.FIXED.WEIGHTS = [1.0, 2.0, 0.5]
    module = build_loss_weighting(cfg)
    terms = module(as_dict([1.0, 1.0, 4.0]))
    assert [float(terms[k]) for k in TASK_LOSS_KEYS] == [1.0, 2.0, 2.0]
    assert list(module.parameters()) == [] and module.state_dict() == {}


def test_uncertainty_gradient_vanishes_at_log_loss():
    module = Uncertainty(init_log_vars=LOSSES.log().tolist())
    terms = module(as_dict(LOSSES))
    assert set(terms) == set(TASK_LOSS_KEYS) | {"loss_uncertainty_reg"}
    sum(terms.values()).backward()
    assert torch.allclose(module.log_vars.grad, torch.zeros(3), atol=1e-6)
    assert torch.allclose(module.current_weights(), 0.5 / LOSSES)
    assert torch.isclose(terms["loss_uncertainty_reg"], 0.5 * LOSSES.log().sum())


def feed_dwa(module, steps, start=0):
    """Losses where cls stays flat, reg halves every window and reid falls slowly."""
    history = []
    for t in range(start, start + steps):
        window = t // module.window
        module(as_dict([1.0, 4.0 * 0.5**window, 4.0 * 0.9**window]))
        history.append(module.current_weights())
    return torch.stack(history)


def test_dwa_weights_follow_the_loss_ratios():
    module = DWA(window=5, temperature=2.0)
    history = feed_dwa(module, 16)
    assert torch.equal(history[:9], torch.ones(9, 3))  # the first two windows
    weights = history[-1]
    assert torch.isclose(weights.sum(), torch.tensor(3.0))
    assert weights[0] > weights[2] > weights[1]  # the flat loss gets most, the fastest the least
    ratios = torch.tensor([1.0, 0.5, 0.9])
    assert torch.allclose(weights, 3 * torch.softmax(ratios / 2.0, dim=0))


def test_dwa_state_survives_reload():
    module = DWA(window=5)
    feed_dwa(module, 13)
    assert {"window_iters", "window_sum", "window_means", "num_windows", "weights"} <= set(
        module.state_dict()
    )
    assert list(module.parameters()) == []
    resumed = DWA(window=5)
    resumed.load_state_dict(module.state_dict())
    assert torch.equal(feed_dwa(module, 12, start=13), feed_dwa(resumed, 12, start=13))


def test_dwa_history_not_updated_in_eval():
    module = DWA(window=1).eval()
    feed_dwa(module, 5)
    assert int(module.num_windows) == 0


def test_gradnorm_moves_only_its_weights_and_balances_gradients():
    toy = SharedToy()
    module = GradNorm(alpha=1.5)
    terms = module(toy(), shared_parameters=[toy.shared.weight])
    terms["loss_gradnorm"].backward(retain_graph=True)
    assert toy.shared.weight.grad is None and all(p.grad is None for p in toy.heads.parameters())
    assert module.logits.grad is not None
    module.logits.grad = None
    sum(terms[k] for k in TASK_LOSS_KEYS).backward()
    assert module.logits.grad is None and toy.shared.weight.grad is not None

    optimizer = torch.optim.Adam(module.parameters(), lr=0.05)
    for _ in range(100):
        terms = module(toy(), shared_parameters=[toy.shared.weight])
        optimizer.zero_grad()
        terms["loss_gradnorm"].backward()
        optimizer.step()
    weights = module.current_weights()
    assert torch.isclose(weights.sum(), torch.tensor(3.0)) and (weights > 0).all()
    assert weights[0] > weights[1] > weights[2]  # the largest gradient norm gets the least weight


def test_gradnorm_needs_shared_parameters():
    with pytest.raises(ValueError, match="shared_parameters"):
        GradNorm()(as_dict([1.0, 1.0, 1.0]))


# ----------------------------------------------------------------------------------- resume
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip(name):
    cfg = config(name)
    cfg.MODEL.LOSS_WEIGHTING.DWA.WINDOW = 2
    toy = SharedToy()
    module = build_loss_weighting(cfg)
    params = list(module.parameters())  # Fixed and DWA learn nothing
    optimizer = torch.optim.Adam(params, lr=0.05) if params else None
    for _ in range(6):
        terms = module(toy(), shared_parameters=[toy.shared.weight])
        if optimizer is not None:
            optimizer.zero_grad()
            sum(terms.values()).backward()
            optimizer.step()
    torch.manual_seed(1)  # the fresh module must not match by its own initialisation
    fresh = build_loss_weighting(cfg)
    fresh.load_state_dict(module.state_dict())
    assert torch.equal(fresh.current_weights(), module.current_weights())
    losses = toy()
    expected = module(losses, shared_parameters=[toy.shared.weight])
    actual = fresh(losses, shared_parameters=[toy.shared.weight])
    assert expected.keys() == actual.keys()
    for key in expected:
        assert torch.allclose(expected[key], actual[key]), key
    assert torch.equal(fresh.current_weights(), module.current_weights())
    assert not module.current_weights().requires_grad
