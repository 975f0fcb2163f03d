"""The attention constraint of autoregressive decoding (tts/attention.py window_mask): each step
attends only near the previous step's peak, in one-at-a-time and batched decoding alike."""

import math

import pytest
import torch

from pytorch_backend.tts.attention import window_mask
from test_synth_batch import LENGTHS, inputs, tiny

torch.set_num_threads(1)


def test_window_follows_the_previous_peak_and_the_real_tokens():
    prev = torch.tensor([[0.0, 0.1, 0.7, 0.2, 0.0, 0.0], [0.0] * 6, [0.0, 0.0, 0.0, 0.1, 0.9, 0.0]])
    mask = torch.tensor([[True] * 6, [True] * 6, [True] * 5 + [False]])
    got = window_mask(prev, mask, 1, 2)
    assert got.tolist() == [[False, True, True, True, True, False],  # peak 2: tokens 1..4
                            [True, True, True, False, False, False],  # before the first step: 0..2
                            [False, False, False, True, True, False]]  # peak 4: 3..6, 5 is padding
    with pytest.raises(ValueError, match=r"window must be >= 0.*\(-1, 2\)"):
        window_mask(prev, mask, -1, 2)


def peaks_stay_in_window(align: torch.Tensor, back: int, forward: int) -> bool:
    peaks = [0] + align.argmax(-1).tolist()
    return all(-back <= b - a <= forward for a, b in zip(peaks, peaks[1:]))


@pytest.mark.parametrize("name", ["tacotron2", "gst"])
def test_windowed_decoding_moves_at_most_the_window_and_batches_the_same(name):
    model = tiny(name, context_feedback=False, alignment="attention", duration_model=None)
    tokens, speakers, weights, styles = inputs(model, 3)
    seeds = [7 + i for i in range(len(LENGTHS))]
    free = model.inference_batch(tokens, speakers, weights, styles, threshold=1.1, maxlenratio=5.0, seeds=seeds)
    assert not all(peaks_stay_in_window(r["alignment"], 0, 1) for r in free), "untrained attention jumps"
    batch = model.inference_batch(tokens, speakers, weights, styles, threshold=1.1, maxlenratio=5.0, seeds=seeds,
                                  attention_window=[0, 1])
    for i, res in enumerate(batch):
        assert res["mel"].shape[0] == math.ceil(5.0 * LENGTHS[i] / model.r) * model.r
        assert peaks_stay_in_window(res["alignment"], 0, 1)
        # the weights outside the window are exactly zero
        peaks = [0] + res["alignment"].argmax(-1).tolist()
        pos = torch.arange(LENGTHS[i])
        for g, prev in enumerate(peaks[:-1]):
            outside = (pos < prev) | (pos > prev + 1)
            assert float(res["alignment"][g][outside].abs().sum()) == 0.0
        torch.manual_seed(seeds[i])
        one = model.inference(tokens[i], speaker=speakers[i], emotion_weights=None if weights is None else weights[i],
                              style=None if styles is None else styles[i], threshold=1.1, maxlenratio=5.0,
                              attention_window=(0, 1))
        assert torch.allclose(res["mel"], one["mel"], atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match=r"attention_window must be \[back, forward\]"):
        model.inference(tokens[0], speaker=0, emotion_weights=None if weights is None else weights[0],
                        style=None if styles is None else styles[0], attention_window=[3])


def test_window_mask_stays_on_the_weights_device():
    prev = torch.zeros(2, 5, device="meta")
    mask = torch.ones(2, 5, dtype=torch.bool, device="meta")
    got = window_mask(prev, mask, 1, 3)
    assert got.device.type == "meta" and got.shape == (2, 5) and got.dtype == torch.bool
