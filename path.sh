# Kaldi habit: `. ./path.sh` activates the project's virtual environment.
_emotts_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
if [ -f "$_emotts_root/.venv/bin/activate" ]; then
  # shellcheck disable=SC1091
  . "$_emotts_root/.venv/bin/activate"
else
  echo "path.sh: no .venv in $_emotts_root; run 'make setup' first" >&2
fi
export PYTHONPATH="$_emotts_root${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
export PYTHONUNBUFFERED=1
unset _emotts_root
