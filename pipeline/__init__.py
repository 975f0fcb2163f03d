"""The workflow layer: what the Snakefile and its rule files need to know about the confs.

- :mod:`pipeline.paths`: every path of the DAG, defined once as a template;
- :mod:`pipeline.resolve`: an experiment's config resolved from the files under ``conf/``;
- :mod:`pipeline.lookup`: :class:`~pipeline.lookup.ConfLookup`, the confs of one Snakemake run, cached;
- :mod:`pipeline.slices`: :class:`~pipeline.slices.RuleSlices`, the config slice each rule depends on;
- :mod:`pipeline.rule_paths`: :class:`~pipeline.rule_paths.RulePaths`, the inputs and path arguments
  of rules that depend on the confs;
- :mod:`pipeline.launch`: how jobs start (environment, GPU slots, torchrun).

It sits between the entry points (``steps/``, ``local/``) and the library (``pytorch_backend``):
it imports the library's schemas and registries, never the entry points.
"""
