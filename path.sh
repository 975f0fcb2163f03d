# Kaldi habit: `. ./path.sh` (from the repository root) activates the project's virtual environment.
if [ -n "${BASH_VERSION:-}" ]; then
  eval '_emotts_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"'
else
  _emotts_root="$(pwd)"  # POSIX sh has no way to find a sourced file: sourced from the root
fi
if [ -f "$_emotts_root/.venv/bin/activate" ]; then
  . "$_emotts_root/.venv/bin/activate"
else
  echo "path.sh: no .venv in $_emotts_root; run 'make setup' first" >&2
  return 1 2>/dev/null || exit 1
fi
# bin/ first: its snakemake launcher accepts targets after --resources/--config/... (see bin/snakemake)
export PATH="$_emotts_root/bin:$PATH"
# no PYTHONPATH: `make setup` installs steps, local, pipeline and pytorch_backend into .venv (editable)
export MPLBACKEND=Agg
export PYTHONUNBUFFERED=1
unset _emotts_root
