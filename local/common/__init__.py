"""Preparation code shared by the real-corpus recipes (local/<corpus>/).

A corpus package supplies ``SOURCE`` (where the corpus comes from, what its layout must hold) and
a ``collect(conf, root, drops)`` function that reads the corpus's own files and returns
:class:`local.common.items.Utterance` records; :func:`local.common.prepare.prepare_corpus` does the
rest: label map, audio normalization, Kaldi ids, split assignment, data dirs, drop report.
"""
