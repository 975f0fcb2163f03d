"""BucketBatchSampler: frame bound, coverage, determinism, resume position, padding."""

import numpy as np
import pytest

from pytorch_backend.data.sampler import BucketBatchSampler, pack_batches, padding_fraction, random_batches


def realistic_lengths(n=600, seed=0):
    """Utterance lengths like espeak_emo's: a mix of emotions with different speaking rates."""
    rng = np.random.default_rng(seed)
    rates = rng.choice([0.75, 0.9, 1.0, 1.3, 1.5], size=n)
    return [int(x) for x in rng.normal(180, 35, size=n).clip(80, 320) / rates * 0.9]


def test_no_batch_exceeds_the_frame_or_size_bound():
    lengths = realistic_lengths()
    sampler = BucketBatchSampler(lengths, batch_frames=3000, max_batch_size=12, seed=1)
    batches = sampler.batches()
    assert batches
    for b in batches:
        assert len(b) * max(lengths[i] for i in b) <= 3000
        assert len(b) <= 12


def test_every_utterance_exactly_once_per_epoch():
    lengths = realistic_lengths()
    sampler = BucketBatchSampler(lengths, batch_frames=4000, seed=3)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        seen = [i for b in sampler for i in b]
        assert sorted(seen) == list(range(len(lengths)))


def test_deterministic_given_seed_and_epoch():
    lengths = realistic_lengths()
    a = BucketBatchSampler(lengths, 4000, seed=5)
    b = BucketBatchSampler(lengths, 4000, seed=5)
    a.set_epoch(2)
    b.set_epoch(2)
    assert list(a) == list(b)
    assert a.batches(0) != a.batches(1)  # a new order every epoch
    assert BucketBatchSampler(lengths, 4000, seed=6).batches(0) != a.batches(0)


def test_no_shuffle_gives_length_sorted_batches():
    lengths = realistic_lengths(100)
    batches = BucketBatchSampler(lengths, 2000, seed=1, shuffle=False).batches()
    maxima = [max(lengths[i] for i in b) for b in batches]
    assert maxima == sorted(maxima)


def test_set_epoch_start_skips_consumed_batches_once():
    lengths = realistic_lengths(200)
    sampler = BucketBatchSampler(lengths, 3000, seed=1)
    full = sampler.batches(4)
    sampler.set_epoch(4, start=3)
    assert list(sampler) == full[3:]
    assert list(sampler) == full  # the skip applies to one iteration only
    assert len(sampler) == len(full)


def test_padding_fraction_lower_than_random_batching():
    lengths = realistic_lengths(800)
    sampler = BucketBatchSampler(lengths, 4000, 64, seed=1)
    bucketed = sampler.padding_fraction()
    rand = padding_fraction(random_batches(lengths, 4000, 64, seed=1), lengths)
    assert bucketed < 0.05
    assert rand > 3 * bucketed


def test_too_long_utterance_gets_its_own_batch(caplog):
    lengths = [10, 500, 12, 11]
    sampler = BucketBatchSampler(lengths, 100, seed=1)
    assert "longer than batch_frames" in caplog.text
    batches = sampler.batches()
    assert [1] in batches
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3]


def test_pack_batches_greedy_and_padding_fraction_formula():
    lengths = [10, 10, 20, 20]
    assert pack_batches([0, 1, 2, 3], lengths, 40, 10) == [[0, 1], [2, 3]]
    assert padding_fraction([[0, 2]], lengths) == pytest.approx(1 - 30 / 40)


def test_invalid_bounds_rejected():
    with pytest.raises(ValueError):
        BucketBatchSampler([1, 2], batch_frames=0)
