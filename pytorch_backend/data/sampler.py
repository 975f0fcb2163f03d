"""Length-bucketed batches bounded by padded frames.

Utterances are sorted by length (ties broken randomly per epoch) and packed greedily so
that ``batch_size * longest_in_batch <= batch_frames`` and ``batch_size <= max_batch_size``;
the order of the batches is shuffled with a generator seeded by ``(seed, epoch)``. Batches
of similar lengths waste little compute on padding, which matters for an autoregressive
decoder whose cost grows with the longest utterance of the batch.

:class:`DistributedBucketBatchSampler` serves data-parallel training: every rank builds the
same global batches (same seed and epoch) and takes a disjoint share of each, so N ranks
together train on exactly the batches one process would.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger("emotts.data")


def pack_batches(order: list[int], lengths: list[int], batch_frames: int, max_batch_size: int) -> list[list[int]]:
    """Greedily cut ``order`` into consecutive batches within the frame and size bounds.
    An utterance longer than ``batch_frames`` gets a batch of its own."""
    batches: list[list[int]] = []
    cur: list[int] = []
    longest = 0
    for idx in order:
        new_longest = max(longest, lengths[idx])
        if cur and ((len(cur) + 1) * new_longest > batch_frames or len(cur) >= max_batch_size):
            batches.append(cur)
            cur, new_longest = [], lengths[idx]
        cur.append(idx)
        longest = new_longest
    if cur:
        batches.append(cur)
    return batches


def padding_fraction(batches: list[list[int]], lengths: list[int]) -> float:
    """Share of the padded frames (batch size x longest) that are padding."""
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    real = sum(lengths[i] for b in batches for i in b)
    return 1.0 - real / padded if padded else 0.0


def random_batches(lengths: list[int], batch_frames: int, max_batch_size: int, seed: int = 0) -> list[list[int]]:
    """Baseline: the same frame-bounded packing over a random order (no bucketing)."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(lengths), generator=g).tolist()
    return pack_batches(order, lengths, batch_frames, max_batch_size)


class BucketBatchSampler:
    """Yields lists of dataset indices; deterministic given ``(seed, epoch)``.

    ``set_epoch(epoch, start=k)`` makes the next iteration skip the first ``k`` batches of
    that epoch (resuming mid-epoch from a checkpoint).
    """

    def __init__(self, lengths: list[int], batch_frames: int, max_batch_size: int = 64, seed: int = 1,
                 shuffle: bool = True):
        if batch_frames <= 0 or max_batch_size <= 0:
            raise ValueError("batch_frames and max_batch_size must be positive")
        self.lengths = [int(x) for x in lengths]
        self.batch_frames = int(batch_frames)
        self.max_batch_size = int(max_batch_size)
        self.seed = int(seed)
        self.shuffle = shuffle
        self.epoch = 0
        self.start = 0
        too_long = sum(1 for x in self.lengths if x > self.batch_frames)
        if too_long:
            log.warning("%d utterance(s) longer than batch_frames=%d get a batch of their own",
                        too_long, self.batch_frames)

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch = int(epoch)
        self.start = int(start)

    def batches(self, epoch: int | None = None) -> list[list[int]]:
        """All batches of an epoch, in the order they are yielded."""
        epoch = self.epoch if epoch is None else epoch
        g = torch.Generator().manual_seed(self.seed * 100003 + epoch)
        if self.shuffle:
            ties = torch.randperm(len(self.lengths), generator=g).tolist()
        else:
            ties = list(range(len(self.lengths)))
        order = sorted(range(len(self.lengths)), key=lambda i: (self.lengths[i], ties[i]))
        batches = pack_batches(order, self.lengths, self.batch_frames, self.max_batch_size)
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
        return batches

    def padding_fraction(self, epoch: int | None = None) -> float:
        return padding_fraction(self.batches(epoch), self.lengths)

    def __iter__(self):
        batches = self.batches()
        start, self.start = self.start, 0
        yield from batches[start:]

    def __len__(self) -> int:
        return len(self.batches())


class Shard(list):
    """One rank's share of a global batch (a list of dataset indices).

    ``global_size`` is the size of the whole batch; ``count`` the number of real items of
    this share: 0 for a filler share (a batch smaller than the number of ranks leaves some
    ranks without an utterance; they run one with zero loss weight so that every rank takes
    part in the gradient all-reduce).
    """

    def __init__(self, indices, global_size: int, count: int | None = None):
        super().__init__(indices)
        self.global_size = int(global_size)
        self.count = len(self) if count is None else int(count)

    @property
    def weight(self) -> float:
        """This share's fraction of the global batch (what its loss is weighted by)."""
        return self.count / self.global_size if self.global_size else 0.0


def shard(batch: list[int], rank: int, world_size: int) -> Shard:
    """Rank ``rank``'s share of ``batch``: every ``world_size``-th item from position ``rank``.

    Batches are length-sorted, so the strided split gives each rank similar lengths. An
    empty share becomes a filler (the batch's first item, ``count`` 0).
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} outside a world of {world_size}")
    part = batch[rank::world_size]
    if not part:
        return Shard(batch[:1], len(batch), count=0)
    return Shard(part, len(batch))


class DistributedBucketBatchSampler(BucketBatchSampler):
    """The global batches of :class:`BucketBatchSampler`, yielding this rank's :class:`Shard`.

    The global batch composition and order do not depend on the number of ranks;
    ``set_epoch(epoch, start)`` counts global batches, so a checkpoint written by any world
    size resumes at the same place.
    """

    def __init__(self, lengths: list[int], batch_frames: int, max_batch_size: int = 64, seed: int = 1,
                 shuffle: bool = True, rank: int = 0, world_size: int = 1):
        super().__init__(lengths, batch_frames, max_batch_size, seed, shuffle)
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside a world of {world_size}")
        self.rank = int(rank)
        self.world_size = int(world_size)

    def __iter__(self):
        for batch in super().__iter__():
            yield shard(batch, self.rank, self.world_size)
