"""emotts: the importable library behind the recipe steps."""
