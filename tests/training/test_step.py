import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.losses import term_losses, weighted_sum
from pinnbalance.nn import mlp_for
from pinnbalance.problems import klein_gordon, sample_batch
from pinnbalance.training.step import combine, per_term_grads, run_steps


def setup():
    problem = klein_gordon(batch_size=16)
    net = mlp_for(problem.domain, (8, 8))
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    batch = sample_batch(problem, jax.random.PRNGKey(1), jnp.float64)
    return problem, net, params, batch


def test_per_term_grads_equal_separate_gradients():
    problem, net, params, batch = setup()
    loss_fn = lambda p: term_losses(problem, net, p, batch)
    fns = {n: (lambda p, n=n: loss_fn(p)[n]) for n in problem.term_names}
    losses, grads = per_term_grads(fns, params)
    for name in problem.term_names:
        np.testing.assert_allclose(losses[name], loss_fn(params)[name], rtol=1e-14)
        want = jax.grad(lambda p: loss_fn(p)[name])(params)
        for a, b in zip(jax.tree_util.tree_leaves(grads[name]), jax.tree_util.tree_leaves(want)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_reused_gradients_equal_the_weighted_loss_gradient():
    """Update steps combine per-term gradients instead of a second backward pass."""
    problem, net, params, batch = setup()
    loss_fn = lambda p: term_losses(problem, net, p, batch)
    weights = {"res": 1.0, "ics": 37.0, "bcs": 250.0}
    _, grads = per_term_grads({n: (lambda p, n=n: loss_fn(p)[n]) for n in problem.term_names}, params)
    want = jax.grad(lambda p: weighted_sum(loss_fn(p), weights))(params)
    for a, b in zip(jax.tree_util.tree_leaves(combine(grads, weights)), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_static_schedule_updates_exactly_on_multiples_of_the_period():
    def make(update):
        def step(s):
            i, mask = s
            return (i + 1, mask.at[i].set(update)), None

        return step

    for n, offset in [(37, 3), (10, 0), (1, 0), (25, 10), (9, 1)]:
        state = (jnp.array(offset), jnp.zeros(100, jnp.int32))
        end, mask = run_steps(make(0), make(1), 10, state, n, offset=offset)
        assert int(end) == offset + n
        mask = np.asarray(mask)
        want = [i for i in range(offset, offset + n) if i % 10 == 0]
        assert list(np.flatnonzero(mask)) == want, (n, offset)
